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

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from ._cache import BoundedCache
from .registry import is_host_source

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
#: The content types the report endpoint reads: ``report-uri``'s and the Reporting API's.
REPORT_TYPES = ("application/csp-report", "application/reports+json")
#: The largest report body read. The Reporting API sends reports in batches, each
#: about a kilobyte (the policy is quoted in full): 64 KiB holds dozens.
MAX_REPORT_BODY = 64 * 1024
logger = logging.getLogger("cookieguard")
_MAX_REPORTS = 100  # violation reports read from one body
_REPORTED_HOSTS = 1000  # blocked hosts logged once each, per middleware
_REPORTED_BYTES = 256 * 1024
_MAX_HOST = 255
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

    def policy(self, hosts: Iterable[str]) -> str:
        """The policy text allowing ``hosts`` besides what every directive allows."""
        extra = " ".join(dict.fromkeys(hosts))
        tail = f" {extra}" if extra else ""
        parts = [f"{self._prefix[d]}{tail}" for d in DIRECTIVES]
        parts.append(f"report-uri {self.report_uri}")
        return "; ".join(parts)

    def hosts_for(self, consent: _Consent) -> list[str]:
        """The hosts of every service ``consent`` allows, in declaration order."""
        return [
            host
            for service in self.services
            if service.category in self.required or consent.allows_service(service.name)
            for host in service.hosts
        ]

    def headers_for(self, key: object, consent: _Consent) -> Headers:
        """The headers to add for ``consent``, remembered under ``key`` (its consent state)."""
        found = self.cached.get(key)
        if found is None:
            found = self.cached.put(key, self._build(consent))
        return found

    def _build(self, consent: _Consent) -> Headers:
        value = self.policy(self.hosts_for(consent))
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
        key = (violation.blocked_host or violation.blocked_url)[:_MAX_HOST]
        if key in self._reported:
            return False
        self._reported.put(key, True)
        return True


@dataclass(frozen=True)
class CspViolation:
    """One violation report, as a browser sent it (``report-uri`` or the Reporting API).

    Reports are the client's word: anyone can post one. ``blocked_host`` is the
    host of ``blocked_url`` (lower case), or ``""`` when that is no URL
    (``inline``, ``eval``). ``disposition`` is ``"enforce"`` or ``"report"``
    (report-only). ``body`` is the report as parsed.
    """

    document_url: str
    blocked_url: str
    blocked_host: str
    directive: str
    disposition: str
    original_policy: str
    format: Literal["csp-report", "reports+json"]
    body: Mapping[str, Any] = field(repr=False, compare=False)


class ReportError(Exception):
    """A report body the endpoint refuses: a 4xx status and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# The fields read, under their report-uri and Reporting API names.
_FIELDS = {
    "csp-report": (
        "document-uri",
        "blocked-uri",
        "effective-directive",
        "disposition",
        "original-policy",
    ),
    "reports+json": (
        "documentURL",
        "blockedURL",
        "effectiveDirective",
        "disposition",
        "originalPolicy",
    ),
}


def parse_reports(mimetype: str, body: bytes) -> list[CspViolation]:
    """The violations in a report body of type ``mimetype`` (as sent, parameters stripped).

    ``application/csp-report`` holds one ``{"csp-report": {...}}`` object,
    ``application/reports+json`` a list of reports, of which those of type
    ``csp-violation`` are read (others are skipped). Anything else, a body over
    :data:`MAX_REPORT_BODY`, malformed JSON or a report of the wrong shape is a
    :class:`ReportError` (415, 413, 400); nothing else is ever raised.
    """
    mimetype = mimetype.strip().lower()
    if mimetype not in REPORT_TYPES:
        expected = " or ".join(REPORT_TYPES)
        raise ReportError(415, f"unsupported content type {mimetype!r}; send {expected}")
    if len(body) > MAX_REPORT_BODY:
        raise ReportError(413, f"the report is over {MAX_REPORT_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # invalid UTF-8 is a ValueError too
        raise ReportError(400, "the report is not valid JSON") from None
    if mimetype == "application/csp-report":
        report = data.get("csp-report") if isinstance(data, dict) else None
        if not isinstance(report, dict):
            raise ReportError(400, 'the report must be an object {"csp-report": {...}}')
        return [_violation(report, "csp-report")]
    if not isinstance(data, list):
        raise ReportError(400, "the reports must be a list")
    if len(data) > _MAX_REPORTS:
        raise ReportError(413, f"over {_MAX_REPORTS} reports in one request")
    violations = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise ReportError(400, "each report must be an object with a type")
        if item["type"] != "csp-violation":
            continue
        report = item.get("body")
        if not isinstance(report, dict):
            raise ReportError(400, "a csp-violation report must have a body object")
        violations.append(_violation(report, "reports+json"))
    return violations


def _violation(report: dict[str, Any], form: Literal["csp-report", "reports+json"]) -> CspViolation:
    values = []
    for name in _FIELDS[form]:
        value = report.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ReportError(400, f"{name} must be a string")
        values.append(value)
    document, blocked, directive, disposition, policy = values
    if not directive and form == "csp-report":  # CSP Level 2 browsers send only this one
        directive = report.get("violated-directive", "")
        if not isinstance(directive, str):
            raise ReportError(400, "violated-directive must be a string")
        directive = directive.partition(" ")[0]
    return CspViolation(
        document_url=document,
        blocked_url=blocked,
        blocked_host=_host(blocked),
        directive=directive,
        disposition=disposition or "enforce",
        original_policy=policy,
        format=form,
        body=report,
    )


def _host(url: str) -> str:
    """The host of ``url`` in lower case, or ``""`` when it has none (``inline``, ``eval``)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:  # an unclosed IPv6 bracket, say
        return ""
    return (host or "")[:_MAX_HOST]
