"""Third parties blocked by the browser: a Content-Security-Policy built from the consent.

With the ``csp`` option on, every ``text/html`` response gets one more policy
header, ``Content-Security-Policy`` (``csp="enforce"``) or
``Content-Security-Policy-Report-Only`` (``csp="report-only"``). It restricts the
directives of :data:`DIRECTIVES` to ``'self'``, the site's own ``csp_sources``
and the hosts of every service the visitor allows now (those of required
categories always), so that the browser itself refuses a YouTube iframe, a
DoubleClick pixel or a reCAPTCHA script before its consent — even one a
template forgot to gate.

Browsers enforce every policy they receive, each on its own: a resource loads
only if all of them allow it. The added policy therefore only narrows the
application's own, and must not restrict what it leaves to it: every directive
allows ``data:`` and ``blob:``, ``script-src`` and ``style-src`` allow
``'unsafe-inline'``, ``script-src`` allows ``'unsafe-eval'``; no nonce, hash or
``'strict-dynamic'`` is ever written (any of them would switch
``'unsafe-inline'`` off, and block the site's inline code).

The header depends on the consent only through which services are allowed, so
its text is built once per consent state and remembered (bounded): a response
costs a dictionary lookup. Reports come back to ``<consent_path>/csp-report``
through ``report-uri``, where :func:`parse_reports` reads them and :class:`Csp`
logs each blocked host once.

The policy names no ``report-to``: where a policy has one, Chromium sends its
reports through the Reporting API only, in batches up to a minute late, and
none at all when the page's ``Reporting-Endpoints`` lacks the name (an
application's own header merged badly, say); headless Chromium 156 sent none in
100 seconds. ``report-uri`` reports leave at once, from every browser. The
endpoint still reads the Reporting API's ``application/reports+json``, for a
site that points a ``report-to`` of its own at it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .._cache import BoundedCache
from ..registry import is_host_source
from .reports import (
    MAX_HOST,
    MAX_REPORT_BODY,
    REPORT_TYPES,
    CspViolation,
    ReportError,
    parse_reports,
)

__all__ = [
    "DIRECTIVES",
    "MAX_REPORT_BODY",
    "REPORT_PATH",
    "REPORT_TYPES",
    "Csp",
    "CspMode",
    "CspViolation",
    "ReportError",
    "parse_reports",
    "report_root",
    "validate_sources",
]

CspMode = Literal["off", "enforce", "report-only"]
MODES: tuple[CspMode, ...] = ("off", "enforce", "report-only")

#: The directives the added policy restricts, in the order it writes them.
DIRECTIVES = (
    "script-src",
    "frame-src",
    "img-src",
    "connect-src",
    "media-src",
    "style-src",
    "font-src",
)
# What each directive allows besides hosts, so that the added policy never restricts
# inline code, eval, data: or blob: (the application's own policy decides those).
_ALWAYS: dict[str, tuple[str, ...]] = {
    directive: ("'self'", "data:", "blob:") for directive in DIRECTIVES
}
_ALWAYS["script-src"] = ("'self'", "'unsafe-inline'", "'unsafe-eval'", "data:", "blob:")
_ALWAYS["style-src"] = ("'self'", "'unsafe-inline'", "data:", "blob:")

#: The report endpoint, under ``consent_path``.
REPORT_PATH = "csp-report"
logger = logging.getLogger("cookieguard")
_REPORTED_HOSTS = 1000  # blocked hosts logged once each, per middleware
_REPORTED_BYTES = 256 * 1024
_STATES = 256  # remembered headers: one per combination of allowed services seen
_STATES_BYTES = 1024 * 1024

# Scheme sources that the policy writes in every directive already.
_IMPLIED = frozenset({"data:", "blob:", "'self'"})


def validate_sources(csp_sources: object) -> dict[str, tuple[str, ...]]:
    """The ``csp_sources`` option checked, by directive; a ``ValueError`` names what is wrong.

    Keys are directives of :data:`DIRECTIVES` (any case); values lists of host
    sources. ``data:``, ``blob:`` and ``'self'`` are accepted and ignored (every
    directive allows them already); any other keyword, a nonce, a hash, a scheme
    alone (``https:``) or ``*`` is refused: each would switch the site's inline
    code off or let every third party through.
    """
    if not isinstance(csp_sources, Mapping):
        raise ValueError(
            f"csp_sources must map directives to lists of sources, got {csp_sources!r}"
        )
    checked: dict[str, tuple[str, ...]] = {}
    for directive, sources in csp_sources.items():
        name = directive.lower() if isinstance(directive, str) else directive
        if name not in DIRECTIVES:
            raise ValueError(
                f"csp_sources: unknown directive {directive!r}; expected one of "
                + ", ".join(DIRECTIVES)
            )
        if isinstance(sources, (str, bytes)) or not isinstance(sources, Iterable):
            raise ValueError(
                f"csp_sources[{directive!r}] must be a list of sources, got {sources!r}"
            )
        kept = list(checked.get(name, ()))
        for source in sources:
            if isinstance(source, str) and source.lower() in _IMPLIED:
                continue
            if not is_host_source(source):
                raise ValueError(f"csp_sources[{directive!r}]: {source!r} is not a host source")
            if source not in kept:
                kept.append(source)
        checked[name] = tuple(kept)
    return checked


# A mount prefix the report URL may carry: path segments of characters that end no
# directive or policy (no ";", ",", quote or whitespace), and not too long.
_ROOT = re.compile(r"(?:/[A-Za-z0-9\-._~!$&+=:@%]+)+")
_MAX_ROOT = 256


def report_root(script_name: str) -> str:
    """The mount prefix ``script_name`` as the report URL carries it; ``""`` for none.

    A prefix that is not plain path segments (``/shop``, ``/a/b``) is left out, so
    that nothing a request brings into ``SCRIPT_NAME`` can end the policy's
    ``report-uri`` and start a directive of its own: the reports are then lost,
    never the policy.
    """
    root = script_name.rstrip("/")
    if not root or (len(root) <= _MAX_ROOT and _ROOT.fullmatch(root)):
        return root
    logger.debug("csp: the mount prefix %r is not plain path segments: left out", root[:64])
    return ""


class _Service(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def category(self) -> str: ...

    @property
    def hosts(self) -> Sequence[str]: ...


class _Consent(Protocol):
    def allows_service(self, name: str) -> bool: ...


# The added headers in the adapters' two spellings: (name, value) pairs of text
# (WSGI) and of lower-case bytes (ASGI).
Headers = tuple[tuple[tuple[str, str], ...], tuple[tuple[bytes, bytes], ...]]


@dataclass(frozen=True, eq=False)
class Csp:
    """The policy a middleware adds, built once: what is fixed, and a header per consent.

    ``services`` are the registry's services, each with its ``hosts``; the
    header for a consent allows the hosts of those whose ``allows_service`` is
    true, and always those of services in a ``required`` category. ``key``
    tells consents apart that could allow different services.
    """

    mode: CspMode
    report_uri: str
    sources: Mapping[str, tuple[str, ...]]
    services: tuple[_Service, ...]
    on_violation: Callable[[CspViolation], object] | None = None
    required: frozenset[str] = frozenset()
    header: str = field(init=False)
    _prefix: dict[str, str] = field(init=False, repr=False)
    # The headers by consent state (its allowed services), read directly on the hot path.
    cached: BoundedCache[Any, Headers] = field(
        default_factory=lambda: BoundedCache(_STATES, _STATES_BYTES), init=False, repr=False
    )
    _reported: BoundedCache[str, bool] = field(
        default_factory=lambda: BoundedCache(_REPORTED_HOSTS, _REPORTED_BYTES),
        init=False,
        repr=False,
    )

    def __post_init__(self) -> None:
        header = (
            "Content-Security-Policy"
            if self.mode == "enforce"
            else "Content-Security-Policy-Report-Only"
        )
        object.__setattr__(self, "header", header)
        prefix = {d: " ".join((d, *_ALWAYS[d], *self.sources.get(d, ()))) for d in DIRECTIVES}
        object.__setattr__(self, "_prefix", prefix)

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def policy(self, hosts: Iterable[str], root: str = "") -> str:
        """The policy text allowing ``hosts`` besides what every directive allows.

        ``root``: the mount prefix the report URL carries (see :func:`report_root`).
        """
        extra = " ".join(dict.fromkeys(hosts))
        tail = f" {extra}" if extra else ""
        parts = [f"{self._prefix[d]}{tail}" for d in DIRECTIVES]
        parts.append(f"report-uri {report_root(root)}{self.report_uri}")
        return "; ".join(parts)

    def hosts_for(self, consent: _Consent) -> list[str]:
        """The hosts of every service ``consent`` allows, in declaration order."""
        return [
            host
            for service in self.services
            if service.category in self.required or consent.allows_service(service.name)
            for host in service.hosts
        ]

    def headers_for(self, key: object, consent: _Consent, root: str = "") -> Headers:
        """The headers to add for ``consent``, remembered under ``key`` (its consent state).

        ``root``: the mount prefix of the response (WSGI ``SCRIPT_NAME``), which the
        report URL carries when :func:`report_root` takes it.
        """
        if root:
            key = (key, root)
        found = self.cached.get(key)
        if found is None:
            found = self.cached.put(key, self._build(consent, root))
        return found

    def _build(self, consent: _Consent, root: str) -> Headers:
        value = self.policy(self.hosts_for(consent), root)
        text = ((self.header, value),)
        raw = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in text)
        return text, raw

    # -- reports ---------------------------------------------------------------

    def receive(self, mimetype: str, body: bytes, *, too_large: bool = False) -> ReportError | None:
        """Read a report body: log each new blocked host, call ``on_violation``.

        Returns the :class:`ReportError` to answer with, or None (``204``). The
        reports are the client's word (anyone may post one): they are logged and
        handed to ``on_violation``, nothing else. Never raises.
        """
        if too_large:
            return ReportError(413, f"the report is over {MAX_REPORT_BODY} bytes")
        try:
            violations = parse_reports(mimetype, body)
        except ReportError as refused:
            return refused
        for violation in violations:
            if self.first_report_of(violation):
                logger.warning(
                    "csp: %s %s from %r (%s) on %r; declare it as a service's host if the "
                    "site needs it",
                    "blocked" if violation.disposition == "enforce" else "would block",
                    violation.blocked_host or "content",
                    violation.blocked_url[:200],
                    violation.directive[:64],
                    violation.document_url[:200],
                )
            if self.on_violation is not None:
                try:
                    self.on_violation(violation)
                except Exception:  # a reporting hook must never break the answer
                    logger.exception(
                        "on_csp_violation callback failed for %r", violation.blocked_url[:200]
                    )
        return None

    def first_report_of(self, violation: CspViolation) -> bool:
        """True the first time (per middleware, bounded) a blocked host is reported."""
        key = (violation.blocked_host or violation.blocked_url)[:MAX_HOST]
        if key in self._reported:
            return False
        self._reported.put(key, True)
        return True
