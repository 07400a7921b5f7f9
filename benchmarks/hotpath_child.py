"""One version of cookieguard on the hot path: run as a script, in a process of its own.

:mod:`benchmarks.hotpath` starts one of these for the working tree and one for
an older commit (``PYTHONPATH`` names which ``cookieguard`` is imported), so
that both run the same scenarios in the same run without their imports
clashing. It uses only names every version since the comparison baseline has:
``Registry``, ``Category``, ``Cookie``, ``ConsentCodec``, ``Consent`` and the
two ``CookieGuardMiddleware`` classes; and it builds its own applications
rather than importing :mod:`benchmarks.apps`, which follows the working tree.

``python hotpath_child.py serve``: prints ``{"file": ..., "variants": [...]}``,
then reads commands from stdin, one a line: ``slice I N`` runs ``N`` requests
of variant ``I`` bare, then ``N`` guarded, and prints their CPU seconds as a
JSON pair. ``python hotpath_child.py count N
[ADAPTER...]`` runs ``N`` requests per variant between markers, for
``valgrind --tool=callgrind`` to count (see :func:`count`).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from itsdangerous import TimestampSigner
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from werkzeug.http import dump_cookie
from werkzeug.test import EnvironBuilder

import cookieguard
from cookieguard import Category, Consent, ConsentCodec, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware as AsgiGuard
from cookieguard.wsgi import CookieGuardMiddleware as WsgiGuard

ADAPTERS = ("raw ASGI", "raw WSGI", "Starlette", "Flask")
SCENARIOS = ("cookies", "no cookie")
SECRET = "benchmark-secret-key"

# The scenario of benchmarks.apps: the same registry, consent, Cookie header, Set-Cookies.
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
TOKEN = ConsentCodec(SECRET).dumps(
    Consent(granted=frozenset({"preferences", "statistics"}), revision=REGISTRY.revision)
)
SESSION = TimestampSigner(SECRET).sign(base64.b64encode(b'{"user": "alice"}')).decode()
COOKIE_HEADER = (
    f"sessionid=abc123; cookies_preferences={TOKEN}; _pk_id.1.abcd=7f3a.1700000000; "
    f"session={SESSION}"
)
SET_COOKIES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("sessionid", "abc123", {"httponly": True, "samesite": "lax"}),
    ("_pk_id.1.abcd", "7f3a.1700000000", {"max_age": 34_164_000}),
    ("_ga", "GA1.1.123456.1700000000", {"max_age": 63_072_000}),
)
BODY = b"Hello, world!"
SLICE = 500
#: Under an instruction counter a second lasts a few requests, so Flask's ``Expires``
#: (werkzeug derives it from ``Max-Age``, to the second) would change every few
#: requests where it changes once per thousands in real time; count() fixes it.
FIXED_EXPIRES: list[datetime] = []


def _set_cookie_values() -> list[str]:
    return [dump_cookie(name, value, **options) for name, value, options in SET_COOKIES]


# -- ASGI ----------------------------------------------------------------------


def raw_asgi(cookies: bool) -> Callable[..., Any]:
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if cookies:
        headers += [(b"set-cookie", v.encode("latin-1")) for v in _set_cookie_values()]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": BODY})

    return app


def starlette(cookies: bool, guarded: bool) -> Callable[..., Any]:
    async def hello(request: Request) -> Response:
        response = PlainTextResponse("Hello, world!")
        if cookies:
            for name, value, options in SET_COOKIES:
                response.set_cookie(name, value, **options)
        return response

    middleware = [Middleware(AsgiGuard, registry=REGISTRY, secret_key=SECRET)] if guarded else []
    return Starlette(routes=[Route("/", hello)], middleware=middleware)


def asgi_scope(cookies: bool) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if cookies:
        headers.append((b"cookie", COOKIE_HEADER.encode("latin-1")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


_REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> Any:
    return _REQUEST


async def _send(message: Any) -> None:
    return None


def asgi_runner(app: Callable[..., Any], scope: dict[str, Any]) -> Callable[[int], float]:
    loop = asyncio.new_event_loop()

    async def many(n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            await app(dict(scope), _receive, _send)
        return time.process_time() - started

    return lambda n: loop.run_until_complete(many(n))


# -- WSGI ----------------------------------------------------------------------


def raw_wsgi(cookies: bool) -> Callable[..., Any]:
    headers = [("Content-Type", "text/plain; charset=utf-8")]
    if cookies:
        headers += [("Set-Cookie", v) for v in _set_cookie_values()]

    def app(environ: Any, start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", list(headers))
        return [BODY]

    return app


def flask(cookies: bool) -> Callable[..., Any]:
    from flask import Flask, make_response  # only here: the other adapters start faster

    app = Flask("bench")

    @app.get("/")
    def hello() -> Any:
        response = make_response("Hello, world!")
        if cookies:
            for name, value, options in SET_COOKIES:
                if FIXED_EXPIRES and "max_age" in options:
                    options = {**options, "expires": FIXED_EXPIRES[0]}
                response.set_cookie(name, value, **options)
        return response

    return app


def wsgi_environ(cookies: bool) -> dict[str, Any]:
    headers = [("User-Agent", "bench"), ("Accept", "*/*")]
    if cookies:
        headers.append(("Cookie", COOKIE_HEADER))
    return EnvironBuilder(path="/", base_url="http://127.0.0.1:8000", headers=headers).get_environ()


def _start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
    return None


def wsgi_runner(app: Callable[..., Any], environ: dict[str, Any]) -> Callable[[int], float]:
    def many(n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            body = app(dict(environ), _start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return time.process_time() - started

    return many


# -- the variants ----------------------------------------------------------------


def runner(adapter: str, scenario: str, guarded: bool) -> Callable[[int], float]:
    cookies = scenario == "cookies"
    if adapter == "raw ASGI":
        app = raw_asgi(cookies)
        if guarded:
            app = AsgiGuard(app, registry=REGISTRY, secret_key=SECRET)
        return asgi_runner(app, asgi_scope(cookies))
    if adapter == "Starlette":
        return asgi_runner(starlette(cookies, guarded), asgi_scope(cookies))
    app = raw_wsgi(cookies) if adapter == "raw WSGI" else flask(cookies)
    if guarded and adapter == "Flask":
        app.wsgi_app = WsgiGuard(app.wsgi_app, registry=REGISTRY, secret_key=SECRET)  # type: ignore[attr-defined,method-assign]
    elif guarded:
        app = WsgiGuard(app, registry=REGISTRY, secret_key=SECRET)
    return wsgi_runner(app, wsgi_environ(cookies))


def serve() -> None:
    runners = [
        (runner(adapter, scenario, False), runner(adapter, scenario, True))
        for adapter in ADAPTERS
        for scenario in SCENARIOS
    ]
    for bare, guarded in runners:  # warm up: imports, caches, first-call paths
        bare(300)
        guarded(300)
    keys = [f"{adapter} {scenario}" for adapter in ADAPTERS for scenario in SCENARIOS]
    print(json.dumps({"file": cookieguard.__file__, "variants": keys}), flush=True)
    for line in sys.stdin:
        command, *arguments = line.split()
        if command != "slice":
            break
        bare, guarded = runners[int(arguments[0])]
        size = int(arguments[1])
        gc.collect()
        print(json.dumps([bare(size), guarded(size)]), flush=True)


def count(n: int, adapters: list[str]) -> None:
    """Each variant's ``n`` requests between two calls of ``os.getppid``, the marker.

    Under ``valgrind --tool=callgrind --dump-before=os_getppid*``, the cost of
    each batch is then one profile part of its own; the keys of the batches, in
    order, go to stdout.
    """
    FIXED_EXPIRES.append(datetime(2030, 1, 1, tzinfo=timezone.utc))
    keys = []
    for adapter in adapters:
        for scenario in SCENARIOS:
            for guarded in (False, True):
                run = runner(adapter, scenario, guarded)
                run(max(n // 10, 100))  # warm up: caches, first-call paths
                gc.collect()
                os.getppid()
                run(n)
                os.getppid()
                keys.append(f"{adapter} {scenario} {'guarded' if guarded else 'bare'}")
    print(json.dumps({"file": cookieguard.__file__, "batches": keys}), flush=True)


if __name__ == "__main__":
    logging.getLogger("cookieguard").setLevel(logging.CRITICAL)
    if sys.argv[1] == "serve":
        serve()
    else:
        count(int(sys.argv[2]), sys.argv[3:] or list(ADAPTERS))
