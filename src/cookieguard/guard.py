"""The framework-neutral core: one place decides whether a cookie passes.

:class:`Guard` holds a registry, a consent codec and the middleware's options.
The WSGI and ASGI adapters ask it what the visitor consented to
(:meth:`Guard.read_request`), which response headers may leave
(:func:`cookieguard.response.rewrite`, also :meth:`Guard.filter_headers`) and,
with ``clean_request``, which request cookies the application may see
(:meth:`Guard.clean_cookie_header`). All of them go through :meth:`Guard.decide`.
``Set-Cookie`` values are read by :mod:`cookieguard.setcookie` only, the
request's ``Cookie`` header by :mod:`cookieguard.cookieheader` only.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from . import cookieheader
from ._cache import BoundedCache
from .consent import Consent, ConsentCodec
from .cookieheader import Pair
from .csp import REPORT_PATH, Csp, validate_sources
from .options import GuardOptions, Options
from .registry import Cookie, Registry
from .setcookie import is_deletion, is_writable_name, set_cookie_name
from .state import (
    Reason,
    RequestConsent,
    RequestState,
    Verdict,
    Verdicts,
    Withdrawal,
    withdrawal_text,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .response import HeaderKind

__all__ = [
    "Guard",
    "GuardOptions",
    "Options",
    "RequestConsent",
    "RequestState",
    "Verdict",
    "is_deletion",
    "set_cookie_name",
    "withdrawal_text",
]

logger = logging.getLogger("cookieguard")

#: What ``secret_key`` may be: one key, or the current key followed by older ones.
SecretKey = str | bytes | Sequence[str | bytes]
_DEFAULTS = Options()
_HTTP_WS = " \t"
#: Deletions added to one response for cookies the request carries: a browser keeps
#: about 180 cookies per site, so a request carrying more was not sent by one.
MAX_WITHDRAWALS = 180
# Memories of pure answers, bounded in entries and bytes: what a client sends can
# fill them, never grow them (see docs/performance.md for the figures).
_STATES = 4096  # remembered request states, per GPC answer
_STATES_BYTES = 8 * 1024 * 1024
_MAX_CACHED_HEADER = 4096
_MAX_TABLES = 32  # verdict tables: one per combination of categories seen
_REPORTED = 10_000  # undeclared names reported once each
_REPORTED_BYTES = 1024 * 1024

H = TypeVar("H", str, bytes)
# What the verdicts for a consent depend on: allowed and GPC-blocked categories, allowed services.
_TableKey = tuple[frozenset[str], frozenset[str], frozenset[str]]


def parse_cookies(cookie_header: str) -> list[Pair]:
    """The pairs of a request's ``Cookie`` header (see :mod:`cookieguard.cookieheader`)."""
    return cookieheader.read(cookie_header)


def first_value(pairs: Iterable[Pair], name: str) -> str | None:
    """The (unquoted) value of the first pair called ``name``, as Werkzeug would give it."""
    for pair in pairs:
        if pair.name == name:
            return pair.unquoted
    return None


def is_gpc(header_value: str | None) -> bool:
    """True for a ``Sec-GPC: 1`` request header (Global Privacy Control)."""
    return header_value is not None and header_value.strip(_HTTP_WS) == "1"


# A remembered request state, with the span of time (seconds since the epoch) it holds for.
_Remembered = tuple[RequestState, float, float]


def _state_size(key: str, remembered: _Remembered) -> int:
    return len(key) + 256 + sum(96 + 2 * len(w[0]) for w in remembered[0].withdrawals)


class Guard:
    """The registry, the codec and the options; one instance per middleware.

    A plain object: ``__init__`` sets its attributes once, from the
    :class:`~cookieguard.options.Options`, and nothing writes them afterwards;
    what changes as it works are its caches (the request states and verdicts it
    remembers, the undeclared names it reported), each a bounded
    :class:`~cookieguard._cache.BoundedCache`.
    """

    __slots__ = (
        "_always_report",
        "_cookieless",
        "_gpc_categories",
        "_no_consent",
        "_reported_unknown",
        "_states",
        "_vary",
        "_verdict_tables",
        "allowed_origins",
        "clean_request",
        "codec",
        "consent_path",
        "cookie_name",
        "csp",
        "honor_gpc",
        "on_violation",
        "options",
        "registry",
        "report_only",
        "secure",
        "unknown",
    )

    options: Options
    """The options it was built from, as given."""
    registry: Registry
    """The registry, with the consent cookie declared necessary under its name."""
    codec: ConsentCodec
    """Signs and verifies the consent cookie (``secret_key``, ``max_age``)."""
    consent_path: str
    """``consent_path`` without a trailing ``/`` (``/`` stays ``/``)."""
    allowed_origins: frozenset[str]
    """``allowed_origins``, each without a trailing ``/`` and in lower case."""
    csp: Csp | None
    """The policy added to HTML responses (:mod:`cookieguard.csp`); None with ``csp="off"``."""

    def __init__(
        self,
        registry: Registry,
        secret_key: SecretKey,
        options: Options = _DEFAULTS,
    ) -> None:
        if not isinstance(registry, Registry):
            raise TypeError(f"registry must be a cookieguard.Registry, got {registry!r}")
        self.options = options
        self.registry = registry.with_consent_cookie(options.cookie_name)
        self.codec = ConsentCodec(secret_key, max_age=options.max_age)
        path = options.consent_path.rstrip("/") or "/"
        self.consent_path = path
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in options.allowed_origins)
        self.csp = None
        if options.csp != "off":
            self.csp = Csp(
                options.csp,
                f"{path.rstrip('/')}/{REPORT_PATH}",
                validate_sources(options.csp_sources),
                registry.services,
                options.on_csp_violation,
                registry.required_categories,
            )
        # The options read on every request, each one attribute lookup away.
        self.cookie_name = options.cookie_name
        self.unknown = options.unknown
        self.report_only = options.report_only
        self.honor_gpc = options.honor_gpc
        self.clean_request = options.clean_request
        self.secure = options.secure
        self.on_violation = options.on_violation
        # A removal reaches more than logger.debug: report_only logs it, on_violation hears it.
        self._always_report = self.report_only or self.on_violation is not None
        # The caches. Undeclared names reported once each:
        self._reported_unknown: BoundedCache[str, bool] = BoundedCache(_REPORTED, _REPORTED_BYTES)
        # Without and with GPC: Cookie header -> (its state, the time span the state holds for).
        self._states = (_state_cache(), _state_cache())
        # (allowed, GPC-blocked categories, allowed services) -> the verdicts for that consent.
        self._verdict_tables: BoundedCache[_TableKey, Verdicts] = BoundedCache(_MAX_TABLES, 1 << 40)
        required = self.registry.required_categories
        # Services of a required category are allowed without any consent, as their category.
        required_services = frozenset(
            s.name for s in self.registry.services if s.category in required
        )
        self._no_consent = RequestConsent(required, services=required_services)
        gpc = frozenset(
            c.name for c in self.registry.categories if c.gpc_opt_out and not c.required
        )
        self._gpc_categories = gpc if self.honor_gpc else frozenset()
        # The state of a request without cookies, without and with Sec-GPC: no allocation.
        self._cookieless = (
            self.state_for(self._no_consent, ()),
            self.state_for(self.consent_from(None, True), ()),
        )
        self._vary = self._vary_to_add([])  # what to add when the response has no Vary

    @classmethod
    def create(
        cls, *, registry: Registry, secret_key: SecretKey, **options: Unpack[GuardOptions]
    ) -> Guard:
        """Validate the middleware options once, at start-up, and build the guard.

        ``options`` are the fields of :class:`~cookieguard.options.Options`, by
        keyword: what each means and its default are documented there.
        """
        return cls(registry, secret_key, Options(**options))

    def __repr__(self) -> str:
        return f"Guard(registry={self.registry!r}, options={self.options!r})"

    # -- the request -----------------------------------------------------------

    def consent_from(self, consent: Consent | None, gpc: bool) -> RequestConsent:
        """The effective consent for a decoded (or absent) consent and the GPC signal."""
        registry = self.registry
        if consent is not None and consent.revision != registry.revision:
            consent = None  # given for an older policy: ask again
        if consent is None and not gpc:
            return self._no_consent
        allowed = registry.required_categories
        if consent is not None:
            allowed = allowed | {c for c in consent.granted if registry.has_category(c)}
        blocked = allowed & self._gpc_categories if gpc else frozenset()
        allowed = allowed - blocked
        services: frozenset[str] = frozenset()
        if registry.services:
            services = frozenset(
                s.name
                for s in registry.services
                if s.category in allowed or (consent is not None and s.name in consent.services)
            )
        return RequestConsent(allowed, consent, gpc, blocked, services)

    def read_request(self, cookie_header: str | None, gpc_header: str | None) -> RequestState:
        """Decode the consent cookie and list the cookies to withdraw, from raw headers."""
        gpc = gpc_header is not None and is_gpc(gpc_header)
        if not cookie_header:
            return self._cookieless[gpc]
        # A browser sends the same Cookie header request after request: read it once,
        # and reuse what it gave while the consent in it is valid. The consent's
        # validity is checked on every request, as the codec would check it.
        states = self._states[gpc]
        remembered = states.get(cookie_header)
        if remembered is not None:
            state, valid_from, valid_until = remembered
            if valid_from <= time.time() <= valid_until:
                return state
        pairs = cookieheader.read(cookie_header)
        value = first_value(pairs, self.cookie_name)
        decoded = self.codec.loads(value)
        state = self.state_for(self.consent_from(decoded, gpc), pairs)
        if len(cookie_header) <= _MAX_CACHED_HEADER:
            if decoded is not None:
                signed_at = decoded.given_at.timestamp()
                states.put(cookie_header, (state, signed_at, signed_at + self.codec.max_age))
            elif value is None:
                states.put(cookie_header, (state, -math.inf, math.inf))
            # A consent value that fails is read again next time: one signed by a
            # server whose clock runs ahead becomes valid in a moment.
        return state

    def state_for(self, consent: RequestConsent, pairs: Iterable[Pair]) -> RequestState:
        """The request state for ``consent`` when the request carries the cookies ``pairs``.

        Every cookie of a category not allowed now is withdrawn (rule 6), its name
        written byte for byte, whatever its spelling, up to :data:`MAX_WITHDRAWALS`.
        """
        withdrawals: dict[str, Withdrawal] = {}
        verdicts = self.verdicts_for(consent)
        table = verdicts.names
        for pair in pairs:
            if pair.raw in withdrawals:
                continue
            # Not remembered: these names come once per Cookie header, whose state is.
            name = pair.name
            verdict = table.get(name)
            declared = None
            if verdict is None:
                declared = self.registry.lookup(name)
                verdict = self._decide(name, consent, declared)
            if verdict.allowed or verdict.category is None or not is_writable_name(pair.raw):
                continue
            if declared is None:
                declared = self.registry.lookup(name)
            if declared is not None:
                withdrawals[pair.raw] = (pair.name, declared, pair.raw)
                if len(withdrawals) >= MAX_WITHDRAWALS:
                    break
        return RequestState(consent, tuple(withdrawals.values()), verdicts)

    def clean_cookie_header(self, cookie_header: str, consent: RequestConsent) -> str:
        """The request's ``Cookie`` header without the cookies the response could not set now.

        Rebuilt from the pairs :mod:`cookieguard.cookieheader` reads unambiguously:
        a pair another parser could split or strip differently is dropped, whatever
        its name (fail closed), as is everything after
        :data:`~cookieguard.cookieheader.MAX_COOKIES` pairs.
        """
        if self.report_only:
            return cookie_header
        return "; ".join(
            f"{pair.raw}={pair.value}"
            for pair in cookieheader.read(cookie_header)
            if pair.clean and self.decide(pair.name, consent).allowed
        )

    # -- the decision ----------------------------------------------------------

    def decide(self, name: str, consent: RequestConsent) -> Verdict:
        """Whether a cookie called ``name`` may be set now: contract rules 2 to 5."""
        table = self.verdicts_for(consent).names
        verdict = table.get(name)
        if verdict is None:
            verdict = table.put(name, self._decide(name, consent))
        return verdict

    def verdicts_for(self, consent: RequestConsent) -> Verdicts:
        """The table of verdicts for ``consent``: they depend on nothing else."""
        key = (consent.allowed, consent.gpc_blocked, consent.services)
        verdicts = self._verdict_tables.get(key)
        if verdicts is None:
            verdicts = self._verdict_tables.put(key, Verdicts())
        return verdicts

    def _decide(
        self, name: str, consent: RequestConsent, declared: Cookie | None = None
    ) -> Verdict:
        if name == self.cookie_name:
            return Verdict(name, self.registry.consent_category, True, "consent-cookie")
        if declared is None and name:
            declared = self.registry.lookup(name)
        if declared is None:
            return Verdict(name, None, self.unknown == "allow", "unknown")
        category = declared.category
        if consent.allows(category):
            reason: Reason = "required" if self.registry.is_required(category) else "granted"
            return Verdict(name, category, True, reason)
        if declared.service is not None and declared.service in consent.services:
            return Verdict(name, category, True, "granted")  # its service, granted one by one
        return Verdict(
            name, category, False, "gpc" if category in consent.gpc_blocked else "not-granted"
        )

    # -- the response ----------------------------------------------------------

    def filter_headers(
        self, headers: Sequence[tuple[H, H]], state: RequestState, kind: HeaderKind[H]
    ) -> list[tuple[H, H]] | None:
        """The response headers to send, or None when they pass unchanged.

        See :func:`cookieguard.response.rewrite`, which this calls.
        """
        from .response import rewrite

        return rewrite(self, headers, state, kind)

    def _vary_to_add(self, existing: list[str]) -> str:
        present = {t.strip(_HTTP_WS).lower() for v in existing for t in v.split(",")}
        if "*" in present:
            return ""
        wanted = ["Cookie", "Sec-GPC"] if self._gpc_categories else ["Cookie"]
        return ", ".join(t for t in wanted if t.lower() not in present)

    def _report(self, verdict: Verdict) -> None:
        if verdict.category is None:
            reported = self._reported_unknown
            if verdict.name not in reported:
                reported.put(verdict.name, True)
                logger.warning(
                    "undeclared cookie %r set by the application (%s); declare it in the registry",
                    verdict.name,
                    "kept: unknown='allow'" if verdict.allowed else "removed",
                )
        elif self.report_only:
            logger.info(
                "report-only: would remove cookie %r (category %r, %s)",
                verdict.name,
                verdict.category,
                verdict.reason,
            )
        else:
            logger.debug(
                "removed cookie %r (category %r, %s)",
                verdict.name,
                verdict.category,
                verdict.reason,
            )
        if self.on_violation is not None and not verdict.allowed:
            try:
                self.on_violation(verdict)
            except Exception:  # a reporting hook must never break the response
                logger.exception("on_violation callback failed for cookie %r", verdict.name)


def _state_cache() -> BoundedCache[str, _Remembered]:
    return BoundedCache(_STATES, _STATES_BYTES, max_item_bytes=64 * 1024, size=_state_size)
