"""The audit, on small real apps: Flask (WSGI) and Starlette (ASGI), wrapped or not."""

from __future__ import annotations

import calendar
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask, make_response
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.middleware.proxy_fix import ProxyFix

from cookieguard import Category, Cookie, Registry, wsgi
from cookieguard.asgi import CookieGuardMiddleware
from cookieguard.audit import (
    CNIL_MAX_LIFETIME,
    AuditReport,
    audit_app,
    consent_states,
    cookie_lifetime,
    declared_lifetime,
    find_middleware,
)
from cookieguard.cli import main
from cookieguard.flask import CookieGuard, current_consent
from cookieguard.starlette import get_consent

registry = Registry(
    [
        Category("necessary", required=True),
        Category("statistics"),
        Category("marketing", gpc_opt_out=True),
    ],
    [
        Cookie("sessionid", "necessary"),
        Cookie("_pk_id.*", "statistics", duration="13 months"),
        Cookie("ad_id", "marketing", duration="6 months"),
    ],
)
OTHER_REGISTRY = Registry([Category("necessary", required=True)], [])
YEAR = 365 * 86_400
HERE = __name__  # this module, as the command line imports it


# -- Flask ---------------------------------------------------------------------------


def flask_app(*, guarded: bool, undeclared: bool = False, consent_aware: bool = True) -> Flask:
    app = Flask(f"audit-{guarded}-{undeclared}-{consent_aware}")
    app.secret_key = "flask-test-key"

    @app.get("/")
    def home() -> Any:
        response = make_response("home")
        response.set_cookie("sessionid", "s1", httponly=True)
        if not consent_aware or current_consent().allows("statistics"):
            response.set_cookie("_pk_id.1.abcd", "v", max_age=YEAR)
        if not consent_aware or current_consent().allows("marketing"):
            response.set_cookie("ad_id", "a", max_age=180 * 86_400)
        if undeclared:
            response.set_cookie("tracker", "t")
        return response

    @app.get("/logout")
    def logout() -> Any:
        response = make_response("bye")
        response.delete_cookie("sessionid")  # a deletion is not a cookie being set
        return response

    if guarded:
        CookieGuard(app, registry=registry)
    return app


flask_clean = flask_app(guarded=True)
flask_undeclared = flask_app(guarded=True, undeclared=True)
flask_unguarded = flask_app(guarded=False, consent_aware=False)
flask_careless = flask_app(guarded=True, consent_aware=False)  # the guard strips for it


# -- Starlette -------------------------------------------------------------------------


async def starlette_home(request: Request) -> Response:
    response = PlainTextResponse("home")
    response.set_cookie("sessionid", "s1")
    consent = request.scope.get("cookieguard.consent")
    if consent is None or get_consent(request).allows("marketing"):
        response.set_cookie("ad_id", "a", max_age=2 * YEAR)
    return response


async def starlette_undeclared(request: Request) -> Response:
    response = PlainTextResponse("oops")
    response.set_cookie("_hjSessionUser_1", "h")
    return response


async def starlette_boom(request: Request) -> Response:
    raise RuntimeError("the database is down")


ROUTES = [
    Route("/", starlette_home),
    Route("/hotjar", starlette_undeclared),
    Route("/boom", starlette_boom),
]
GUARD = Middleware(CookieGuardMiddleware, registry=registry, secret_key="starlette-test-key")

starlette_clean = Starlette(routes=ROUTES, middleware=[GUARD])
starlette_unguarded = Starlette(routes=ROUTES)


class AdsEverywhere:
    """A middleware placed outside cookieguard: what it sets bypasses the guard."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_with_ad(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", b"ad_id=x")]
            await send(message)

        await self.app(scope, receive, send_with_ad)


starlette_bypassed = Starlette(routes=ROUTES, middleware=[Middleware(AdsEverywhere), GUARD])


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"greeting": "started"}


async def needs_startup(request: Request) -> Response:
    response = PlainTextResponse(request.state.greeting)
    response.set_cookie("sessionid", request.state.greeting)
    return response


starlette_lifespan = Starlette(
    routes=[Route("/", needs_startup)], middleware=[GUARD], lifespan=lifespan
)


async def bare_asgi(scope: Any, receive: Any, send: Any) -> None:
    """A plain ASGI callable that knows no lifespan and sets a marketing cookie."""
    assert scope["type"] == "http"
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"set-cookie", b"ad_id=1")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


def names(findings: Any) -> set[str]:
    return {f.name for f in findings}


# -- the function ----------------------------------------------------------------------


@pytest.mark.parametrize("app", [flask_clean, starlette_clean], ids=["flask", "starlette"])
def test_a_clean_app_is_clean(app: Any) -> None:
    report = audit_app(app)
    assert report.clean, report.to_text()
    assert report.guarded
    assert report.undeclared == report.leaks == report.errors == ()
    states = {o.state for o in report.observations if o.name == "ad_id"}
    assert states == {"only:marketing", "all"}
    assert all(o.consented for o in report.observations)


def test_every_consent_state_is_visited() -> None:
    assert [s.name for s in consent_states(registry)] == [
        "none",
        "necessary-only",
        "only:statistics",
        "only:marketing",
        "all",
    ]
    report = audit_app(flask_clean)
    sessions = [o.state for o in report.observations if o.name == "sessionid"]
    assert sessions == list(report.states)


def test_the_flask_interface_and_key_are_found() -> None:
    report = audit_app(flask_clean)
    assert report.interface == "wsgi"
    # The consent cookies were signed with the app's key: the app saw the consent.
    assert {o.name for o in report.observations if o.state == "all"} == {
        "sessionid",
        "_pk_id.1.abcd",
        "ad_id",
    }


@pytest.mark.parametrize(
    ("app", "path", "cookie"),
    [(flask_undeclared, "/", "tracker"), (starlette_clean, "/hotjar", "_hjSessionUser_1")],
    ids=["flask", "starlette"],
)
def test_an_undeclared_cookie_is_named_even_when_stripped(app: Any, path: str, cookie: str) -> None:
    report = audit_app(app, paths=[path])
    assert not report.clean
    assert names(report.undeclared) == {cookie}
    (finding,) = report.undeclared
    assert finding.reached_client is False
    assert finding.states == report.states
    assert f"{cookie!r} on GET {path} is not in the registry" in report.to_text()


def test_a_guarded_app_that_ignores_consent_does_not_leak() -> None:
    report = audit_app(flask_careless)
    assert report.clean
    stripped = {(o.name, o.state) for o in report.observations if o.guard == "stripped"}
    assert ("ad_id", "none") in stripped and ("_pk_id.1.abcd", "only:marketing") in stripped


@pytest.mark.parametrize(
    "app", [flask_unguarded, starlette_unguarded, bare_asgi], ids=["flask", "starlette", "bare"]
)
def test_an_unguarded_app_setting_marketing_cookies_leaks(app: Any) -> None:
    report = audit_app(app, registry)
    assert not report.guarded and not report.clean
    leak = next(f for f in report.leaks if f.name == "ad_id")
    assert leak.category == "marketing" and leak.reached_client
    assert leak.states == ("none", "necessary-only", "only:statistics")
    # What a cookieguard in front of it would have done:
    ads = {o.state: o.guard for o in report.observations if o.name == "ad_id"}
    assert ads["none"] == "stripped" and ads["all"] == "passed"


def test_a_cookie_set_outside_the_middleware_is_a_leak() -> None:
    report = audit_app(starlette_bypassed)
    assert names(report.leaks) == {"ad_id"}
    outside = [o for o in report.observations if o.name == "ad_id" and o.state == "none"]
    assert outside[0].guard == "bypassed" and outside[0].reached_client
    assert "set outside cookieguard, which never saw it" in report.to_text()


def test_the_asgi_lifespan_runs_around_the_requests() -> None:
    report = audit_app(starlette_lifespan)
    assert report.clean, report.to_text()
    assert report.interface == "asgi"
    assert len(report.observations) == len(report.states)


def test_a_request_that_raises_is_an_error() -> None:
    report = audit_app(starlette_clean, paths=["/boom"])
    assert not report.clean
    assert len(report.errors) == len(report.states)
    assert "the database is down" in report.errors[0].message


def test_a_missing_page_is_an_error_not_a_clean_audit() -> None:
    report = audit_app(flask_clean, paths=["/", "/no-such-page"])
    assert not report.clean
    assert [f.message for f in report.errors][:1] == ["GET /no-such-page answered 404 (state none)"]
    assert len(report.errors) == len(report.states)


def test_long_lifetimes_of_optional_cookies_are_warnings() -> None:
    report = audit_app(starlette_clean)
    (warning,) = report.long_lived
    assert warning.name == "ad_id" and "730 days" in warning.message
    assert report.clean and report.exit_code() == 0 and report.exit_code(strict=True) == 1
    # A year-long statistics cookie (flask_clean) and a "13 months" declaration are fine.
    assert audit_app(flask_clean).long_lived == ()


def test_declared_durations_over_13_months_are_flagged() -> None:
    loose = Registry(
        [Category("necessary", required=True), Category("ads")],
        [Cookie("sid", "necessary", duration="10 years"), Cookie("ad", "ads", duration="2 years")],
    )
    report = audit_app(bare_asgi, loose)
    assert [(f.name, f.path) for f in report.long_lived] == [("ad", None)]


def test_lifetimes() -> None:
    assert cookie_lifetime("a=1; Max-Age=60; Expires=Wed, 21 Oct 2099 07:28:00 GMT") == 60
    assert cookie_lifetime("a=1; Expires=Thu, 01 Jan 1970 00:01:40 GMT", now=0) == 100
    assert cookie_lifetime("a=1; Path=/") is None


def test_lifetimes_are_read_as_chromium_reads_them() -> None:
    """The audit reads attributes through the one Set-Cookie reader (cookieguard.setcookie)."""
    disguised = "a=1; Max-Age=60; Max-Age=abc; Expires=Thu, 01 Jan 1970 00:01:40 GMT"
    assert cookie_lifetime(disguised, now=0) == 100  # the last Max-Age is no integer: Expires
    assert cookie_lifetime("a=1; Max-Age=+100") == 100  # Chromium's integers take a "+"
    in_2069 = calendar.timegm((2069, 1, 1, 0, 0, 0))  # a two-digit 69 is 2069
    assert cookie_lifetime("a=1; Expires=Thu, 01 Jan 69 00:00:00 GMT", now=0) == in_2069
    assert cookie_lifetime("a=1; Expires=Thu, 01 Jan 2099 00:00 GMT") is None  # no seconds: no date
    assert cookie_lifetime(f"a=1; Max-Age={'9' * 30}") == float(2**63 - 1)


def test_declared_lifetimes() -> None:
    assert declared_lifetime("13 months") == pytest.approx(395.6 * 86_400, rel=1e-3)
    assert declared_lifetime("13 months") < CNIL_MAX_LIFETIME < declared_lifetime("14 months")  # type: ignore[operator]
    assert declared_lifetime("2 Years") == 2 * 31_557_600
    assert declared_lifetime("session") is None and declared_lifetime("") is None


def plain_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Set-Cookie", "sessionid=1"), ("Set-Cookie", "ad_id=2")])
    return [b"ok"]


def test_the_middleware_is_found_under_other_wrappers() -> None:

    app = ProxyFix(wsgi.CookieGuardMiddleware(plain_wsgi, registry=registry, secret_key="k"))
    report = audit_app(app)
    assert report.guarded and report.interface == "wsgi" and report.clean
    ads = [o.state for o in report.observations if o.name == "ad_id" and o.reached_client]
    assert ads == ["only:marketing", "all"]


def test_the_audit_leaves_the_app_as_it_found_it() -> None:
    middleware = find_middleware(flask_clean)
    assert middleware is flask_clean.extensions["cookieguard"]
    inner, outer = middleware.app, flask_clean.wsgi_app
    audit_app(flask_clean)
    assert middleware.app is inner and flask_clean.wsgi_app is outer is middleware


def test_a_starlette_app_is_audited_without_building_its_stack() -> None:
    app = Starlette(routes=ROUTES, middleware=[Middleware(AdsEverywhere), GUARD])
    assert app.middleware_stack is None
    report = audit_app(app)
    assert report.guarded and names(report.leaks) == {"ad_id"}
    assert app.middleware_stack is None  # as Starlette leaves an app that served nothing


def test_a_served_starlette_app_keeps_its_stack_and_middleware() -> None:
    app = Starlette(routes=ROUTES, middleware=[GUARD])
    with TestClient(app) as browser:
        browser.get("/")
    stack = app.middleware_stack
    middleware = find_middleware(app)
    assert stack is not None and middleware is not None
    inner = middleware.app
    assert audit_app(app).clean
    assert app.middleware_stack is stack and find_middleware(app) is middleware
    assert middleware.app is inner


def test_wrappers_outside_the_middleware_are_left_as_they_were() -> None:
    middleware = wsgi.CookieGuardMiddleware(plain_wsgi, registry=registry, secret_key="k")
    app = ProxyFix(middleware)
    assert audit_app(app).guarded
    assert app.app is middleware and middleware.app is plain_wsgi


MALFORMED = [
    "ad_id=1; Max-Age=--5",
    "_pk_id.1.abcd=1; Max-Age=\N{SUPERSCRIPT TWO}",
    "sessionid=1; Max-Age=; Expires=not a date",
    "tracker=1; Max-Age=" + "9" * 400,
    "gone=; Max-Age=-" + "9" * 400,
    "; Max-Age=5",
    "=x; Expires=Wed, 99 Foo 99999 99:99:99 GMT",
]


def malformed_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Set-Cookie", value) for value in MALFORMED])
    return [b"ok"]


@pytest.mark.parametrize("guarded", [True, False], ids=["wrapped", "not-wrapped"])
def test_malformed_cookie_attributes_never_crash_the_audit(guarded: bool) -> None:
    app: Any = malformed_wsgi
    if guarded:
        app = wsgi.CookieGuardMiddleware(app, registry=registry, secret_key="k")
    report = audit_app(app, None if guarded else registry)
    seen = {o.name: o.lifetime for o in report.observations if o.state == "none"}
    assert seen["ad_id"] is None and seen["_pk_id.1.abcd"] is None and seen["sessionid"] is None
    assert seen["tracker"] == float(2**63 - 1)  # saturated, as Chromium reads it
    assert json.loads(report.to_json())["observations"]
    assert names(report.undeclared) >= {"tracker"}


def test_a_registry_other_than_the_middlewares_is_refused() -> None:
    other = Registry([Category("necessary", required=True)], [Cookie("sessionid", "necessary")])
    with pytest.raises(ValueError, match="judges its cookies by its own registry"):
        audit_app(flask_clean, other)
    assert audit_app(flask_clean, registry).clean  # its own registry is fine


def test_an_unwrapped_app_needs_a_registry() -> None:
    with pytest.raises(ValueError, match="not wrapped in cookieguard"):
        audit_app(flask_unguarded)
    with pytest.raises(TypeError, match="not a WSGI or ASGI application"):
        audit_app(registry)


# -- the command line ------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["audit", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("app", ["flask_clean", "starlette_clean", "starlette_lifespan"])
def test_cli_a_clean_app_exits_0(capsys: pytest.CaptureFixture[str], app: str) -> None:
    code, out, err = run(capsys, f"{HERE}:{app}", "--path", "/", "--path", "/?page=2")
    assert code == 0, out
    assert "result: clean" in out
    assert err.splitlines() == ["cookieguard audit: GET /", "cookieguard audit: GET /?page=2"]


def test_cli_an_undeclared_cookie_exits_1_and_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, f"{HERE}:flask_undeclared")
    assert code == 1
    assert "undeclared  'tracker' on GET / is not in the registry" in out
    assert "tracker  [UNDECLARED]" in out


@pytest.mark.parametrize("app", ["flask_unguarded", "starlette_unguarded"])
def test_cli_an_unguarded_leaking_app_exits_1(capsys: pytest.CaptureFixture[str], app: str) -> None:
    code, out, _ = run(capsys, f"{HERE}:{app}", "--registry", f"{HERE}:registry")
    assert code == 1
    assert "NOT wrapped in cookieguard" in out
    assert "leak        'ad_id' (marketing) on GET / reached the client without consent" in out


def test_cli_the_registry_of_a_wrapped_app_may_be_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, f"{HERE}:flask_clean", "--registry", f"{HERE}:registry")
    assert code == 0 and "result: clean" in out


def test_cli_strict_fails_on_long_lifetimes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, f"{HERE}:starlette_clean")[0] == 0
    assert run(capsys, f"{HERE}:starlette_clean", "--strict")[0] == 1


def text_findings(text: str) -> list[tuple[str, str]]:
    lines = text.split("\nfindings:\n", 1)[1].split("\n\nresult:")[0].splitlines()
    return [(line[2:12].strip(), line[14:]) for line in lines]


@pytest.mark.parametrize(
    "argv",
    [
        ("flask_undeclared", "--path", "/", "--path", "/logout"),
        ("starlette_unguarded", "--registry", f"{HERE}:registry", "--path", "/hotjar"),
        ("starlette_clean", "--path", "/", "--path", "/boom", "--path", "/hotjar"),
    ],
)
def test_cli_json_parses_and_matches_the_text(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    app, *rest = argv
    text_code, text, _ = run(capsys, f"{HERE}:{app}", *rest)
    json_code, out, _ = run(capsys, f"{HERE}:{app}", *rest, "--format", "json")
    data = json.loads(out)
    assert json_code == text_code == 1 and data["clean"] is False
    from_json = [(f["kind"], f["message"]) for f in data["findings"]]
    assert from_json and from_json == text_findings(text)
    seen_in_text = {line.split()[0] for line in text.splitlines() if "  [" in line}
    assert seen_in_text == {o["name"] for o in data["observations"]}


def test_report_json_round_trips() -> None:
    report = audit_app(starlette_clean, paths=["/", "/hotjar"])
    data = json.loads(report.to_json())
    assert data["clean"] is report.clean is False
    assert len(data["observations"]) == len(report.observations)
    assert isinstance(report, AuditReport)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nowhere.at.all:app"], "cannot import module 'nowhere.at.all'"),
        ([f"{HERE}:nothing"], f"module '{HERE}' has no attribute 'nothing'"),
        ([f"{HERE}:registry"], f"{HERE}:registry is a Registry, not a WSGI or ASGI app"),
        ([f"{HERE}:flask_unguarded"], "not wrapped in cookieguard: pass --registry"),
        (
            [f"{HERE}:flask_unguarded", "--registry", f"{HERE}:YEAR"],
            "is a int, not a cookieguard.Registry",
        ),
        ([f"{HERE}:flask_clean", "--path", "nope"], "paths must start with '/': nope"),
        (
            [f"{HERE}:flask_clean", "--registry", f"{HERE}:OTHER_REGISTRY"],
            f"{HERE}:flask_clean is wrapped in cookieguard, which judges its cookies by its own "
            f"registry, not {HERE}:OTHER_REGISTRY: leave --registry out, or wrap the app with it",
        ),
        (["no-colon"], "'no-colon' is not MODULE:NAME"),
    ],
)
def test_cli_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", *argv])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


# -- the examples ----------------------------------------------------------------------

# The page of each example that sets every cookie at once, one of them deliberately
# undeclared, to show the middleware stripping it.
DEMO_PAGE = "/set-cookies"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith("/") and not href.startswith("//"):
            self.paths.append(href.split("#")[0])


def example_pages(module: Any) -> list[str]:
    """The home page and every same-site page it links (the examples link them all)."""
    if isinstance(module.app, Flask):
        home = module.app.test_client().get("/").get_data(as_text=True)
    else:
        with TestClient(module.app) as client:
            home = client.get("/").text
    links = Links()
    links.feed(home)
    return list(dict.fromkeys(["/", *(p for p in links.paths if not p.startswith("/static/"))]))


@pytest.mark.parametrize("example", ["starlette_app", "flask_app"])
def test_the_examples_pass_the_audit(capsys: pytest.CaptureFixture[str], example: str) -> None:
    """Clean on their pages; the demo page's undeclared cookie never reaches the client."""
    module = pytest.importorskip(
        f"examples.{example}.app", reason=f"examples/{example}/app.py is not written yet"
    )
    pages = example_pages(module)
    assert DEMO_PAGE in pages and len(pages) >= 3
    ordinary = [p for p in pages if p != DEMO_PAGE]
    argv = [f"examples.{example}.app:app", *(a for p in ordinary for a in ("--path", p))]
    code, out, _ = run(capsys, *argv)
    assert code == 0, out

    report = audit_app(module.app, paths=pages)
    assert report.leaks == report.errors == (), report.to_text()
    assert report.undeclared, "the demo page sets an undeclared cookie on purpose"
    for finding in report.undeclared:
        assert finding.path == DEMO_PAGE and not finding.reached_client
    reached = {o.name for o in report.observations if o.state == "all" and o.reached_client}
    exact = {c.name for c in module.registry.cookies if not c.is_pattern}
    assert exact <= reached


# -- services ----------------------------------------------------------------------------


def video_app(*, guarded: bool, by_service: bool) -> Any:
    """A page embedding a video: it sets YouTube's cookie when it thinks it may."""
    from tests.support.cases import KEY, SERVICES

    async def video(request: Request) -> Response:
        response = PlainTextResponse("video")
        consent = request.scope.get("cookieguard.consent")
        allowed = consent is None or (
            consent.allows_service("youtube") if by_service else consent.allows("marketing")
        )
        if allowed:
            response.set_cookie("YSC", "y")
        response.set_cookie("IDE", "i")  # DoubleClick, whatever the consent
        return response

    middleware = [Middleware(CookieGuardMiddleware, registry=SERVICES, secret_key=KEY)]
    return Starlette(routes=[Route("/video", video)], middleware=middleware if guarded else [])


def test_the_states_include_each_service_granted_one_by_one() -> None:
    from tests.support.cases import SERVICES

    states = consent_states(SERVICES)
    assert [s.name for s in states] == [
        "none",
        "necessary-only",
        "only:statistics",
        "only:marketing",
        "service:youtube",
        "service:doubleclick",
        "service:matomo",
        "all",
    ]
    youtube = states[4]
    assert (youtube.granted, youtube.services) == (frozenset(), frozenset({"youtube"}))


def test_a_cookie_of_a_service_is_judged_by_the_service_state() -> None:
    report = audit_app(video_app(guarded=True, by_service=True), paths=["/video"])
    ysc = {o.state: (o.consented, o.reached_client) for o in report.observations if o.name == "YSC"}
    assert ysc["service:youtube"] == (True, True)
    assert ysc["only:marketing"] == (True, True)
    assert "service:doubleclick" not in ysc  # not set: the app asked for youtube only
    ide = {o.state: (o.consented, o.reached_client) for o in report.observations if o.name == "IDE"}
    assert ide["service:youtube"] == (False, False)  # stripped: another service
    assert ide["service:doubleclick"] == (True, True)
    assert [f for f in report.findings if f.kind == "leak"] == []


def test_an_unguarded_app_leaking_a_service_cookie_names_the_states() -> None:
    from tests.support.cases import SERVICES

    report = audit_app(video_app(guarded=False, by_service=True), SERVICES, ["/video"])
    leaks = {f.name: f.states for f in report.findings if f.kind == "leak"}
    assert leaks["IDE"] == (
        "none",
        "necessary-only",
        "only:statistics",
        "service:youtube",
        "service:matomo",
    )
    assert leaks["YSC"] == (
        "none",
        "necessary-only",
        "only:statistics",
        "service:doubleclick",
        "service:matomo",
    )


def test_an_app_gating_by_category_misses_the_service_grant_but_does_not_leak() -> None:
    report = audit_app(video_app(guarded=True, by_service=False), paths=["/video"])
    ysc = [o.state for o in report.observations if o.name == "YSC"]
    assert "service:youtube" not in ysc and "only:marketing" in ysc
    assert [f for f in report.findings if f.kind == "leak"] == []
