"""Finding the middleware and calling the application in-process, with recorders inside."""

from __future__ import annotations

import asyncio
import copy
import inspect
import secrets
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from werkzeug.http import parse_options_header
from werkzeug.test import EnvironBuilder, run_wsgi_app

from .. import asgi, wsgi
from ..guard import Guard
from ..keys import CONSENT_KEY
from ..registry import Registry
from .report import Interface

__all__ = [
    "Client",
    "Harness",
    "check_registry",
    "client",
    "find_middleware",
    "harness",
    "interface_of",
]

Middleware = wsgi.CookieGuardMiddleware | asgi.CookieGuardMiddleware
_MIDDLEWARE = (wsgi.CookieGuardMiddleware, asgi.CookieGuardMiddleware)

# How deep to look for the middleware through wrappers (``.app``, ``.wsgi_app``...).
_MAX_DEPTH = 64


def interface_of(app: object) -> Interface:
    """``asgi`` for a coroutine ``app(scope, receive, send)``, ``wsgi`` for a plain callable."""
    if isinstance(app, asgi.CookieGuardMiddleware):
        return "asgi"
    if isinstance(app, wsgi.CookieGuardMiddleware) or hasattr(app, "wsgi_app"):
        return "wsgi"  # a Flask app, or any object with Werkzeug's convention
    if not callable(app) or isinstance(app, type):
        raise TypeError(f"{app!r} is not a WSGI or ASGI application")
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    return "asgi" if inspect.iscoroutinefunction(call) else "wsgi"


def find_middleware(app: object) -> Middleware | None:
    """The cookieguard middleware wrapping ``app``, looked for through common wrappers.

    Follows ``wsgi_app``, Starlette's middleware stack, the ``app`` attribute
    middleware conventionally keep, and Flask's ``extensions["cookieguard"]``.
    ``app`` is left as it is: for a Starlette app that has not served a request
    yet, the middleware is found in a stack built apart, as Starlette would
    build it on its first request, which the app does not keep.
    """
    found = _search(app)
    return None if found is None else found[0]


# One step on the way from an application to the middleware: the object that
# calls the next one, and the attribute it keeps it in.
_Step = tuple[object, str]


def _search(app: object) -> tuple[Middleware, list[_Step] | None] | None:
    """The middleware and the steps a request takes to it (None: registered, not reached)."""
    way: dict[int, list[_Step]] = {id(app): []}
    kept: list[object] = [app]  # alive, so that no id in ``way`` is reused meanwhile
    registered: Middleware | None = None
    todo: list[object] = [app]
    seen: set[int] = set()
    while todo and len(seen) < _MAX_DEPTH:
        obj = todo.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, _MIDDLEWARE):
            return obj, way[id(obj)]
        extensions = getattr(obj, "extensions", None)
        if registered is None and isinstance(extensions, dict):
            found = extensions.get("cookieguard")
            registered = found if isinstance(found, _MIDDLEWARE) else None
        for attribute in ("wsgi_app", "middleware_stack", "app"):
            child = getattr(obj, attribute, None)
            build = getattr(obj, "build_middleware_stack", None)
            if attribute == "middleware_stack" and child is None and callable(build):
                child = build()  # what Starlette builds on its first request, kept apart
            if child is None or isinstance(child, (str, bytes, int)) or id(child) in way:
                continue
            way[id(child)] = [*way[id(obj)], (obj, attribute)]
            kept.append(child)
            todo.append(child)
    return None if registered is None else (registered, None)


class _Starlette:
    """Calls a Starlette app's middleware stack as the app itself would."""

    def __init__(self, app: Any, stack: Any) -> None:
        self.app = app
        self.stack = stack

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope["app"] = self.app
        await self.stack(scope, receive, send)


def _entry(app: Any) -> Any:
    """``app`` to call; a Starlette app not yet built is called through a stack built apart."""
    build = getattr(app, "build_middleware_stack", None)
    if callable(build) and getattr(app, "middleware_stack", False) is None:
        return _Starlette(app, build())
    return app


def _rewired(steps: list[_Step], inner: object) -> Any:
    """What the request path ``steps`` would be with ``inner`` at its end, left untouched.

    Each object on the way is replaced by a shallow copy that calls the next
    copy: the application and its wrappers are never written to.
    """
    callee: Any = inner
    for obj, attribute in reversed(steps):
        if attribute == "wsgi_app":  # Werkzeug's convention: app(...) is app.wsgi_app(...)
            continue
        if attribute == "middleware_stack":
            callee = _Starlette(obj, callee)
            continue
        try:
            twin = copy.copy(obj)
            setattr(twin, attribute, callee)
        except Exception as exc:
            raise ValueError(
                f"cannot audit through {type(obj).__name__} without changing it ({exc}); "
                "audit the application it wraps"
            ) from None
        callee = twin
    return callee


def check_registry(middleware: Middleware, registry: Registry | None) -> None:
    """A registry given for a wrapped app must be the middleware's own (it is the one audited)."""
    if registry is not None and registry != middleware.guard.registry:
        raise ValueError(
            "the app is wrapped in cookieguard, which judges its cookies by its own registry "
            f"(revision {middleware.guard.registry.revision}), not the one given: "
            "leave the registry out, or wrap the app with it"
        )


class _WsgiRecorder:
    """Passes a WSGI app through, noting the ``Set-Cookie`` values it sends.

    ``unguarded``: the app runs without cookieguard in production, so it must not
    see the consent the audit's own middleware found.
    """

    def __init__(self, app: Any, *, unguarded: bool = False) -> None:
        self.app = app
        self.unguarded = unguarded
        self.seen: list[str] = []

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if self.unguarded:
            environ.pop(CONSENT_KEY, None)

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.seen.extend(v for k, v in headers if k.lower() == "set-cookie")
            return start_response(status, headers, exc_info)

        return self.app(environ, recording)


class _AsgiRecorder:
    """Passes an ASGI app through, noting the ``Set-Cookie`` values it sends (see above)."""

    def __init__(self, app: Any, *, unguarded: bool = False) -> None:
        self.app = app
        self.unguarded = unguarded
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.unguarded:
            scope = {k: v for k, v in scope.items() if k != CONSENT_KEY}

        async def recording(message: Any) -> None:
            if message["type"] == "http.response.start":
                for key, value in message.get("headers") or ():
                    if key.lower() == b"set-cookie":
                        self.seen.append(value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, recording)


#: The most of a page's HTML the audit reads for the hosts it loads.
MAX_HTML = 2 * 1024 * 1024


def page_html(content_type: str | None, body: bytes) -> str | None:
    """The text of an HTML body (its head, up to MAX_HTML), or None for another type."""
    mimetype = parse_options_header(content_type or "")[0].lower()
    if mimetype not in ("text/html", "application/xhtml+xml"):
        return None
    return body[:MAX_HTML].decode("utf-8", "replace")


class Client(Protocol):
    #: The HTML of the last page :meth:`get` fetched (None when it was not HTML).
    html: str | None

    def get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        """The response's status and its ``Set-Cookie`` values."""
        ...

    def close(self) -> None: ...


class _WsgiClient:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.html: str | None = None

    def get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        headers = [("Cookie", cookie)] if cookie else []
        builder = EnvironBuilder(path=path, headers=headers)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        body, status, sent = run_wsgi_app(self.app, environ, buffered=True)
        self.html = page_html(sent.get("Content-Type"), b"".join(body))
        return int(status.split(None, 1)[0]), sent.getlist("Set-Cookie")

    def close(self) -> None:
        pass


class _AsgiClient:
    """Calls an ASGI app on a private event loop, with its lifespan run around the requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.html: str | None = None
        self.loop = asyncio.new_event_loop()
        self.state: dict[str, Any] = {}
        self.lifespan: asyncio.Task[None] | None = None
        self.to_app: asyncio.Queue[dict[str, Any]] | None = None
        self.from_app: asyncio.Queue[dict[str, Any]] | None = None
        try:
            self.loop.run_until_complete(self._lifespan("startup"))
        except BaseException:
            self.loop.close()
            raise

    async def _lifespan(self, event: str) -> None:
        if event == "startup":
            self.to_app, self.from_app = asyncio.Queue(), asyncio.Queue()
            scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
            self.lifespan = asyncio.ensure_future(
                self.app(scope, self.to_app.get, self.from_app.put)
            )
        if self.lifespan is None or self.to_app is None or self.from_app is None:
            return
        await self.to_app.put({"type": f"lifespan.{event}"})
        reply = asyncio.ensure_future(self.from_app.get())
        await asyncio.wait({reply, self.lifespan}, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():  # the app does not speak lifespan: fine, as for any server
            reply.cancel()
            if not self.lifespan.cancelled():
                self.lifespan.exception()
            self.lifespan = None
            return
        message = reply.result()
        if message["type"] == f"lifespan.{event}.failed":
            raise RuntimeError(f"the application's {event} failed: {message.get('message', '')}")
        if event == "shutdown":  # let the lifespan task end before the loop closes
            await asyncio.gather(self.lifespan, return_exceptions=True)

    def get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        return self.loop.run_until_complete(self._get(path, cookie))

    async def _get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        path_only, _, query = path.partition("?")
        headers = [(b"host", b"localhost")]
        if cookie:
            headers.append((b"cookie", cookie.encode("latin-1")))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": unquote(path_only),
            "raw_path": path_only.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50_000),
            "server": ("localhost", 80),
            "state": dict(self.state),
        }
        requested = False
        finished = asyncio.Event()
        set_cookies: list[str] = []
        status = 500  # an app that never starts its response failed
        content_type: str | None = None
        body = bytearray()

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers") or ():
                    if key.lower() == b"set-cookie":
                        set_cookies.append(value.decode("latin-1"))
                    elif key.lower() == b"content-type" and content_type is None:
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                if len(body) <= MAX_HTML:
                    body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    finished.set()

        try:
            await self.app(scope, receive, send)
        finally:
            finished.set()
        self.html = page_html(content_type, bytes(body))
        return status, set_cookies

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self._lifespan("shutdown"))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


Recorder = _WsgiRecorder | _AsgiRecorder


@dataclass(frozen=True)
class Harness:
    """What the audit calls (``target``), the recorder inside it, and the guard that judges."""

    target: Any
    recorder: Recorder
    guard: Guard
    guarded: bool


def harness(app: Any, interface: Interface, registry: Registry | None) -> Harness:
    """``app`` ready to audit, with a recorder right inside its middleware; ``app`` unchanged.

    An app wrapped in cookieguard is called through copies of the objects on
    the way to its middleware, the last one a copy of the middleware (sharing
    its guard) around a recorder. An app that is not wrapped is called behind a
    throwaway cookieguard for ``registry``, with the recorder around the app.
    """
    adapter = asgi if interface == "asgi" else wsgi
    record = _AsgiRecorder if interface == "asgi" else _WsgiRecorder
    found = _search(app)
    if found is None:
        if registry is None:
            raise ValueError(
                "the app is not wrapped in cookieguard: pass the registry to audit it against"
            )
        recorder = record(_entry(app), unguarded=True)
        throwaway = adapter.CookieGuardMiddleware(
            recorder, registry=registry, secret_key=secrets.token_urlsafe(32)
        )
        return Harness(throwaway, recorder, throwaway.guard, guarded=False)
    middleware, steps = found
    check_registry(middleware, registry)
    if steps is None:
        raise ValueError(
            "cookieguard is registered on the app but a request does not reach it through "
            "wsgi_app, the middleware stack or .app: audit the callable that wraps it"
        )
    recorder = record(middleware.app)
    inner = copy.copy(middleware)
    inner.app = recorder
    return Harness(_rewired(steps, inner), recorder, middleware.guard, guarded=True)


def client(target: Any, interface: Interface) -> Client:
    """A client calling ``target`` in-process (for ASGI, its lifespan started)."""
    return _AsgiClient(target) if interface == "asgi" else _WsgiClient(target)
