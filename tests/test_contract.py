"""Every rule of the contract's decision, one table, four adapters.

Each case of :data:`tests.support.cases.CASES` runs through a raw WSGI app, a raw ASGI app
(header names sent exactly as written, raw ``b"Set-Cookie"`` included), a real Flask
app and a real Starlette app, and must give a visitor the same ``Set-Cookie`` and
``Vary`` headers in every one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from flask import Flask, make_response, request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from tests.support.cases import (
    ALL_SET,
    CASES,
    KEY,
    REGISTRY,
    Case,
    Response,
    Seen,
    call_asgi,
    call_wsgi,
    middleware_options,
    raw_asgi_app,
    raw_wsgi_app,
    request_headers,
    sc,
    seen_names,
)

from cookieguard import Verdict, asgi, wsgi
from cookieguard.flask import CookieGuard, current_consent
from cookieguard.starlette import get_consent

Serve = Callable[[Sequence[tuple[str, str]], Seen, dict[str, Any]], Callable[..., Response]]


def _wsgi(response: Sequence[tuple[str, str]], seen: Seen, options: dict[str, Any]) -> Any:
    app = wsgi.CookieGuardMiddleware(raw_wsgi_app(response, seen), **options)
    return lambda **request: call_wsgi(app, **request)


def _asgi(response: Sequence[tuple[str, str]], seen: Seen, options: dict[str, Any]) -> Any:
    app = asgi.CookieGuardMiddleware(raw_asgi_app(response, seen), **options)
    return lambda **request: call_asgi(app, **request)


def _flask(response: Sequence[tuple[str, str]], seen: Seen, options: dict[str, Any]) -> Any:
    app = Flask(__name__)

    @app.get("/")
    def index() -> Any:
        seen.cookie = request.headers.get("Cookie")
        seen.consent = current_consent()
        reply = make_response("hello")
        reply.headers.add("X-Before", "1")
        for name, value in response:
            reply.headers.add(name, value)
        reply.headers.add("X-After", "2")
        return reply

    CookieGuard(app, **options)
    return lambda **request: call_wsgi(app, **request)


def _starlette(response: Sequence[tuple[str, str]], seen: Seen, options: dict[str, Any]) -> Any:
    async def index(request: Request) -> PlainTextResponse:
        seen.cookie = request.headers.get("cookie")
        seen.consent = get_consent(request)
        reply = PlainTextResponse("hello")
        reply.raw_headers.append((b"X-Before", b"1"))
        reply.raw_headers.extend((k.encode(), v.encode()) for k, v in response)
        reply.raw_headers.append((b"X-After", b"2"))
        return reply

    app = Starlette(
        routes=[Route("/", index)],
        middleware=[Middleware(asgi.CookieGuardMiddleware, **options)],
    )
    return lambda **request: call_asgi(app, **request)


ADAPTERS: dict[str, Any] = {
    "wsgi": _wsgi,
    "asgi": _asgi,
    "flask": _flask,
    "starlette": _starlette,
}


@pytest.fixture(params=list(ADAPTERS))
def serve(request: pytest.FixtureRequest) -> Any:
    return ADAPTERS[request.param]


def attributes(set_cookie: str) -> dict[str, str]:
    pairs = [part.strip().partition("=") for part in set_cookie.split(";")[1:]]
    return {key.lower(): value for key, _, value in pairs}


def name_of(set_cookie: str) -> str:
    return set_cookie.partition(";")[0].partition("=")[0].strip(" \t")


def is_subsequence(items: Sequence[str], of: Sequence[str]) -> bool:
    remaining = iter(of)
    return all(any(item == other for other in remaining) for item in items)


def assert_meets(
    case: Case, response: Response, seen: Seen, *, trimmed: bool = False, one_vary: bool = False
) -> None:
    """``response`` gives the visitor what ``case`` says; ``seen`` is what the app saw.

    ``trimmed``: kept headers are compared without the spaces and tabs around them
    (Django's ``ASGIHandler`` strips them). ``one_vary``: the case's ``Vary`` values
    arrive as one header (Django keeps one value per header name).
    """
    set_cookies = response.set_cookies
    kept, added = set_cookies[: len(case.kept)], set_cookies[len(case.kept) :]
    assert [name_of(v) for v in kept] == list(case.kept)
    sent = [v for k, v in case.response if k.strip(" \t").lower() == "set-cookie"]
    if trimmed:
        sent, kept = [v.strip(" \t") for v in sent], [v.strip(" \t") for v in kept]
    assert is_subsequence(kept, sent), "kept headers must pass unchanged and in order"
    assert [name_of(v) for v in added] == [name for name, _, _ in case.deleted]
    for (_, path, domain), deletion in zip(case.deleted, added, strict=True):
        attrs = attributes(deletion)
        assert deletion.partition(";")[0].partition("=")[2] == ""
        assert attrs["max-age"] == "0"
        assert attrs.get("path") == path
        assert attrs.get("domain", "").lstrip(".") == (domain or "").lstrip(".")
    vary = [", ".join(case.vary)] if one_vary and case.vary else list(case.vary)
    assert response.values("vary") == vary
    others = [k.lower() for k, _ in case.response if k.lower().startswith("x-")]
    received = [k.lower() for k, _ in response.headers if k.lower().startswith("x-")]
    assert received == ["x-before", *others, "x-after"]
    assert response.status == 200
    assert response.body == b"hello"
    for category, expected in case.allows.items():
        assert seen.consent.allows(category) is expected, category
    for service, expected in case.allows_service.items():
        assert seen.consent.allows_service(service) is expected, service
    if case.seen_cookies is not None:
        assert seen_names(seen.cookie) == case.seen_cookies


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(serve: Any, case: Case) -> None:
    seen = Seen()
    response = serve(case.response, seen, middleware_options(case))(headers=request_headers(case))
    assert_meets(case, response, seen)


def test_unknown_names_reported_once_per_name_per_instance(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    response = (sc("mystery=1"), sc("mystery=2"), sc("other=1"), sc("mystery=; Max-Age=0"))
    options = {"registry": REGISTRY, "secret_key": KEY}
    caplog.set_level(logging.WARNING, logger="cookieguard")
    first = serve(response, Seen(), options)
    first()
    first()
    reported = [r.getMessage() for r in caplog.records if r.name == "cookieguard"]
    assert sum("'mystery'" in m for m in reported) == 1
    assert sum("'other'" in m for m in reported) == 1
    caplog.clear()
    serve(response, Seen(), options)()  # another middleware instance reports again
    assert sum("'mystery'" in r.getMessage() for r in caplog.records) == 1


def test_unknown_allowed_is_reported_too(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="cookieguard")
    options = {"registry": REGISTRY, "secret_key": KEY, "unknown": "allow"}
    response = serve((sc("mystery=1"),), Seen(), options)()
    assert response.set_cookies == ["mystery=1"]
    assert [r.getMessage() for r in caplog.records if "'mystery'" in r.getMessage()]


def test_report_only_reports_everything(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    violations: list[Verdict] = []
    options = {
        "registry": REGISTRY,
        "secret_key": KEY,
        "report_only": True,
        "on_violation": violations.append,
    }
    caplog.set_level(logging.INFO, logger="cookieguard")
    response = serve(ALL_SET, Seen(), options)(headers=[("Cookie", "_pk_ses.1=1")])
    assert [name_of(v) for v in response.set_cookies] == [
        "sessionid",
        "django_language",
        "_pk_id.1.abcd",
        "ads",
    ]
    assert response.values("vary") == []
    reported = {(v.name, v.category, v.allowed) for v in violations}
    assert reported == {
        ("django_language", "preferences", False),
        ("_pk_id.1.abcd", "statistics", False),
        ("ads", "marketing", False),
        ("_pk_ses.1", "statistics", False),
    }
    logged = " ".join(r.getMessage() for r in caplog.records)
    for name in ("django_language", "_pk_id.1.abcd", "ads", "_pk_ses.1"):
        assert repr(name) in logged


def test_removals_are_logged_at_debug_level(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    options = {"registry": REGISTRY, "secret_key": KEY}
    caplog.set_level(logging.INFO, logger="cookieguard")
    serve(ALL_SET, Seen(), options)()
    assert not [r for r in caplog.records if "'ads'" in r.getMessage()]
    caplog.set_level(logging.DEBUG, logger="cookieguard")
    serve(ALL_SET, Seen(), options)()
    removed = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("removed cookie 'ads'" in m and "'marketing'" in m for m in removed)


def test_on_violation_sees_every_removal(serve: Any) -> None:
    violations: list[Verdict] = []
    options = {"registry": REGISTRY, "secret_key": KEY, "on_violation": violations.append}
    serve((*ALL_SET, sc("mystery=1")), Seen(), options)(headers=[("Sec-GPC", "1")])
    assert [(v.name, v.reason) for v in violations] == [
        ("django_language", "not-granted"),
        ("_pk_id.1.abcd", "not-granted"),
        ("ads", "not-granted"),
        ("mystery", "unknown"),
    ]


def test_a_failing_on_violation_never_breaks_the_response(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(verdict: Verdict) -> None:
        raise RuntimeError("reporting is down")

    options = {"registry": REGISTRY, "secret_key": KEY, "on_violation": explode}
    caplog.set_level(logging.ERROR, logger="cookieguard")
    response = serve(ALL_SET, Seen(), options)()
    assert [name_of(v) for v in response.set_cookies] == ["sessionid"]
    assert any("on_violation" in r.getMessage() for r in caplog.records)
