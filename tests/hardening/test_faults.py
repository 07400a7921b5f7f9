"""Faults: applications that fail, clients that leave. The middleware changes nothing else.

Every faulty application runs twice, bare and behind the middleware, and the two
runs must agree: the same exception (type and message) and the same status line
and body. Behind the middleware, no cookie the visitor did not consent to leaves,
not even on the error path. WSGI runs under ``wsgiref.handlers.SimpleHandler``, a
real server handler that honours ``exc_info`` (Werkzeug's test client re-raises).
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.handlers import SimpleHandler

import pytest
from flask import Flask, make_response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from tests.support.hardening import FIGURES, KEY, Recorder, http_scope, set_cookie_values

from cookieguard import Category, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware as ASGIGuard
from cookieguard.wsgi import CookieGuardMiddleware as WSGIGuard

REGISTRY = Registry(
    categories=[Category("necessary", required=True), Category("marketing")],
    cookies=[Cookie("sessionid", "necessary"), Cookie("_fbp", "marketing")],
)
COOKIES = [("Set-Cookie", "sessionid=s; Path=/"), ("Set-Cookie", "_fbp=fb; Path=/")]


class Boom(Exception):
    pass


# -- WSGI --------------------------------------------------------------------------


def raise_before_start(environ: Any, start_response: Any) -> list[bytes]:
    raise Boom("before start_response")


def raise_after_start(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", list(COOKIES))
    raise Boom("after start_response")


def raise_mid_stream(environ: Any, start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", list(COOKIES))
    yield b"first chunk"
    raise Boom("mid-stream")


def raise_on_first_chunk(environ: Any, start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", list(COOKIES))
    raise Boom("before the first chunk")
    yield b""  # pragma: no cover


class ClosingBody:
    def __init__(self) -> None:
        self.chunks = iter([b"a", b"b"])

    def __iter__(self) -> ClosingBody:
        return self

    def __next__(self) -> bytes:
        return next(self.chunks)

    def close(self) -> None:
        raise Boom("on close()")


def raise_on_close(environ: Any, start_response: Any) -> ClosingBody:
    start_response("200 OK", list(COOKIES))
    return ClosingBody()


def error_page_with_cookies(environ: Any, start_response: Any) -> list[bytes]:
    """An error handler that replaces the headers (exc_info) and sets cookies again."""
    start_response("200 OK", list(COOKIES))
    try:
        raise Boom("handled")
    except Boom:
        start_response("500 Internal Server Error", list(COOKIES), sys.exc_info())
    return [b"error page"]


def exc_info_after_headers_sent(environ: Any, start_response: Any) -> Iterator[bytes]:
    """start_response with exc_info once the headers are out must re-raise (PEP 3333)."""
    start_response("200 OK", list(COOKIES))
    yield b"first chunk"
    try:
        raise Boom("too late")
    except Boom:
        start_response("500 Internal Server Error", list(COOKIES), sys.exc_info())
    yield b"never"  # pragma: no cover


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.get("/page")
    def page() -> str:
        raise Boom("in a Flask view")

    @app.errorhandler(500)
    def error(_: Exception) -> Any:
        response = make_response("flask error page", 500)
        response.set_cookie("sessionid", "s")
        response.set_cookie("_fbp", "fb")
        return response

    return app


WSGI_FAULTS: dict[str, Callable[..., Any]] = {
    "raise before start_response": raise_before_start,
    "raise after start_response": raise_after_start,
    "raise mid-stream": raise_mid_stream,
    "raise before the first chunk": raise_on_first_chunk,
    "raise on close()": raise_on_close,
    "error page via exc_info, cookies again": error_page_with_cookies,
    "exc_info after the headers are sent": exc_info_after_headers_sent,
    "Flask error handler setting cookies": flask_app().wsgi_app,
}


def run_wsgi(app: Any) -> tuple[str, bytes, list[str], str]:
    """Serve one GET with wsgiref; (status line, body, Set-Cookie values, error seen)."""
    stdout, stderr = io.BytesIO(), io.StringIO()
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/page",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    handler = SimpleHandler(io.BytesIO(), stdout, stderr, environ, multithread=False)
    try:
        handler.run(app)
    except Exception as raised:  # wsgiref lets an error in close() through
        stderr.write(f"{type(raised).__name__}: {raised}")
    head, _, body = stdout.getvalue().partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    cookies = [
        line.partition(":")[2].strip() for line in lines if line.lower().startswith("set-cookie:")
    ]
    logged = stderr.getvalue().strip().splitlines()
    return lines[0], body, cookies, logged[-1] if logged else ""


@pytest.mark.parametrize("app", list(WSGI_FAULTS.values()), ids=list(WSGI_FAULTS))
def test_a_failing_wsgi_app_fails_the_same_behind_the_middleware(app: Any) -> None:
    FIGURES["faults injected (WSGI)"] += 1
    bare = run_wsgi(app)
    guarded = run_wsgi(WSGIGuard(app, registry=REGISTRY, secret_key=KEY))
    status, body, cookies, logged = guarded
    assert (status, body, logged) == (bare[0], bare[1], bare[3])
    assert not [c for c in cookies if c.startswith("_fbp=")]


# -- ASGI --------------------------------------------------------------------------

START = {"type": "http.response.start", "status": 200}
ASGI_COOKIES = [(b"set-cookie", b"sessionid=s; Path=/"), (b"set-cookie", b"_fbp=fb; Path=/")]


async def asgi_raise_before_start(scope: Any, receive: Any, send: Any) -> None:
    raise Boom("before http.response.start")


async def asgi_raise_after_start(scope: Any, receive: Any, send: Any) -> None:
    await send({**START, "headers": list(ASGI_COOKIES)})
    raise Boom("after http.response.start")


async def asgi_raise_mid_stream(scope: Any, receive: Any, send: Any) -> None:
    await send({**START, "headers": list(ASGI_COOKIES)})
    await send({"type": "http.response.body", "body": b"first", "more_body": True})
    raise Boom("mid-stream")


async def asgi_stops_on_disconnect(scope: Any, receive: Any, send: Any) -> None:
    """Streams until ``receive`` says the client left, then returns quietly."""
    await send({**START, "headers": list(ASGI_COOKIES)})
    for i in range(100):
        await send({"type": "http.response.body", "body": b"chunk %d" % i, "more_body": True})
        if (await receive())["type"] == "http.disconnect":
            return
    await send({"type": "http.response.body", "body": b""})


async def stream(request: Request) -> Response:
    async def chunks() -> Any:
        for i in range(10_000):
            yield b"chunk %d\n" % i
            await asyncio.sleep(0)

    response = StreamingResponse(chunks())
    response.set_cookie("_fbp", "fb")
    response.set_cookie("sessionid", "s")
    return response


async def starlette_error(request: Request) -> Response:
    raise Boom("in a Starlette endpoint")


async def starlette_500(request: Request, exc: Exception) -> Response:
    response = PlainTextResponse("starlette error page", 500)
    response.set_cookie("sessionid", "s")
    response.set_cookie("_fbp", "fb")
    return response


STARLETTE = Starlette(
    routes=[Route("/stream", stream), Route("/page", starlette_error)],
    exception_handlers={500: starlette_500},
)


class SendFails:
    """A ``send`` that raises OSError after ``limit`` messages: the client is gone."""

    def __init__(self, limit: int) -> None:
        self.recorder, self.limit = Recorder(), limit

    async def __call__(self, message: Any) -> None:
        if len(self.recorder.messages) >= self.limit:
            raise OSError("client disconnected")
        await self.recorder(message)


ASGI_FAULTS: dict[str, tuple[Any, str, int | None, int]] = {
    # name: (app, path, send fails after N messages, receive answers N bodies before leaving)
    "raise before start": (asgi_raise_before_start, "/page", None, 0),
    "raise after start": (asgi_raise_after_start, "/page", None, 0),
    "raise mid-stream": (asgi_raise_mid_stream, "/page", None, 0),
    "http.disconnect mid-body": (asgi_stops_on_disconnect, "/page", None, 3),
    "send fails mid-body": (asgi_stops_on_disconnect, "/page", 2, 100),
    "Starlette streaming, client leaves": (STARLETTE, "/stream", None, 0),
    "Starlette streaming, send fails": (STARLETTE, "/stream", 5, 100),
    "Starlette 500 handler setting cookies": (STARLETTE, "/page", None, 0),
}


def run_asgi(app: Any, path: str, fail_after: int | None, stay: int) -> tuple[Any, list[Any]]:
    """One request; (exception raised or None, messages sent)."""
    remaining = [stay]

    async def receive() -> dict[str, Any]:
        if remaining[0] > 0:
            remaining[0] -= 1
            return {"type": "http.request", "body": b"", "more_body": True}
        return {"type": "http.disconnect"}

    send = SendFails(fail_after if fail_after is not None else 10**9)

    async def main() -> BaseException | None:
        try:
            await app(http_scope([], path), receive, send)
        except Exception as raised:  # compared with the bare run below
            return raised
        return None

    raised = asyncio.run(main())
    return raised, send.recorder.messages


@pytest.mark.parametrize("fault", list(ASGI_FAULTS.values()), ids=list(ASGI_FAULTS))
def test_a_failing_asgi_app_fails_the_same_behind_the_middleware(
    fault: tuple[Any, str, int | None, int],
) -> None:
    FIGURES["faults injected (ASGI)"] += 1
    app, path, fail_after, stay = fault
    bare_error, bare = run_asgi(app, path, fail_after, stay)
    # Outermost, as the middleware should be: it also sees the 500 page Starlette makes.
    guarded = ASGIGuard(app, registry=REGISTRY, secret_key=KEY)
    error, messages = run_asgi(guarded, path, fail_after, stay)
    assert type(error) is type(bare_error)
    assert str(error) == str(bare_error)
    assert [m["type"] for m in messages] == [m["type"] for m in bare]
    assert [m.get("status") for m in messages] == [m.get("status") for m in bare]
    assert [m.get("body") for m in messages] == [m.get("body") for m in bare]
    for message in messages:
        assert not [c for c in set_cookie_values(message.get("headers", [])) if "_fbp=" in c]
