"""The framework-neutral core: one place decides whether a cookie passes.

:class:`Guard` holds a registry, a consent codec and the middleware's options.
The WSGI and ASGI adapters ask it three things, each a plain function of its
inputs: what the visitor consented to (:meth:`Guard.read_request`), which
``Set-Cookie`` headers of a response may pass (:meth:`Guard.filter_headers`),
and, with ``clean_request``, which request cookies the application may see
(:meth:`Guard.clean_cookie_header`). All three go through :meth:`Guard.decide`.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import methodcaller
from typing import Generic, Literal, TypedDict, TypeVar

from werkzeug.datastructures import MultiDict
from werkzeug.http import dump_cookie, parse_cookie, parse_date
from werkzeug.sansio.http import parse_cookie as parse_cookie_text

from .consent import DEFAULT_MAX_AGE, Consent, ConsentCodec
from .registry import DEFAULT_CONSENT_COOKIE, Cookie, Registry

__all__ = [
    "Guard",
    "GuardOptions",
    "RequestConsent",
    "RequestState",
    "Verdict",
    "is_deletion",
    "set_cookie_name",
]

logger = logging.getLogger("cookieguard")

Unknown = Literal["strip", "allow"]
# Why a cookie passed or not; also what ``on_violation`` receives.
Reason = Literal[
    "consent-cookie", "required", "deletion", "granted", "unknown", "not-granted", "gpc"
]

# A cookie-name is an RFC 9110 token; we only ever write deletions for such names.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HTTP_WS = " \t"
# The attributes that can make a Set-Cookie a deletion (RFC 6265bis 5.7: an attribute is
# what follows a ";", its name runs to the first "=", both trimmed of spaces and tabs).
_EXPIRY_ATTRIBUTE = re.compile(r";[ \t]*(max-age|expires)[ \t]*=([^;]*)", re.ASCII | re.I)
# Report each undeclared name once, but do not let a misbehaving app grow the set forever.
_MAX_REPORTED_UNKNOWN = 10_000
# Per-guard memories of pure answers (see read_request and decide), bounded: what a
# client sends can fill them, never grow them.
_CACHE_SIZE = 4096
_MAX_CACHED_HEADER = 4096
_MAX_CACHED_ATTRIBUTES = 512
# Verdict tables: one per combination of categories seen, each with a bounded list of names.
_MAX_TABLES = 64
_TABLE_SIZE = 512


# Header text as an adapter has it: str (WSGI) or bytes (ASGI).
H = TypeVar("H", str, bytes)


def set_cookie_name(header_value: str) -> str:
    """The cookie name of a ``Set-Cookie`` value, as RFC 6265bis (5.7) reads it.

    The name-value pair runs up to the first ``;``; without ``=`` the name is
    empty; otherwise it is the text before the first ``=``, with spaces and tabs
    (and nothing else) stripped. Names are compared case-sensitively.
    """
    spelled, eq, _ = header_value.partition("=")
    return _name_as_spelled(spelled, ";", _HTTP_WS) if eq else ""


def _name_as_spelled(spelled: H, semicolon: H, whitespace: H) -> H:
    """The cookie name of a ``Set-Cookie`` whose text before the first ``=`` is ``spelled``.

    That text trimmed of spaces and tabs, unless a ``;`` comes first: then the
    name-value pair has no ``=``, and the name is empty.
    """
    return spelled[:0] if semicolon in spelled else spelled.strip(whitespace)


def parse_cookies(cookie_header: str) -> MultiDict[str, str]:
    """The cookies of a request's ``Cookie`` header (a latin-1 string, as WSGI has it).

    Werkzeug's ``parse_cookie`` reads the header as UTF-8 and raises on other
    bytes; such a header is read as it comes instead, so it is never an error.
    """
    try:
        return parse_cookie(cookie_header)
    except UnicodeError:
        return parse_cookie_text(cookie_header)


def is_gpc(header_value: str | None) -> bool:
    """True for a ``Sec-GPC: 1`` request header (Global Privacy Control)."""
    return header_value is not None and header_value.strip(_HTTP_WS) == "1"


def is_deletion(header_value: str, now: float | None = None) -> bool:
    """True when a ``Set-Cookie`` value deletes its cookie.

    That is a ``Max-Age`` of zero or less or, with no valid ``Max-Age``, an
    ``Expires`` date in the past. ``Max-Age`` wins, and the last valid
    occurrence of an attribute wins, as in RFC 6265.
    """
    by_max_age, dates = _expiry_attributes(header_value)
    if by_max_age is not None:
        return by_max_age
    return _expired(dates, time.time() if now is None else now)


def _expiry_attributes(header_value: str) -> tuple[bool | None, list[str]]:
    """What the last valid ``Max-Age`` says (None: there is none), and the ``Expires`` values.

    Dates are only collected here: parsing them is slow, and needed only when no
    ``Max-Age`` decides.
    """
    by_max_age: bool | None = None
    dates: list[str] = []
    for key, value in _EXPIRY_ATTRIBUTE.findall(header_value):
        value = value.strip(_HTTP_WS)
        if key[0] in "mM":  # Max-Age, not Expires
            digits = value[1:] if value.startswith("-") else value
            if digits.isascii() and digits.isdigit():
                by_max_age = value.startswith("-") or not digits.strip("0")
        else:
            dates.append(value)
    return by_max_age, dates


def _expired(dates: list[str], now: float) -> bool:
    """True when the last valid date of ``dates`` is not after ``now``."""
    for value in reversed(dates):
        date = parse_date(value)
        if date is not None:
            return date.timestamp() <= now
    return False


@dataclass(frozen=True, slots=True)
class RequestConsent:
    """The consent that applies to one request; at ``environ/scope["cookieguard.consent"]``.

    ``allows`` gives the effective answer: true for required categories, false for
    everything else when the visitor has no valid consent for the registry's
    current revision, and with Global Privacy Control already applied.
    """

    allowed: frozenset[str]
    consent: Consent | None = None
    gpc: bool = False
    gpc_blocked: frozenset[str] = frozenset()

    def allows(self, category: str) -> bool:
        return category in self.allowed

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

    names: dict[str, Verdict] = field(default_factory=dict)
    text: dict[str, Verdict] = field(default_factory=dict)
    raw: dict[bytes, Verdict] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RequestState:
    """What the middleware learnt from a request: the consent and what to withdraw."""

    consent: RequestConsent
    # Cookies the request carries whose category is not allowed now, with their declaration.
    withdrawals: tuple[tuple[str, Cookie], ...] = ()
    # The guard's verdicts for this consent, found once for every response to the request.
    verdicts: Verdicts = field(default_factory=Verdicts, compare=False, repr=False)


# A remembered request state, with the span of time (seconds since the epoch) it holds for.
_Remembered = tuple[RequestState, float, float]


@dataclass(frozen=True, slots=True)
class HeaderKind(Generic[H]):
    """How an adapter spells headers: ``str`` pairs (WSGI) or ``bytes`` pairs (ASGI).

    ``set_cookie`` and ``vary`` are lower-case, to match names case-insensitively;
    headers the middleware adds are written as ``add_set_cookie`` / ``add_vary``.
    ``deletions`` remembers, by the attributes of a ``Set-Cookie`` (what follows
    its first ``;``), whether they make it a deletion, when no ``Expires`` date
    decides: an application writes the same attributes for a cookie response after
    response, whatever the value, and only a date makes the answer change with time.
    """

    set_cookie: H
    vary: H
    decode: Callable[[H], str]
    encode: Callable[[str], H]
    add_set_cookie: H
    add_vary: H
    semicolon: H
    equals: H
    whitespace: H
    table: Callable[[Verdicts], dict[H, Verdict]]
    deletions: dict[H, bool] = field(default_factory=dict, compare=False, repr=False)


def _text_table(verdicts: Verdicts) -> dict[str, Verdict]:
    return verdicts.text


def _raw_table(verdicts: Verdicts) -> dict[bytes, Verdict]:
    return verdicts.raw


TEXT_HEADERS: HeaderKind[str] = HeaderKind(
    "set-cookie", "vary", str, str, "Set-Cookie", "Vary", ";", "=", _HTTP_WS, _text_table
)
# ASGI asks for lower-case header names.
BYTES_HEADERS: HeaderKind[bytes] = HeaderKind(
    b"set-cookie",
    b"vary",
    methodcaller("decode", "latin-1"),
    lru_cache(maxsize=_CACHE_SIZE)(methodcaller("encode", "latin-1")),  # the same few values
    b"set-cookie",
    b"vary",
    b";",
    b"=",
    _HTTP_WS.encode(),
    _raw_table,
)


class GuardOptions(TypedDict, total=False):
    """The middleware options, as keyword arguments (see :meth:`Guard.create`).

    Typed so that ``Middleware(CookieGuardMiddleware, ...)`` and the adapters'
    constructors check every option name and value under mypy.
    """

    cookie_name: str
    max_age: int
    unknown: Unknown
    report_only: bool
    honor_gpc: bool
    clean_request: bool
    consent_path: str
    allowed_origins: Iterable[str]
    secure: bool | None
    on_violation: Callable[[Verdict], object] | None


@dataclass(frozen=True, eq=False)
class Guard:
    """The registry, the codec and the options; one instance per middleware."""

    registry: Registry
    codec: ConsentCodec
    cookie_name: str = DEFAULT_CONSENT_COOKIE
    unknown: Unknown = "strip"
    report_only: bool = False
    honor_gpc: bool = True
    clean_request: bool = False
    consent_path: str = "/cookieguard/consent"
    allowed_origins: frozenset[str] = frozenset()
    secure: bool | None = None
    on_violation: Callable[[Verdict], object] | None = None
    _reported_unknown: set[str] = field(default_factory=set, init=False, repr=False)
    _no_consent: RequestConsent = field(init=False, repr=False)
    _gpc_categories: frozenset[str] = field(init=False, repr=False)
    # The state of a request without cookies, without and with Sec-GPC: no allocation.
    _cookieless: tuple[RequestState, RequestState] = field(init=False, repr=False)
    _vary: str = field(init=False, repr=False)  # what to add when the response has no Vary
    # A removal reaches more than logger.debug: report_only logs it, on_violation hears it.
    _always_report: bool = field(init=False, repr=False)
    # Without and with GPC: Cookie header -> (its state, the time span the state holds for).
    _states: tuple[dict[str, _Remembered], dict[str, _Remembered]] = field(
        default_factory=lambda: ({}, {}), init=False, repr=False
    )
    # (allowed, GPC-blocked categories) -> the verdicts made for that consent.
    _verdict_tables: dict[tuple[frozenset[str], frozenset[str]], Verdicts] = field(
        default_factory=dict, init=False, repr=False
    )

    @classmethod
    def create(
        cls,
        *,
        registry: Registry,
        secret_key: str | bytes | Sequence[str | bytes],
        cookie_name: str = DEFAULT_CONSENT_COOKIE,
        max_age: int = DEFAULT_MAX_AGE,
        unknown: Unknown = "strip",
        report_only: bool = False,
        honor_gpc: bool = True,
        clean_request: bool = False,
        consent_path: str = "/cookieguard/consent",
        allowed_origins: Iterable[str] = (),
        secure: bool | None = None,
        on_violation: Callable[[Verdict], object] | None = None,
    ) -> Guard:
        """Validate the middleware options once, at start-up, and build the guard."""
        if not isinstance(registry, Registry):
            raise TypeError(f"registry must be a cookieguard.Registry, got {registry!r}")
        if unknown not in ("strip", "allow"):
            raise ValueError(f'unknown must be "strip" or "allow", got {unknown!r}')
        if not _TOKEN.fullmatch(cookie_name or ""):
            raise ValueError(f"cookie_name must be a valid cookie name, got {cookie_name!r}")
        if not consent_path.startswith("/"):
            raise ValueError(f"consent_path must start with '/', got {consent_path!r}")
        if isinstance(allowed_origins, str):  # a lone string would allow single characters
            raise ValueError(f"allowed_origins must be a list of origins, got {allowed_origins!r}")
        return cls(
            registry=registry.with_consent_cookie(cookie_name),
            codec=ConsentCodec(secret_key, max_age=max_age),
            cookie_name=cookie_name,
            unknown=unknown,
            report_only=report_only,
            honor_gpc=honor_gpc,
            clean_request=clean_request,
            consent_path=consent_path.rstrip("/") or "/",
            allowed_origins=frozenset(o.rstrip("/").lower() for o in allowed_origins),
            secure=secure,
            on_violation=on_violation,
        )

    def __post_init__(self) -> None:
        registry = self.registry
        object.__setattr__(self, "_no_consent", RequestConsent(registry.required_categories))
        gpc = frozenset(c.name for c in registry.categories if c.gpc_opt_out and not c.required)
        object.__setattr__(self, "_gpc_categories", gpc if self.honor_gpc else frozenset())
        cookieless = (
            self.state_for(self._no_consent, ()),
            self.state_for(self.consent_from(None, True), ()),
        )
        object.__setattr__(self, "_cookieless", cookieless)
        object.__setattr__(self, "_vary", self._vary_to_add([]))
        object.__setattr__(
            self, "_always_report", self.report_only or self.on_violation is not None
        )

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
        return RequestConsent(allowed - blocked, consent, gpc, blocked)

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
        cookies = parse_cookies(cookie_header)
        value = cookies.get(self.cookie_name)
        decoded = self.codec.loads(value)
        state = self.state_for(self.consent_from(decoded, gpc), cookies.keys())
        if len(cookie_header) <= _MAX_CACHED_HEADER:
            if decoded is not None:
                signed_at = decoded.given_at.timestamp()
                _remember(states, cookie_header, (state, signed_at, signed_at + self.codec.max_age))
            elif value is None:
                _remember(states, cookie_header, (state, -math.inf, math.inf))
            # A consent value that fails is read again next time: one signed by a
            # server whose clock runs ahead becomes valid in a moment.
        return state

    def state_for(self, consent: RequestConsent, cookie_names: Iterable[str]) -> RequestState:
        """The request state for ``consent`` when the request carries ``cookie_names``."""
        withdrawals = []
        for name in dict.fromkeys(cookie_names):
            if not self.decide(name, consent).allowed:
                declared = self.registry.lookup(name)
                if declared is not None and _TOKEN.fullmatch(name):
                    withdrawals.append((name, declared))
        return RequestState(consent, tuple(withdrawals), self.verdicts_for(consent))

    def clean_cookie_header(self, cookie_header: str, consent: RequestConsent) -> str:
        """The request's ``Cookie`` header without the cookies the response could not set now."""
        if self.report_only:
            return cookie_header
        kept = []
        for pair in cookie_header.split(";"):
            name = pair.partition("=")[0].strip(_HTTP_WS)
            if name and self.decide(name, consent).allowed:
                kept.append(pair.strip(_HTTP_WS))
        return "; ".join(kept)

    # -- the decision ----------------------------------------------------------

    def decide(self, name: str, consent: RequestConsent) -> Verdict:
        """Whether a cookie called ``name`` may be set now: contract rules 2 to 5."""
        table = self.verdicts_for(consent).names
        verdict = table.get(name)
        if verdict is None:
            verdict = self._decide(name, consent)
            _remember(table, name, verdict, _TABLE_SIZE)
        return verdict

    def verdicts_for(self, consent: RequestConsent) -> Verdicts:
        """The table of verdicts for ``consent``: they depend on nothing else."""
        key = (consent.allowed, consent.gpc_blocked)
        verdicts = self._verdict_tables.get(key)
        if verdicts is None:
            verdicts = Verdicts()
            _remember(self._verdict_tables, key, verdicts, _MAX_TABLES)
        return verdicts

    def _decide(self, name: str, consent: RequestConsent) -> Verdict:
        if name == self.cookie_name:
            return Verdict(name, self.registry.consent_category, True, "consent-cookie")
        category = self.registry.category_of(name) if name else None
        if category is None:
            return Verdict(name, None, self.unknown == "allow", "unknown")
        if consent.allows(category):
            reason: Reason = "required" if self.registry.is_required(category) else "granted"
            return Verdict(name, category, True, reason)
        return Verdict(
            name, category, False, "gpc" if category in consent.gpc_blocked else "not-granted"
        )

    def judge(self, set_cookie: str, consent: RequestConsent) -> Verdict:
        """:meth:`decide` for one ``Set-Cookie`` value; deletions always pass."""
        verdict = self.decide(set_cookie_name(set_cookie), consent)
        if not verdict.allowed and is_deletion(set_cookie):
            return Verdict(verdict.name, verdict.category, True, "deletion")
        return verdict

    # -- the response ----------------------------------------------------------

    def filter_headers(
        self, headers: Sequence[tuple[H, H]], state: RequestState, kind: HeaderKind[H]
    ) -> list[tuple[H, H]] | None:
        """The response headers to send, or None when they pass unchanged.

        Removes the ``Set-Cookie`` headers the visitor did not consent to, appends
        deletions for withdrawn cookies and, when it changed anything, a ``Vary``
        so that no cache serves one visitor's cookies to another.
        """
        # The hot path of every response: the same steps as judge(), with each
        # verdict looked up by the raw text before the "=", decoded only the first time.
        set_cookie, equals = kind.set_cookie, kind.equals
        withdrawals = state.withdrawals
        table: dict[H, Verdict] | None = None
        removed: list[tuple[H, H]] | None = None  # in the order they came
        # With withdrawals, the names the application sets (or deletes) itself.
        kept_names: set[str] | None = set() if withdrawals else None
        for header in headers:
            key = header[0]
            if key != set_cookie and (len(key) != 10 or key.lower() != set_cookie):
                continue
            if table is None:
                table = kind.table(state.verdicts)
            value = header[1]
            spelled, eq, _ = value.partition(equals)
            if not eq:  # no "=": the name is empty
                spelled = spelled[:0]
            verdict = table.get(spelled)
            if verdict is None:
                verdict = self._judge_spelling(spelled, state.consent, kind)
                _remember(table, spelled, verdict, _TABLE_SIZE)
            if verdict.allowed and verdict.category is not None:  # declared and consented
                if kept_names is not None:
                    kept_names.add(verdict.name)
                continue
            if not verdict.allowed:
                if self._deletes(value, kind):
                    verdict = Verdict(verdict.name, verdict.category, True, "deletion")
                    if verdict.category is None:
                        self._report(verdict)  # unknown names are reported even when deleted
                else:
                    if (
                        verdict.category is None
                        or self._always_report
                        or logger.isEnabledFor(logging.DEBUG)
                    ):  # otherwise the report is a disabled logger.debug: skip the calls
                        self._report(verdict)
                    if not self.report_only:
                        if removed is None:
                            removed = []
                        removed.append(header)
                        continue
            else:
                self._report(verdict)  # kept, with unknown="allow"
            if kept_names is not None:
                kept_names.add(verdict.name)
        if removed is None and kept_names is None:
            return None
        kept = list(headers)
        position = 0
        for header in removed or ():  # each search starts where the last one ended: linear
            position = kept.index(header, position)  # equal headers have equal verdicts
            del kept[position]
        changed = removed is not None
        for withdrawn, declared in withdrawals:
            if kept_names is not None and withdrawn in kept_names:
                continue  # the application sets or deletes it itself
            self._report(Verdict(withdrawn, declared.category, False, "not-granted"))
            if not self.report_only:
                kept.append((kind.add_set_cookie, kind.encode(_deletion(withdrawn, declared))))
                changed = True
        if not changed:
            return None
        vary = kind.vary
        existing: list[str] | None = None
        for k, v in kept:  # a plain loop: most responses have no Vary
            if len(k) == 4 and k.lower() == vary:
                existing = [] if existing is None else existing
                existing.append(kind.decode(v))
        to_add = self._vary if existing is None else self._vary_to_add(existing)
        if to_add:
            kept.append((kind.add_vary, kind.encode(to_add)))
        return kept

    def _judge_spelling(self, spelled: H, consent: RequestConsent, kind: HeaderKind[H]) -> Verdict:
        """The verdict on a ``Set-Cookie`` whose text before the first ``=`` is ``spelled``."""
        name = _name_as_spelled(spelled, kind.semicolon, kind.whitespace)
        return self.decide(kind.decode(name), consent)

    def _deletes(self, value: H, kind: HeaderKind[H]) -> bool:
        """:func:`is_deletion`, remembered by the attributes unless an ``Expires`` decides."""
        attributes = value.partition(kind.semicolon)[2]
        deletes = kind.deletions.get(attributes)
        if deletes is None:
            by_max_age, dates = _expiry_attributes(kind.decode(value))
            if by_max_age is None and dates:  # an Expires date: the answer changes with time
                return _expired(dates, time.time())
            deletes = bool(by_max_age)
            if len(attributes) <= _MAX_CACHED_ATTRIBUTES:
                _remember(kind.deletions, attributes, deletes)
        return deletes

    def _vary_to_add(self, existing: list[str]) -> str:
        present = {t.strip(_HTTP_WS).lower() for v in existing for t in v.split(",")}
        if "*" in present:
            return ""
        wanted = ["Cookie", "Sec-GPC"] if self._gpc_categories else ["Cookie"]
        return ", ".join(t for t in wanted if t.lower() not in present)

    def _report(self, verdict: Verdict) -> None:
        if verdict.category is None:
            reported = self._reported_unknown
            if verdict.name not in reported and len(reported) < _MAX_REPORTED_UNKNOWN:
                reported.add(verdict.name)
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


K = TypeVar("K")
V = TypeVar("V")


def _remember(cache: dict[K, V], key: K, value: V, size: int | None = None) -> None:
    """Store in a bounded cache (``_CACHE_SIZE`` unless told), dropping the oldest entry."""
    if len(cache) >= (size or _CACHE_SIZE):
        try:  # another thread may be dropping it too
            del cache[next(iter(cache))]
        except (KeyError, RuntimeError, StopIteration):
            pass
    cache[key] = value


@lru_cache(maxsize=_CACHE_SIZE)  # the same few withdrawals, response after response
def _deletion(name: str, declared: Cookie) -> str:
    """A ``Set-Cookie`` value that deletes ``name`` where the registry says it lives."""
    host_only = name.startswith("__Host-")
    return dump_cookie(
        name,
        "",
        max_age=0,
        expires=0,
        path="/" if host_only else declared.path,
        domain=None if host_only else declared.domain,
        secure=host_only or name.startswith("__Secure-"),
    )
