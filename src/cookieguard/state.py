"""What the guard decides and remembers: the consent of a request, verdicts, withdrawals.

Plain frozen dataclasses, re-exported by :mod:`cookieguard.guard`, where the
decisions are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeVar

from ._cache import BoundedCache, memoize
from .consent import Consent
from .registry import Cookie
from .setcookie import deletion

__all__ = ["RequestConsent", "RequestState", "Verdict", "Verdicts", "withdrawal_text"]

# Why a cookie passed or not; also what ``on_violation`` receives.
Reason = Literal[
    "consent-cookie", "required", "deletion", "granted", "unknown", "not-granted", "gpc"
]

# The verdicts remembered per consent, bounded in entries and bytes.
_TABLE_SIZE = 1024
_TABLE_BYTES = 128 * 1024
_MAX_CACHED_NAME = 256


@dataclass(frozen=True, slots=True)
class RequestConsent:
    """The consent that applies to one request; at ``environ/scope["cookieguard.consent"]``.

    ``allows`` gives the effective answer: true for required categories, false for
    everything else when the visitor has no valid consent for the registry's
    current revision, and with Global Privacy Control already applied.
    ``allows_service`` is true for a service whose category is allowed, or that
    the visitor granted one by one (a specific choice, which GPC does not undo).
    """

    allowed: frozenset[str]
    consent: Consent | None = None
    gpc: bool = False
    gpc_blocked: frozenset[str] = frozenset()
    # Every service allowed now: by its category, or granted one by one.
    services: frozenset[str] = frozenset()

    def allows(self, category: str) -> bool:
        return category in self.allowed

    def allows_service(self, name: str) -> bool:
        return name in self.services

    @property
    def has_consent(self) -> bool:
        """True when the visitor made a choice for the current revision (no banner needed)."""
        return self.consent is not None

    @property
    def consent_id(self) -> str | None:
        return self.consent.consent_id if self.consent is not None else None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on one cookie: whether the contract lets it pass, and why."""

    name: str
    category: str | None
    allowed: bool
    reason: Reason


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The verdicts for one consent: by cookie name, and by how a response spells it.

    A name is judged once per consent; after that, a ``Set-Cookie`` costs one
    dictionary lookup of the text before its first ``=``, as the response has it
    (``str`` for WSGI, ``bytes`` for ASGI, each in a table of its own so that
    ``"a"`` and ``b"a"`` are never compared).
    """

    names: BoundedCache[str, Verdict] = field(default_factory=lambda: _table())
    text: BoundedCache[str, Verdict] = field(default_factory=lambda: _table())
    raw: BoundedCache[bytes, Verdict] = field(default_factory=lambda: _table())


K = TypeVar("K", str, bytes)


def _table() -> BoundedCache[K, Verdict]:
    return BoundedCache(_TABLE_SIZE, _TABLE_BYTES, max_item_bytes=_MAX_CACHED_NAME + 128)


#: A cookie to withdraw: its name (UTF-8 read), its declaration, its name's bytes as text.
Withdrawal = tuple[str, Cookie, str]


@dataclass(frozen=True, slots=True)
class RequestState:
    """What the middleware learnt from a request: the consent and what to withdraw."""

    consent: RequestConsent
    # Cookies the request carries whose category is not allowed now, with their declaration.
    withdrawals: tuple[Withdrawal, ...] = ()
    # The guard's verdicts for this consent, found once for every response to the request.
    verdicts: Verdicts = field(default_factory=Verdicts, compare=False, repr=False)


def withdrawal_text(raw_name: str, declared: Cookie) -> str:
    """The deleting ``Set-Cookie`` of a withdrawal: the name's bytes, where the registry says."""
    prefix = "__Host-" if raw_name.startswith("__Host-") else ""
    if not prefix and raw_name.startswith("__Secure-"):
        prefix = "__Secure-"
    if raw_name.isascii():  # the attributes depend on the declaration and the prefix only
        return raw_name + _deletion_attributes(prefix, declared)
    return deletion(raw_name, path=declared.path, domain=declared.domain)


@memoize(1024, 512 * 1024)  # one per declaration: what follows the name in its deletion
def _deletion_attributes(prefix: str, declared: Cookie) -> str:
    return deletion(f"{prefix}x", path=declared.path, domain=declared.domain)[len(prefix) + 1 :]
