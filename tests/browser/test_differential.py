"""Chromium as the judge of every header shape the middleware treats specially (issue 14).

Each shape is one response of a raw ASGI app (uvicorn) or raw WSGI app
(Werkzeug's server) whose headers are written exactly as the table says:
disguised deletions, odd ``Max-Age`` and ``Expires`` values, header names and
values that servers pass on verbatim, ASGI header types, WebSocket handshakes,
``clean_request`` and withdrawals. It is served twice, bare and behind the
middleware, to a new visitor and to a returning one whose jar already holds
every declared name at its declared path, and Chromium's jar is read each time.

The visitor consented to ``statistics`` and refused ``marketing``. What must hold:

- the jar never gains a cookie of a refused (or undeclared) name, and a
  returning visitor holds none of the refused ones afterwards;
- necessary and consented cookies end as they do without the middleware
  (unless the shape is one the middleware must drop whole, such as a value
  carrying CR or LF).

A failure shows the headers the middleware let out next to what Chromium kept.
"""

from __future__ import annotations

import http.cookies
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright
from tests.browser.chromium import launch
from tests.browser.jar import (
    CASE_PATH,
    CONSENT_COOKIE,
    RESOLVE_TEST_HOSTS,
    SECRET,
    Outcome,
    case_index,
    consent_cookie,
    run_cases,
    seed_app,
)
from tests.browser.servers import serve_asgi, serve_wsgi

from cookieguard import Category, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware as AsgiGuard
from cookieguard.wsgi import CookieGuardMiddleware as WsgiGuard

pytestmark = pytest.mark.browser

REGISTRY = Registry(
    categories=[
        Category("necessary", required=True),
        Category("statistics"),
        Category("marketing"),
    ],
    cookies=[
        Cookie("sessionid", "necessary"),
        Cookie("_pk_id.*", "statistics"),
        Cookie("_ga", "marketing"),
        Cookie("_gid", "marketing"),
        Cookie("_gcl_*", "marketing"),
    ],
)
#: What a returning visitor holds: every declared name at its declared path, ``/``.
HELD = ("sessionid", "_pk_id.1", "_ga", "_gid", "_gcl_au")
ALLOWED = {"sessionid", "_pk_id.1", CONSENT_COOKIE}
CONSENT = consent_cookie("statistics")
# Each shape's host holds up to 5 seeds and a few more: 12 shapes stay far under 180 cookies.
GROUP_SIZE = 12
PAST = "Thu, 01 Jan 1970 00:00:00 GMT"
LONG = "1" * 1100  # over the 1,024 bytes Chromium reads of an attribute value


@dataclass(frozen=True)
class Shape:
    """One response: the headers the application writes, per adapter."""

    id: str
    asgi: tuple[tuple[Any, Any], ...] | None  # None: the shape does not exist on ASGI
    wsgi: tuple[tuple[str, str], ...] | None  # None: ... on WSGI
    late: tuple[tuple[str, str], ...] = ()  # WSGI: appended after start_response
    as_sent: bool = True  # allowed cookies must end as without the middleware
    websocket: bool = False  # ASGI: the headers go out with websocket.accept
    seed: tuple[str, ...] = ()  # more Set-Cookie lines a returning visitor got earlier
    clean: str | None = None  # "strip"/"allow": behind clean_request=True with that unknown=
    echo: bool = False  # the app re-sets every cookie SimpleCookie reads in its request


def sc(shape_id: str, *values: str, name: str = "Set-Cookie", **extra: Any) -> Shape:
    """A shape writing ``values`` as ``name`` headers on both adapters."""
    return Shape(
        shape_id,
        asgi=tuple((name.lower().encode(), value.encode()) for value in values),
        # PEP 3333: header text is latin-1, so UTF-8 bytes go as their latin-1 reading.
        wsgi=tuple((name, value.encode().decode("latin-1")) for value in values),
        **extra,
    )


MAX_AGE_TAILS = {
    "abc": "Max-Age=abc",
    "bare": "Max-Age",
    "empty": "Max-Age=",
    "plus": "Max-Age=+100",
    "exponent": "Max-Age=1e3",
    "arabic-digits": "Max-Age=\u0663\u0660\u0660",
    "fullwidth-digits": "Max-Age=\uff11\uff10\uff10",
    "hex": "Max-Age=0x10",
    "double-minus": "Max-Age=--5",
    "fraction": "Max-Age=2.5",
    "space-inside": "Max-Age=1 0",
    "huge": "Max-Age=99999999999999999999999",
    "lowercase-valid": "max-age=100",
    "spaced-name": "Max-Age =100",
    "over-1024": f"Max-Age={LONG}",
    "minus-over-1024": f"Max-Age=-{LONG}",
}
EXPIRES = {
    "two-digit-69": "Expires=Thu, 01 Jan 69 00:00:00 GMT",
    "two-digit-69-bare": "Expires=01 Jan 69 00:00:00",
    "no-seconds": "Expires=Thu, 01 Jan 1970 00:00 GMT",
    "zone-plus": "Expires=Thu, 01 Jan 1970 00:00:00 +0100",
    "zone-pst": "Expires=Thu, 01 Jan 1970 00:00:00 PST",
    "zone-utc-minus": "Expires=Wed, 31 Dec 1969 23:00:00 -0200",
    "dashes": "Expires=Thu, 01-Jan-1970 00:00:00 GMT",
    "asctime": "Expires=Thu Jan  1 00:00:00 1970",
    "year-1600": "Expires=Sat, 01 Jan 1600 00:00:00 GMT",
    "year-99": "Expires=Fri, 31 Dec 99 23:59:59 GMT",
    "garbage-after-past": f"Expires={PAST}; Expires=garbage",
    "past-over-1024": f"Expires={PAST}{' ' * 1100}x",
    "past-then-future": f"Expires={PAST}; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
    "future-then-past": f"Expires=Fri, 01 Jan 2100 00:00:00 GMT; Expires={PAST}",
    "past-then-max-age": f"Expires={PAST}; Max-Age=100",
    "max-age-then-past": f"Max-Age=100; Expires={PAST}",
    "numeric": "Expires=0",
    "date-only": "Expires=Thu, 01 Jan 1970",
}

SHAPES: list[Shape] = [
    # What passes, what does not, as the application means it.
    sc("plain-necessary", "sessionid=1; Path=/"),
    sc("plain-consented", "_pk_id.1=1; Path=/; Max-Age=600"),
    sc("plain-refused", "_ga=1; Path=/"),
    sc("plain-unknown", "mystery=1; Path=/"),
    sc("delete-necessary", f"sessionid=; Expires={PAST}; Path=/"),
    sc("delete-consented", "_pk_id.1=; Max-Age=0; Path=/"),
    sc("all-at-once", "sessionid=2", "_pk_id.1=2", "_ga=2", "_gid=2", "_gcl_au=2"),
    # Disguised deletions: a valid-looking Max-Age=0 followed by one Chromium reads instead.
    *(
        sc(f"max-age-0-then-{key}", f"_ga=1; Max-Age=0; {tail}")
        for key, tail in MAX_AGE_TAILS.items()
    ),
    *(sc(f"max-age-{key}", f"_ga=1; {tail}") for key, tail in MAX_AGE_TAILS.items()),
    # Expires as email.utils and as RFC 6265's cookie-date algorithm read it.
    *(sc(f"expires-{key}", f"_ga=1; {tail}") for key, tail in EXPIRES.items()),
    sc(
        "max-age-minus-then-expires-future",
        "_ga=1; Max-Age=-1; Max-Age=x; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
    ),
    sc("delete-refused-canonical", f"_ga=; Max-Age=0; Expires={PAST}; Path=/"),
    sc("delete-refused-other-path", "_ga=1; Max-Age=0; Path=/elsewhere"),
    sc("delete-refused-default-path", "_ga=x; Max-Age=0"),
    sc("delete-refused-domain", "_ga=; Max-Age=0; Path=/; Domain=nowhere.test"),
    sc("expired-then-fresh", "_ga=old; Max-Age=0; Path=/", "_ga=new; Path=/"),
    sc("fresh-then-expired", "_ga=new; Path=/", "_ga=old; Max-Age=0; Path=/"),
    sc("delete-with-value", "_ga=GA1.2.3; Max-Age=0; Path=/"),
    sc("delete-consented-disguised", "_pk_id.1=1; Max-Age=0; Max-Age=abc; Path=/"),
    sc("delete-glob-disguised", "_gcl_au=1; Max-Age=0; Max-Age=+5; Path=/"),
    sc("delete-secure-samesite", "_ga=; Max-Age=0; Path=/; Secure; SameSite=None; Partitioned"),
    # Header names that servers write verbatim.
    *(
        sc(f"name-{key}", "_ga=1; Path=/", name=name)
        for key, name in {
            "upper": "SET-COOKIE",
            "mixed": "sEt-CoOkIe",
            "trailing-space": "Set-Cookie ",
            "trailing-tab": "Set-Cookie\t",
            "trailing-colon": "Set-Cookie:",
            "leading-space": " Set-Cookie",
        }.items()
    ),
    # CR, LF and NUL in values: a verbatim writer would let the browser read a second header.
    Shape(
        "crlf-in-necessary",
        asgi=((b"set-cookie", b"sessionid=1\r\nSet-Cookie: _ga=1; Path=/"),),
        wsgi=(("Set-Cookie", "sessionid=1\r\nSet-Cookie: _ga=1; Path=/"),),
        as_sent=False,
    ),
    Shape(
        "lf-in-necessary",
        asgi=None,
        wsgi=(("Set-Cookie", "sessionid=1\nSet-Cookie: _ga=1; Path=/"),),
        as_sent=False,
    ),
    Shape(
        "cr-in-necessary",
        asgi=None,
        wsgi=(("Set-Cookie", "sessionid=1\rSet-Cookie: _ga=1; Path=/"),),
        as_sent=False,
    ),
    Shape(
        "nul-in-necessary",
        asgi=None,
        wsgi=(("Set-Cookie", "sessionid=1\x00; _ga=1"),),
        as_sent=False,
    ),
    Shape(
        "crlf-in-other-header",
        asgi=None,
        wsgi=(("X-Note", "a\r\nSet-Cookie: _ga=1; Path=/"),),
        as_sent=False,
    ),
    Shape(
        "crlf-in-refused",
        asgi=None,
        wsgi=(("Set-Cookie", "_ga=1\r\nSet-Cookie: _gid=1; Path=/"),),
        as_sent=False,
    ),
    # A Set-Cookie the WSGI app appends to its header list after start_response.
    Shape("late-refused", asgi=None, wsgi=(), late=(("Set-Cookie", "_ga=1; Path=/"),)),
    Shape(
        "late-after-necessary",
        asgi=None,
        wsgi=(("Set-Cookie", "sessionid=3; Path=/"),),
        late=(("Set-Cookie", "_gid=1; Path=/"),),
    ),
    Shape(
        "late-disguised-deletion",
        asgi=None,
        wsgi=(),
        late=(("Set-Cookie", "_ga=1; Max-Age=0; Max-Age=abc"),),
    ),
    # ASGI header spellings uvicorn accepts.
    Shape("asgi-str-name", asgi=(("set-cookie", b"_ga=1; Path=/"),), wsgi=None),
    Shape("asgi-str-value", asgi=((b"set-cookie", "_ga=1; Path=/"),), wsgi=None),
    Shape("asgi-str-both", asgi=(("Set-Cookie", "_ga=1; Path=/"),), wsgi=None),
    Shape("asgi-bytearray-value", asgi=((b"set-cookie", bytearray(b"_ga=1; Path=/")),), wsgi=None),
    Shape(
        "asgi-memoryview-value", asgi=((b"set-cookie", memoryview(b"_ga=1; Path=/")),), wsgi=None
    ),
    Shape("asgi-bytearray-name", asgi=((bytearray(b"set-cookie"), b"_ga=1; Path=/"),), wsgi=None),
    Shape(
        "asgi-bytearray-necessary",
        asgi=((b"set-cookie", bytearray(b"sessionid=4; Path=/")),),
        wsgi=None,
    ),
    Shape(
        "asgi-memoryview-necessary",
        asgi=((b"set-cookie", memoryview(b"sessionid=5; Path=/")),),
        wsgi=None,
    ),
    Shape(
        "asgi-str-disguised-deletion",
        asgi=(("set-cookie", "_ga=1; Max-Age=0; Max-Age=abc"),),
        wsgi=None,
    ),
    # WebSocket handshakes carry Set-Cookie too.
    Shape("ws-refused", asgi=((b"set-cookie", b"_ga=1; Path=/"),), wsgi=None, websocket=True),
    Shape(
        "ws-necessary", asgi=((b"set-cookie", b"sessionid=6; Path=/"),), wsgi=None, websocket=True
    ),
    Shape(
        "ws-disguised-deletion",
        asgi=((b"set-cookie", b"_ga=1; Max-Age=0; Max-Age=abc"),),
        wsgi=None,
        websocket=True,
    ),
    Shape("ws-str-header", asgi=(("set-cookie", "_gid=1; Path=/"),), wsgi=None, websocket=True),
    Shape("ws-nothing", asgi=(), wsgi=None, websocket=True),
    # clean_request: what the application's own parser reads must not bring refused cookies back.
    # The cleaned request changes what the application answers, so "as sent" does not apply.
    sc("clean-plain-echo", as_sent=False, clean="strip", echo=True),
    sc(
        "clean-space-echo",
        as_sent=False,
        clean="strip",
        echo=True,
        seed=("sessionid=a _ga=1; Path=/",),
    ),
    sc(
        "clean-comma-echo",
        as_sent=False,
        clean="strip",
        echo=True,
        seed=("sessionid=a,_ga=1; Path=/",),
    ),
    sc(
        "clean-tab-echo",
        as_sent=False,
        clean="strip",
        echo=True,
        seed=("sessionid=a\t_ga=1; Path=/",),
    ),
    sc(
        "clean-allow-nbsp-echo",
        as_sent=False,
        clean="allow",
        echo=True,
        seed=("\u00a0_ga=1; Path=/",),
    ),
    sc(
        "clean-allow-space-echo",
        as_sent=False,
        clean="allow",
        echo=True,
        seed=("x=a _gid=1; Path=/",),
    ),
    # Withdrawal: whatever the application sends, a refused cookie the visitor holds is deleted.
    sc("withdraw-nothing-sent"),
    sc("withdraw-with-necessary", "sessionid=7; Path=/"),
    sc("withdraw-with-refused-set", "_ga=2; Path=/; Max-Age=600"),
    sc("withdraw-with-refused-elsewhere", "_ga=2; Path=/elsewhere"),
    sc("withdraw-with-glob-set", "_gcl_au=2; Path=/"),
    sc("withdraw-with-unknown", "mystery=2"),
]
IDS = [shape.id for shape in SHAPES]
assert len(IDS) == len(set(IDS)), "shape ids must be unique"


def host_of(headers: Any) -> str:
    for key, value in headers:
        if bytes(key).lower() == b"host":
            return bytes(value).decode()
    return ""


def shapes_asgi(guarded: bool, sent: dict[int, list[Any]], seen: dict[int, set[str]]) -> Any:
    """Raw ASGI serving every shape, bare or behind the middleware (one per clean mode)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] != CASE_PATH:
            if scope["type"] == "http":
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b""})
            return
        index = case_index(host_of(scope["headers"]))
        shape = SHAPES[index]
        headers = list(shape.asgi or ())
        if shape.echo:
            headers += echo_headers(index, scope_cookie(scope), seen, bytes_=True)
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.accept", "headers": headers})
            await send({"type": "websocket.close", "code": 1000})
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"shape"})

    guards = {
        None: AsgiGuard(app, registry=REGISTRY, secret_key=SECRET),
        "strip": AsgiGuard(app, registry=REGISTRY, secret_key=SECRET, clean_request=True),
        "allow": AsgiGuard(
            app, registry=REGISTRY, secret_key=SECRET, clean_request=True, unknown="allow"
        ),
    }

    async def dispatch(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return
        index = case_index(host_of(scope["headers"])) if scope["path"] == CASE_PATH else -1
        shape = SHAPES[index] if 0 <= index < len(SHAPES) else None

        async def recording_send(message: dict[str, Any]) -> None:
            if "headers" in message and index >= 0:
                sent[index] = list(message["headers"])
            await send(message)

        target = guards[shape.clean if shape else None] if guarded else app
        try:
            await target(scope, receive, recording_send)
        except Exception as error:  # the server refused a header, or the middleware raised
            sent.setdefault(index, []).append(("<error>", repr(error)))
            raise

    return dispatch


def scope_cookie(scope: dict[str, Any]) -> str:
    return "; ".join(
        bytes(v).decode("latin-1") for k, v in scope["headers"] if bytes(k).lower() == b"cookie"
    )


def echo_headers(
    index: int, cookie_header: str, seen: dict[int, set[str]], *, bytes_: bool
) -> list[Any]:
    """The refresh a session library does: re-set every cookie its parser read, for an hour."""
    jar = http.cookies.SimpleCookie()
    jar.load(cookie_header)
    seen[index] = set(jar)
    lines = [f"{name}={morsel.coded_value}; Path=/; Max-Age=3600" for name, morsel in jar.items()]
    if bytes_:
        return [(b"set-cookie", line.encode("latin-1")) for line in lines]
    return [("Set-Cookie", line) for line in lines]


def shapes_wsgi(guarded: bool, sent: dict[int, list[Any]], seen: dict[int, set[str]]) -> Any:
    """Raw WSGI serving every shape, bare or behind the middleware."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] != CASE_PATH:
            start_response("200 OK", [])
            return [b""]
        index = case_index(environ["HTTP_HOST"])
        shape = SHAPES[index]
        headers = list(shape.wsgi or ())
        if shape.echo:
            headers += echo_headers(index, environ.get("HTTP_COOKIE", ""), seen, bytes_=False)
        start_response("200 OK", headers)
        headers.extend(shape.late)  # the server writes the list it was given, on first write
        return [b"shape"]

    guards = {
        None: WsgiGuard(app, registry=REGISTRY, secret_key=SECRET),
        "strip": WsgiGuard(app, registry=REGISTRY, secret_key=SECRET, clean_request=True),
        "allow": WsgiGuard(
            app, registry=REGISTRY, secret_key=SECRET, clean_request=True, unknown="allow"
        ),
    }

    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        index = case_index(environ["HTTP_HOST"]) if environ["PATH_INFO"] == CASE_PATH else -1
        shape = SHAPES[index] if 0 <= index < len(SHAPES) else None

        def recording(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            if index >= 0:
                sent[index] = headers  # the list itself: late additions show too
            return start_response(status, headers, exc_info)

        target = guards[shape.clean if shape else None] if guarded else app
        try:
            return target(environ, recording)
        except Exception as error:
            sent.setdefault(index, []).append(("<error>", repr(error)))
            raise

    return dispatch


@dataclass
class Run:
    outcomes: dict[int, Outcome]
    sent: dict[int, list[Any]]
    seen: dict[int, set[str]]


def serve_and_run(browser: Browser, adapter: str, guarded: bool, visitor: str) -> Run:
    sent: dict[int, list[Any]] = {}
    seen: dict[int, set[str]] = {}
    serve = (
        serve_asgi(shapes_asgi(guarded, sent, seen), probe="/", log_level="critical")
        if adapter == "asgi"
        else serve_wsgi(shapes_wsgi(guarded, sent, seen), probe="/")
    )
    seeds = {i: [*HELD, *shape.seed] for i, shape in enumerate(SHAPES)}

    def url_for(origin: str, index: int) -> str:
        if SHAPES[index].websocket and adapter == "asgi":
            return origin.replace("http", "ws", 1) + f"{CASE_PATH}?case={index}"
        return f"{origin}{CASE_PATH}?case={index}"

    with serve as url, serve_asgi(seed_app, probe="/") as seed_url:
        outcomes = run_cases(
            browser,
            scheme="http",
            case_port=int(url.rsplit(":", 1)[1]),
            seed_port=int(seed_url.rsplit(":", 1)[1]),
            count=len(SHAPES),
            seeds=seeds if visitor == "returning" else None,
            consent=CONSENT,
            url_for=url_for,
            group_size=GROUP_SIZE,
        )
    return Run(outcomes, sent, seen)


@pytest.fixture(scope="module")
def jar_browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright, RESOLVE_TEST_HOSTS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def runs(jar_browser: Browser) -> dict[tuple[str, bool, str], Run]:
    """Every shape, on both adapters, bare and guarded, for both visitors: 8 browser runs."""
    return {
        (adapter, guarded, visitor): serve_and_run(jar_browser, adapter, guarded, visitor)
        for adapter in ("asgi", "wsgi")
        for guarded in (False, True)
        for visitor in ("new", "returning")
    }


def refused(name: str) -> bool:
    return REGISTRY.category_of(name) == "marketing"


def allowed_part(outcome: Outcome) -> dict[tuple[str, str], str]:
    return {key: value for key, value in outcome.after_values.items() if key[0] in ALLOWED}


@pytest.mark.parametrize("visitor", ["new", "returning"])
@pytest.mark.parametrize("adapter", ["asgi", "wsgi"])
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_chromium_agrees(
    runs: dict[tuple[str, bool, str], Run], shape: Shape, adapter: str, visitor: str
) -> None:
    if (shape.asgi if adapter == "asgi" else shape.wsgi) is None:
        pytest.skip(f"this header shape does not exist on {adapter}")
    index = SHAPES.index(shape)
    bare = runs[(adapter, False, visitor)]
    guarded = runs[(adapter, True, visitor)]
    outcome = guarded.outcomes[index]
    context = (
        f"\n  the middleware sent: {guarded.sent.get(index)!r:.600}"
        f"\n  Chromium held before: {sorted(outcome.before)}"
        f"\n  Chromium holds after: {sorted(outcome.after_values.items())!r:.600}"
        f"\n  (bare app: Chromium holds {sorted(bare.outcomes[index].after_values.items())!r:.300};"
        f" fetch {outcome.fetch})"
    )
    gained = {key for key in outcome.after - outcome.before if key[0] not in ALLOWED}
    assert not gained, f"refused or undeclared cookies planted: {sorted(gained)}{context}"
    if visitor == "returning":
        kept = {key for key in outcome.after if refused(key[0])}
        assert not kept, f"refused cookies not withdrawn: {sorted(kept)}{context}"
    if shape.clean is not None:
        refused_seen = {n for n in guarded.seen.get(index, set()) if refused(n)}
        assert not refused_seen, f"the application read refused cookies: {refused_seen}{context}"
    if shape.as_sent:
        assert allowed_part(outcome) == allowed_part(bare.outcomes[index]), (
            f"necessary or consented cookies differ from the bare app's{context}"
        )
