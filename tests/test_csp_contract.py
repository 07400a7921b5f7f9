"""The contract's section "Third-party blocking by Content-Security-Policy", four adapters.

Every check runs through a raw WSGI app, a raw ASGI app, a Flask app and a
Starlette app: the header a visitor's browser receives on an HTML response, for
each consent, and the report endpoint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from flask import Flask
from flask import Response as FlaskResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route
from tests.support.cases import (
    KEY,
    Response,
    Seen,
    call_asgi,
    call_wsgi,
    consent_cookie,
    raw_asgi_app,
    raw_wsgi_app,
    token,
)
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from cookieguard import Category, Cookie, Registry, Service, asgi, wsgi
from cookieguard.csp import MAX_REPORT_BODY, CspViolation
from cookieguard.flask import CookieGuard
from cookieguard.guard import Guard

REGISTRY = Registry(
    categories=[
        Category("necessary", required=True),
        Category("statistics"),
        Category("marketing", gpc_opt_out=True),
    ],
    services=[
        Service("fonts", "necessary", hosts=["https://fonts.example.net"]),
        Service(
            "youtube",
            "marketing",
            hosts=["https://www.youtube-nocookie.com", "https://*.youtube.com"],
        ),
        Service("doubleclick", "marketing", hosts=["https://*.doubleclick.net"]),
        Service("matomo", "statistics", hosts=["stats.example.org"]),
    ],
    cookies=[Cookie("sessionid", "necessary"), Cookie("IDE", "marketing", service="doubleclick")],
    revision=2,
)
HTML = ("Content-Type", "text/html; charset=utf-8")
APP_CSP = "default-src 'self'; script-src 'self' 'nonce-r4nd0m'; frame-ancestors 'none'"
REPORT_PATH = "/cookieguard/consent/csp-report"

Serve = Callable[..., Response]


def _headers(content_type: str | None, extra: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [*([("Content-Type", content_type)] if content_type else []), *extra]


def _wsgi(headers: list[tuple[str, str]], options: dict[str, Any]) -> Serve:
    inner = raw_wsgi_app((), Seen())

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return inner(environ, lambda status, _: start_response(status, headers))

    guarded = wsgi.CookieGuardMiddleware(app, **options)
    return lambda **request: call_wsgi(guarded, **request)


def _asgi(headers: list[tuple[str, str]], options: dict[str, Any]) -> Serve:
    inner = raw_asgi_app((), Seen())

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def replace(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(k.encode(), v.encode()) for k, v in headers]
            await send(message)

        await inner(scope, receive, replace)

    guarded = asgi.CookieGuardMiddleware(app, **options)
    return lambda **request: call_asgi(guarded, **request)


def _flask(headers: list[tuple[str, str]], options: dict[str, Any]) -> Serve:
    app = Flask(__name__)

    @app.route("/", methods=["GET", "POST"])
    def index() -> Any:
        reply = FlaskResponse("<p>hello</p>")
        reply.headers.clear()
        for name, value in headers:
            reply.headers.add(name, value)
        return reply

    CookieGuard(app, **options)
    return lambda **request: call_wsgi(app, **request)


def _starlette(headers: list[tuple[str, str]], options: dict[str, Any]) -> Serve:
    async def index(request: Request) -> StarletteResponse:
        reply = StarletteResponse(b"<p>hello</p>")
        reply.raw_headers[:] = [(k.lower().encode(), v.encode()) for k, v in headers]
        return reply

    app = Starlette(
        routes=[Route("/", index, methods=["GET", "POST"])],
        middleware=[Middleware(asgi.CookieGuardMiddleware, **options)],
    )
    return lambda **request: call_asgi(app, **request)


ADAPTERS = {"wsgi": _wsgi, "asgi": _asgi, "flask": _flask, "starlette": _starlette}


@pytest.fixture(params=list(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> Any:
    return ADAPTERS[request.param]


def serve(
    adapter: Any,
    content_type: str | None = HTML[1],
    extra: Sequence[tuple[str, str]] = (),
    **options: Any,
) -> Serve:
    options = {"registry": REGISTRY, "secret_key": KEY, "csp": "enforce", **options}
    return adapter(_headers(content_type, extra), options)  # type: ignore[no-any-return]


def get(app: Serve, cookie: str | None = None, gpc: bool = False) -> Response:
    headers = [("Host", "testserver")]
    if cookie is not None:
        headers.append(("Cookie", cookie))
    if gpc:
        headers.append(("Sec-GPC", "1"))
    return app(headers=headers)


def policies(response: Response, name: str = "content-security-policy") -> list[str]:
    return response.values(name)


def sources(policy: str, directive: str) -> list[str]:
    for part in policy.split(";"):
        tokens = part.split()
        if tokens and tokens[0] == directive:
            return tokens[1:]
    raise AssertionError(f"no {directive} in {policy!r}")


def hosts(policy: str) -> set[str]:
    """The hosts the policy allows (the same in every directive it restricts)."""
    found = {s for s in sources(policy, "frame-src") if not s.startswith("'") and s[-1] != ":"}
    for directive in ("script-src", "img-src", "connect-src", "media-src", "style-src"):
        assert found <= set(sources(policy, directive)), directive
    return found


YOUTUBE = {"https://www.youtube-nocookie.com", "https://*.youtube.com"}
FONTS = {"https://fonts.example.net"}


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "text/html; charset=utf-8", "TEXT/HTML", "Text/Html ;charset=UTF-8"],
)
def test_one_policy_on_every_html_response(adapter: Any, content_type: str) -> None:
    response = get(serve(adapter, content_type))
    (policy,) = policies(response)
    assert hosts(policy) == FONTS  # a required category's service: always allowed
    assert policies(response, "content-security-policy-report-only") == []
    assert sources(policy, "report-uri") == [REPORT_PATH]
    assert response.values("vary") == ["Cookie, Sec-GPC"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "text/htmlx", None])
def test_no_policy_on_other_responses(adapter: Any, content_type: str | None) -> None:
    response = get(serve(adapter, content_type))
    assert policies(response) == []
    assert response.values("vary") == []


def test_off_by_default(adapter: Any) -> None:
    response = get(serve(adapter, csp="off"))
    assert policies(response) == [] and response.values("vary") == []


def test_report_only(adapter: Any) -> None:
    response = get(serve(adapter, csp="report-only"))
    assert policies(response) == []
    (policy,) = policies(response, "content-security-policy-report-only")
    assert hosts(policy) == FONTS


@pytest.mark.parametrize(
    ("cookie", "gpc", "expected"),
    [
        (None, False, FONTS),
        (token(["marketing"]), False, FONTS | YOUTUBE | {"https://*.doubleclick.net"}),
        (token(["statistics"]), False, FONTS | {"stats.example.org"}),
        (token(services=["youtube"]), False, FONTS | YOUTUBE),
        (token(["marketing"]), True, FONTS),  # GPC refuses the category...
        (token(services=["youtube"]), True, FONTS | YOUTUBE),  # ...not a one-by-one grant
        (token(["marketing"], revision=1), False, FONTS),  # given for an older policy
    ],
    ids=["none", "marketing", "statistics", "youtube", "gpc-category", "gpc-service", "old"],
)
def test_hosts_of_every_service_allowed_now(
    adapter: Any, cookie: str | None, gpc: bool, expected: set[str]
) -> None:
    app = serve(adapter)
    header = None if cookie is None else consent_cookie(cookie)
    (policy,) = policies(get(app, header, gpc))
    assert hosts(policy) == expected
    assert policies(get(app)) != [policy] or expected == FONTS  # consents do not mix


def test_csp_sources(adapter: Any) -> None:
    app = serve(adapter, csp_sources={"script-src": ["https://cdn.example.org"]})
    (policy,) = policies(get(app))
    assert "https://cdn.example.org" in sources(policy, "script-src")
    assert "https://cdn.example.org" not in sources(policy, "frame-src")


def test_the_application_s_own_policies_pass_byte_identical(adapter: Any) -> None:
    own = [
        ("Content-Security-Policy", APP_CSP),
        ("Content-Security-Policy-Report-Only", "img-src 'none'"),
        ("Vary", "Accept-Encoding"),
    ]
    response = get(serve(adapter, extra=own))
    assert policies(response)[0] == APP_CSP
    assert len(policies(response)) == 2 and hosts(policies(response)[1]) == FONTS
    assert policies(response, "content-security-policy-report-only") == ["img-src 'none'"]
    assert response.values("vary") == ["Accept-Encoding", "Cookie, Sec-GPC"]


def test_vary_without_gpc_categories(adapter: Any) -> None:
    registry = Registry(
        [Category("necessary", required=True), Category("statistics")],
        [],
        services=[Service("matomo", "statistics", hosts=["stats.example.org"])],
    )
    response = get(serve(adapter, registry=registry, extra=[("Vary", "cookie")]))
    assert response.values("vary") == ["cookie"]
    assert len(policies(response)) == 1


def test_the_policy_and_the_cookie_rules_together(adapter: Any) -> None:
    extra = [("Set-Cookie", "IDE=1; Path=/"), ("Set-Cookie", "sessionid=1; Path=/")]
    response = get(serve(adapter, extra=extra))
    assert response.cookie_names() == ["sessionid"]
    assert len(policies(response)) == 1
    assert response.values("vary") == ["Cookie, Sec-GPC"]


def test_a_websocket_handshake_gets_no_policy() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.accept", "headers": [(b"content-type", b"text/html")]})

    guarded = asgi.CookieGuardMiddleware(app, registry=REGISTRY, secret_key=KEY, csp="enforce")
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    import asyncio

    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    asyncio.run(guarded(scope, receive, send))
    assert sent[0]["headers"] == [(b"content-type", b"text/html")]


@pytest.mark.parametrize(
    "options",
    [
        {"csp": "on"},
        {"csp": True},
        {"csp": "enforce", "csp_sources": {"default-src": ["cdn.example.org"]}},
        {"csp": "enforce", "csp_sources": {"script-src": ["'strict-dynamic'"]}},
        {"csp": "enforce", "csp_sources": {"script-src": "cdn.example.org"}},
    ],
)
def test_options_are_checked_at_start_up(adapter: Any, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="csp"):
        get(serve(adapter, **options))  # Starlette builds its middleware on the first request


# -- the report endpoint ----------------------------------------------------------------

REPORT = {
    "csp-report": {
        "document-uri": "http://testserver/meet",
        "effective-directive": "frame-src",
        "blocked-uri": "https://www.youtube.com/embed/x",
        "disposition": "enforce",
    }
}
BATCH = [
    {
        "type": "csp-violation",
        "body": {
            "documentURL": "http://testserver/meet",
            "blockedURL": "https://www.youtube.com/embed/y",
            "effectiveDirective": "frame-src",
            "disposition": "report",
        },
    },
    {
        "type": "csp-violation",
        "body": {"blockedURL": "https://ad.doubleclick.net/p.gif", "effectiveDirective": "img-src"},
    },
]


def post(
    app: Serve, body: bytes, content_type: str = "application/csp-report", method: str = "POST"
) -> Response:
    headers = [
        ("Host", "testserver"),
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cookie", consent_cookie(token(["marketing"]))),
    ]
    return app(method=method, path=REPORT_PATH, headers=headers, body=body)


def test_reports_answer_204_and_log_each_blocked_host_once(
    adapter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[CspViolation] = []
    app = serve(adapter, on_csp_violation=heard.append)
    caplog.set_level(logging.INFO, logger="cookieguard")
    for _ in range(3):
        response = post(app, json.dumps(REPORT).encode())
        assert response.status == 204 and response.body == b""
        assert response.set_cookies == []
    response = post(app, json.dumps(BATCH).encode(), "application/reports+json")
    assert response.status == 204 and response.set_cookies == []
    logged = [r.getMessage() for r in caplog.records if r.name == "cookieguard"]
    assert len(logged) == 2, logged
    assert "www.youtube.com" in logged[0] and "ad.doubleclick.net" in logged[1]
    assert [v.blocked_host for v in heard] == ["www.youtube.com"] * 4 + ["ad.doubleclick.net"]
    assert heard[3].disposition == "report" and heard[3].format == "reports+json"


def test_a_failing_callback_never_breaks_the_answer(
    adapter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(violation: CspViolation) -> None:
        raise RuntimeError("down")

    response = post(serve(adapter, on_csp_violation=fail), json.dumps(REPORT).encode())
    assert response.status == 204
    assert any("on_csp_violation" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("body", "content_type", "method", "status"),
    [
        (b"{", "application/csp-report", "POST", 400),
        (b"[]", "application/csp-report", "POST", 400),
        (b"{}", "application/reports+json", "POST", 400),
        (b"{}", "text/plain", "POST", 415),
        (b"x" * (MAX_REPORT_BODY + 1), "application/csp-report", "POST", 413),
        (b"", "application/csp-report", "GET", 405),
    ],
)
def test_malformed_oversized_or_misdirected_reports(
    adapter: Any, body: bytes, content_type: str, method: str, status: int
) -> None:
    response = post(serve(adapter), body, content_type, method)
    assert response.status == status
    assert response.set_cookies == []


def test_no_report_endpoint_with_csp_off(adapter: Any) -> None:
    response = post(serve(adapter, csp="off"), json.dumps(REPORT).encode())
    assert response.status != 204  # the application's own answer


BODIES = st.one_of(
    st.binary(max_size=512),
    st.recursive(
        st.none() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
        max_leaves=12,
    ).map(lambda value: json.dumps(value).encode()),
    st.builds(
        lambda body: json.dumps({"csp-report": body}).encode(),
        st.dictionaries(
            st.sampled_from(["blocked-uri", "document-uri", "effective-directive", "disposition"]),
            st.text(max_size=40) | st.integers() | st.none(),
        ),
    ),
)


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=BODIES,
    content_type=st.sampled_from(
        ["application/csp-report", "application/reports+json", "application/json", ""]
    ),
)
def test_any_report_is_a_204_or_a_4xx(kind: str, body: bytes, content_type: str) -> None:
    response = post(serve(ADAPTERS[kind]), body, content_type)
    assert response.status == 204 or 400 <= response.status < 500
    assert response.set_cookies == []


def test_the_report_path_follows_consent_path() -> None:
    guard = Guard.create(registry=REGISTRY, secret_key=KEY, csp="enforce", consent_path="/cg/")
    assert guard.csp is not None and guard.csp.report_uri == "/cg/csp-report"


# -- an application mounted under a prefix (WSGI SCRIPT_NAME) ------------------------


def _mounted(kind: str, prefix: str) -> Any:
    """The guarded app of ``kind`` mounted at ``prefix`` by Werkzeug's dispatcher."""
    if kind == "flask":
        app: Any = Flask(__name__)
        app.add_url_rule("/", "index", lambda: FlaskResponse("<p>hello</p>"))
        CookieGuard(app, registry=REGISTRY, secret_key=KEY, csp="enforce")
    else:

        def page(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("200 OK", [HTML])
            return [b"<p>hello</p>"]

        app = wsgi.CookieGuardMiddleware(page, registry=REGISTRY, secret_key=KEY, csp="enforce")
    return DispatcherMiddleware(NotFound(), {prefix: app})


@pytest.mark.parametrize("kind", ["wsgi", "flask"])
def test_under_a_mount_prefix_the_report_url_carries_it(kind: str) -> None:
    app = _mounted(kind, "/shop")
    page = call_wsgi(app, path="/shop/", headers=[("Host", "testserver")])
    (policy,) = policies(page)
    assert sources(policy, "report-uri") == [f"/shop{REPORT_PATH}"]

    # The report endpoint answers there, and the frame page's policy says the same.
    def served(**request: Any) -> Response:
        return call_wsgi(app, **{**request, "path": f"/shop{request['path']}"})

    assert post(served, json.dumps(REPORT).encode()).status == 204
    frame = call_wsgi(
        app,
        path="/shop/cookieguard/consent/embed",
        query="service=youtube&src=https%3A%2F%2Fwww.youtube-nocookie.com%2Fembed%2Fx&title=v",
        headers=[("Host", "testserver"), ("Cookie", consent_cookie(token(["marketing"])))],
    )
    assert frame.status == 200
    (added,) = [p for p in policies(frame) if "report-uri" in p]
    assert sources(added, "report-uri") == [f"/shop{REPORT_PATH}"]
    # The same app at the root: no prefix.
    (policy,) = policies(call_wsgi(_mounted(kind, "/"), headers=[("Host", "testserver")]))
    assert sources(policy, "report-uri") == [REPORT_PATH]


@pytest.mark.parametrize(
    "prefix", ["/a;script-src *", "/a,b", "/a b", "/a'b", "/a\tb", "/" + "x" * 300]
)
def test_a_prefix_that_could_end_the_report_url_is_left_out(prefix: str) -> None:
    page = call_wsgi(_mounted("wsgi", prefix), path=f"{prefix}/", headers=[("Host", "testserver")])
    at_root = call_wsgi(_mounted("wsgi", "/"), headers=[("Host", "testserver")])
    assert policies(page) == policies(at_root)  # the reports are lost, never the policy
