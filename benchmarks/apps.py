"""The applications measured: a bare hello-world and the same app behind each peer.

Every variant answers the same request with the same three ``Set-Cookie``
headers; only what sits in front of the application differs. Importable by
uvicorn (``benchmarks.apps:guarded_starlette``) for the real-server run.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from flask import Flask, Response, make_response
from itsdangerous import TimestampSigner
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from cookieguard import Category, Consent, ConsentCodec, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware as AsgiGuard
from cookieguard.flask import CookieGuard

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SECRET = "benchmark-secret-key"
CONSENT_COOKIE = "cookies_preferences"

REGISTRY = Registry(
    categories=[
        Category("necessary", required=True),
        Category("preferences"),
        Category("statistics"),
        Category("marketing", gpc_opt_out=True),
    ],
    cookies=[
        Cookie("sessionid", "necessary"),
        Cookie("session", "necessary"),
        Cookie("csrftoken", "necessary"),
        Cookie("django_language", "preferences"),
        Cookie("_pk_id.*", "statistics"),
        Cookie("_pk_ses.*", "statistics"),
        Cookie("_ga", "marketing"),
        Cookie("_ga_*", "marketing"),
    ],
)

#: A visitor who accepted statistics and preferences, not marketing.
CONSENT_TOKEN = ConsentCodec(SECRET).dumps(
    Consent(granted=frozenset({"preferences", "statistics"}), revision=REGISTRY.revision)
)
#: A valid Starlette session, so SessionMiddleware verifies and re-signs it.
SESSION_TOKEN = (
    TimestampSigner(SECRET).sign(base64.b64encode(json.dumps({"user": "alice"}).encode())).decode()
)
COOKIE_HEADER = (
    f"sessionid=abc123; {CONSENT_COOKIE}={CONSENT_TOKEN}; _pk_id.1.abcd=7f3a.1700000000; "
    f"session={SESSION_TOKEN}"
)

#: What the app sets: necessary, statistics (granted), marketing (not granted: stripped).
SET_COOKIES = (
    ("sessionid", "abc123", {"httponly": True, "samesite": "lax"}),
    ("_pk_id.1.abcd", "7f3a.1700000000", {"max_age": 34_164_000}),
    ("_ga", "GA1.1.123456.1700000000", {"max_age": 63_072_000}),
)
BLOCKED = frozenset({"_ga"})  # what the naive peers strip, without reading any consent
BODY = b"Hello, world!"


def _cookie_name(value: str) -> str:
    return value.partition(";")[0].partition("=")[0].strip()


# -- ASGI ----------------------------------------------------------------------


async def _hello(request: Request) -> StarletteResponse:
    response = PlainTextResponse("Hello, world!")
    for name, value, options in SET_COOKIES:
        response.set_cookie(name, value, **options)
    return response


async def _hello_plain(request: Request) -> StarletteResponse:
    return PlainTextResponse("Hello, world!")


class SendFilter:
    """What one would write by hand: a pure-ASGI ``send`` wrapper, no signature check."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def filtered_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v)
                    for k, v in message["headers"]
                    if k.lower() != b"set-cookie"
                    or _cookie_name(v.decode("latin-1")) not in BLOCKED
                ]
            await send(message)

        await self.app(scope, receive, filtered_send)


class SendWrapper:
    """The least a ``send``-wrapping middleware can cost: a closure that forwards."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped_send(message: Message) -> None:
            await send(message)

        await self.app(scope, receive, wrapped_send)


class NaiveFilter(BaseHTTPMiddleware):
    """The ``@app.middleware("http")`` filter the FastAPI docs lead to."""

    async def dispatch(
        self, request: Request, call_next: RequestResponseEndpoint
    ) -> StarletteResponse:
        response = await call_next(request)
        response.raw_headers[:] = [
            (k, v)
            for k, v in response.raw_headers
            if k != b"set-cookie" or _cookie_name(v.decode("latin-1")) not in BLOCKED
        ]
        return response


def starlette_app(*middleware: Middleware, set_cookies: bool = True) -> Starlette:
    route = Route("/", _hello if set_cookies else _hello_plain)
    return Starlette(routes=[route], middleware=list(middleware))


def guard_middleware(registry: Registry = REGISTRY) -> Middleware:
    # mypy: Starlette's _MiddlewareFactory protocol does not accept this signature.
    return Middleware(AsgiGuard, registry=registry, secret_key=SECRET)  # type: ignore[arg-type]


def asgi_variants() -> dict[str, ASGIApp]:
    """The ASGI table, bare first."""
    return {
        "bare Starlette app": starlette_app(),
        "cookieguard (ASGI)": starlette_app(guard_middleware()),
        "pure-ASGI send filter, no signature check": starlette_app(Middleware(SendFilter)),
        "Starlette SessionMiddleware": starlette_app(
            Middleware(SessionMiddleware, secret_key=SECRET)
        ),
        "BaseHTTPMiddleware filter": starlette_app(Middleware(NaiveFilter)),
    }


def bare_starlette() -> Starlette:
    """For uvicorn --factory."""
    return starlette_app()


def guarded_starlette() -> Starlette:
    """For uvicorn --factory."""
    return starlette_app(guard_middleware())


# -- WSGI ----------------------------------------------------------------------


def flask_app(*, after_request_filter: bool = False) -> Flask:
    app = Flask("bench")
    app.secret_key = SECRET

    @app.get("/")
    def hello() -> Response:
        response = make_response("Hello, world!")
        for name, value, options in SET_COOKIES:
            response.set_cookie(name, value, **options)
        return response

    if after_request_filter:

        @app.after_request
        def strip_cookies(response: Response) -> Response:
            kept = [
                v for v in response.headers.getlist("Set-Cookie") if _cookie_name(v) not in BLOCKED
            ]
            response.headers.setlist("Set-Cookie", kept)
            return response

    return app


class StartResponseFilter:
    """What one would write by hand: a plain WSGI ``start_response`` wrapper."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def filtered_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            headers = [
                (k, v)
                for k, v in headers
                if k.lower() != "set-cookie" or _cookie_name(v) not in BLOCKED
            ]
            return start_response(status, headers, exc_info)

        return self.app(environ, filtered_start_response)


def wsgi_variants() -> dict[str, WSGIApp]:
    """The WSGI table, bare first."""
    guarded = flask_app()
    CookieGuard(guarded, registry=REGISTRY)
    filtered = flask_app()
    filtered.wsgi_app = StartResponseFilter(filtered.wsgi_app)  # type: ignore[method-assign]
    return {
        "bare Flask app": flask_app(),
        "cookieguard (WSGI)": guarded,
        "plain WSGI start_response filter": filtered,
        "Flask after_request filter": flask_app(after_request_filter=True),
    }


# -- raw apps: no framework, so the middleware's own cost is all there is ------


def raw_asgi_app(headers: list[tuple[bytes, bytes]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": BODY})

    return app


def raw_wsgi_app(headers: list[tuple[str, str]]) -> WSGIApp:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", list(headers))
        return [BODY]

    return app
