"""The policy cookieguard adds, read as a browser reads it, and the reports it takes.

The policy text is parsed here as CSP Level 3 parses a serialized policy (split
on ``;``, then on ASCII whitespace) so the tests check what a browser enforces:
which sources each directive lists, and that nothing in it could switch the
application's inline code off.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cookieguard.csp import (
    DIRECTIVES,
    MAX_REPORT_BODY,
    Csp,
    CspViolation,
    ReportError,
    parse_reports,
    report_root,
    validate_sources,
)
from cookieguard.registry import is_host_source


def directives(policy: str) -> dict[str, list[str]]:
    """A serialized policy as a browser parses it: directive name -> source list."""
    parsed: dict[str, list[str]] = {}
    for token in policy.split(";"):
        parts = token.split()
        if parts and parts[0].lower() not in parsed:  # a repeated directive is ignored
            parsed[parts[0].lower()] = parts[1:]
    return parsed


class _Service:
    def __init__(self, name: str, *hosts: str) -> None:
        self.name = name
        self.category = "marketing"
        self.hosts = hosts


class _Allows:
    def __init__(self, *names: str) -> None:
        self.names = names

    def allows_service(self, name: str) -> bool:
        return name in self.names


SERVICES = (
    _Service("youtube", "https://www.youtube-nocookie.com", "https://*.youtube.com"),
    _Service("recaptcha", "https://www.google.com/recaptcha/", "https://www.gstatic.com"),
)


def policy_for(*allowed: str, sources: Any = None, mode: Any = "enforce") -> str:
    csp = Csp(mode, "/cookieguard/consent/csp-report", validate_sources(sources or {}), SERVICES)
    ((name, value),) = csp.headers_for(allowed, _Allows(*allowed))[0]
    assert name == csp.header
    return value


def test_every_directive_allows_self_data_and_blob_and_nothing_else_before_consent() -> None:
    parsed = directives(policy_for())
    assert set(DIRECTIVES) <= set(parsed)
    for directive in DIRECTIVES:
        hosts = [s for s in parsed[directive] if not s.startswith("'") and not s.endswith(":")]
        assert hosts == [], directive
        assert {"'self'", "data:", "blob:"} <= set(parsed[directive])
    assert "default-src" not in parsed  # what it does not list, it does not restrict


def test_inline_code_and_eval_stay_the_application_s_decision() -> None:
    parsed = directives(policy_for("youtube"))
    assert {"'unsafe-inline'", "'unsafe-eval'"} <= set(parsed["script-src"])
    assert "'unsafe-inline'" in parsed["style-src"]
    for sources in parsed.values():
        for source in sources:
            # A nonce, a hash or 'strict-dynamic' would turn 'unsafe-inline' off.
            assert not source.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-"))
            assert source != "'strict-dynamic'"


def test_allowed_services_hosts_in_every_directive() -> None:
    parsed = directives(policy_for("youtube"))
    for directive in DIRECTIVES:
        assert "https://*.youtube.com" in parsed[directive]
        assert "https://www.gstatic.com" not in parsed[directive]


def test_csp_sources_per_directive() -> None:
    sources = {"script-src": ["https://cdn.example.org"], "IMG-SRC": ["img.example.org:8443/i/"]}
    parsed = directives(policy_for(sources=sources))
    assert "https://cdn.example.org" in parsed["script-src"]
    assert "https://cdn.example.org" not in parsed["img-src"]
    assert "img.example.org:8443/i/" in parsed["img-src"]


def test_reports_go_to_the_endpoint() -> None:
    csp = Csp("report-only", "/cg/csp-report", {}, ())
    ((name, value),), _ = csp.headers_for((), _Allows())
    assert name == "Content-Security-Policy-Report-Only"
    parsed = directives(value)
    assert parsed["report-uri"] == ["/cg/csp-report"]
    # With a report-to, Chromium would send its reports through the Reporting API only.
    assert "report-to" not in parsed


@given(st.text())
def test_no_mount_prefix_ends_the_report_url(script_name: str) -> None:
    root = report_root(script_name)
    assert root == "" or script_name.startswith(root)
    policy = Csp("enforce", "/cg/csp-report", {}, ()).policy((), script_name)
    # One separator between directives, none more, and no second policy.
    assert policy.count(";") == len(DIRECTIVES) and "," not in policy
    assert directives(policy)["report-uri"] == [f"{root}/cg/csp-report"]


def test_headers_are_built_once_per_key() -> None:
    csp = Csp("enforce", "/r", {}, SERVICES)
    first = csp.headers_for("k", _Allows("youtube"))
    assert csp.headers_for("k", _Allows()) is first
    text, raw = first
    assert [(k.lower().encode(), v.encode()) for k, v in text] == list(raw)


@pytest.mark.parametrize(
    "source",
    [
        "https://www.youtube.com",
        "https://*.doubleclick.net",
        "stats.example.org",
        "cdn.example.org:443/assets/",
        "http://127.0.0.1:8000",
        "wss://socket.example.org:*",
    ],
)
def test_host_sources(source: str) -> None:
    assert is_host_source(source)


@pytest.mark.parametrize(
    "source",
    ["*", "https://*", "https:", "'self'", "'nonce-abc'", "a b", "a;b", "a,b", "", 'x"y', 7],
)
def test_not_host_sources(source: object) -> None:
    assert not is_host_source(source)


@pytest.mark.parametrize(
    ("sources", "culprit"),
    [
        ({"default-src": ["cdn.example.org"]}, "default-src"),
        ({"script-src": "cdn.example.org"}, "cdn.example.org"),
        ({"script-src": ["*"]}, "'*'"),
        ({"script-src": ["https:"]}, "https:"),
        ({"script-src": ["'unsafe-hashes'"]}, "unsafe-hashes"),
        ({"script-src": ["'sha256-abc='"]}, "sha256"),
        ({"script-src": ["'strict-dynamic'"]}, "strict-dynamic"),
        ({"frame-src": ["a.example.org; script-src *"]}, "a.example.org; script-src"),
        (["script-src"], "csp_sources must map"),
    ],
)
def test_bad_csp_sources_are_value_errors(sources: object, culprit: str) -> None:
    with pytest.raises(ValueError, match="csp_sources") as raised:
        validate_sources(sources)
    assert culprit in str(raised.value)


def test_sources_every_directive_has_already_are_accepted() -> None:
    assert validate_sources({"img-src": ["data:", "'self'", "BLOB:"]}) == {"img-src": ()}


# -- reports --------------------------------------------------------------------------

REPORT_URI_BODY = {
    "csp-report": {
        "document-uri": "http://127.0.0.1:8000/meet",
        "referrer": "",
        "violated-directive": "frame-src",
        "effective-directive": "frame-src",
        "original-policy": "frame-src 'self'",
        "disposition": "enforce",
        "blocked-uri": "https://www.youtube.com/embed/aqz-KE-bpKQ",
        "status-code": 200,
    }
}
REPORTING_API_BODY = [
    {
        "age": 12,
        "type": "csp-violation",
        "url": "http://127.0.0.1:8000/meet",
        "user_agent": "Chromium",
        "body": {
            "documentURL": "http://127.0.0.1:8000/meet",
            "blockedURL": "https://ad.doubleclick.net/pixel.gif",
            "effectiveDirective": "img-src",
            "originalPolicy": "img-src 'self'",
            "disposition": "report",
            "statusCode": 200,
        },
    },
    {"type": "deprecation", "body": {"id": "x"}},
]


def test_a_report_uri_report() -> None:
    body = json.dumps(REPORT_URI_BODY).encode()
    (violation,) = parse_reports("application/csp-report", body)
    assert violation == CspViolation(
        document_url="http://127.0.0.1:8000/meet",
        blocked_url="https://www.youtube.com/embed/aqz-KE-bpKQ",
        blocked_host="www.youtube.com",
        directive="frame-src",
        disposition="enforce",
        original_policy="frame-src 'self'",
        format="csp-report",
        body=REPORT_URI_BODY["csp-report"],
    )


def test_reporting_api_reports_skip_other_types() -> None:
    body = json.dumps(REPORTING_API_BODY).encode()
    (violation,) = parse_reports("application/reports+json", body)
    assert (violation.blocked_host, violation.directive, violation.disposition) == (
        "ad.doubleclick.net",
        "img-src",
        "report",
    )


def test_a_level_2_report_names_the_directive_in_violated_directive() -> None:
    body = {"csp-report": {"blocked-uri": "inline", "violated-directive": "script-src 'self'"}}
    (violation,) = parse_reports("application/csp-report", json.dumps(body).encode())
    assert (violation.directive, violation.blocked_host) == ("script-src", "")


@pytest.mark.parametrize(
    ("mimetype", "body", "status"),
    [
        ("application/json", b"{}", 415),
        ("application/csp-report", b"{", 400),
        ("application/csp-report", b"[]", 400),
        ("application/csp-report", b'{"csp-report": 1}', 400),
        ("application/csp-report", b'{"csp-report": {"blocked-uri": 5}}', 400),
        ("application/csp-report", b"\xff\xfe\xfa", 400),
        ("application/csp-report", b"[" * 60_000, 400),
        ("application/reports+json", b"{}", 400),
        ("application/reports+json", b"[1]", 400),
        ("application/reports+json", b'[{"type": "csp-violation"}]', 400),
        ("application/reports+json", b"[" + b'{"type":"x"},' * 200 + b'{"type":"x"}]', 413),
        ("application/csp-report", b" " * (MAX_REPORT_BODY + 1), 413),
    ],
)
def test_malformed_reports_are_4xx(mimetype: str, body: bytes, status: int) -> None:
    with pytest.raises(ReportError) as refused:
        parse_reports(mimetype, body)
    assert refused.value.status == status


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


# Its own bound: the hardening suite's CI profile (50,000 examples) is for its own properties.
@settings(max_examples=2_000, deadline=None)  # timing is the benchmarks' business
@given(
    mimetype=st.sampled_from(["application/csp-report", "application/reports+json"]),
    body=st.one_of(
        st.binary(max_size=300),
        JSON.map(lambda value: json.dumps(value).encode()),
        st.dictionaries(st.sampled_from(["csp-report", "x"]), JSON).map(
            lambda value: json.dumps(value).encode()
        ),
        st.lists(
            st.fixed_dictionaries({"type": st.sampled_from(["csp-violation", "x"]), "body": JSON})
        ).map(lambda value: json.dumps(value).encode()),
    ),
)
def test_any_body_is_read_or_refused_with_a_4xx(mimetype: str, body: bytes) -> None:
    try:
        violations = parse_reports(mimetype, body)
    except ReportError as refused:
        assert 400 <= refused.status < 500
    else:
        assert all(isinstance(v, CspViolation) for v in violations)


def test_each_blocked_host_is_reported_once() -> None:
    csp = Csp("enforce", "/r", {}, ())
    (first,) = parse_reports("application/csp-report", json.dumps(REPORT_URI_BODY).encode())
    assert csp.first_report_of(first)
    assert not csp.first_report_of(first)
