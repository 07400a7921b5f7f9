"""CSP violation reports: what the report endpoint reads, and nothing else.

:func:`parse_reports` reads a body of ``application/csp-report`` (what
``report-uri`` sends) or ``application/reports+json`` (the Reporting API) into
:class:`CspViolation` values, and refuses anything else with a
:class:`ReportError` naming the 4xx to answer. Reports are the client's word:
anyone can post one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

__all__ = [
    "MAX_HOST",
    "MAX_REPORT_BODY",
    "REPORT_TYPES",
    "CspViolation",
    "ReportError",
    "parse_reports",
]

#: The content types the report endpoint reads: ``report-uri``'s and the Reporting API's.
REPORT_TYPES = ("application/csp-report", "application/reports+json")
#: The largest report body read. The Reporting API sends reports in batches, each
#: about a kilobyte (the policy is quoted in full): 64 KiB holds dozens.
MAX_REPORT_BODY = 64 * 1024
#: The longest blocked host kept of a report.
MAX_HOST = 255
_MAX_REPORTS = 100  # violation reports read from one body


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
    return (host or "")[:MAX_HOST]
