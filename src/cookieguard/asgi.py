"""Pure ASGI middleware: enforces cookie consent for Starlette, FastAPI or any ASGI app.

It wraps ``send`` and edits only the messages that carry response headers
(``http.response.start``, ``websocket.accept``, ``websocket.http.response.start``);
bodies stream through untouched and unbuffered, and ``lifespan`` passes straight
through. The decisions themselves are :class:`cookieguard.guard.Guard`'s.

.. code-block:: python

    from starlette.middleware import Middleware
    from cookieguard.asgi import CookieGuardMiddleware

    app = Starlette(routes=..., middleware=[
        Middleware(CookieGuardMiddleware, registry=registry, secret_key=SECRET_KEY),
    ])
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import endpoint
from ._adapter import Adapter
from .endpoint import EndpointRequest
from .keys import CONSENT_KEY, GUARD_KEY
from .response import BYTES_HEADERS, rewrite

if TYPE_CHECKING:
    pass

__all__ = ["CookieGuardMiddleware"]


_HEADER_MESSAGES = frozenset(
    {"http.response.start", "websocket.accept", "websocket.http.response.start"}
)


class CookieGuardMiddleware(Adapter[ASGIApp]):
    """Strips the ``Set-Cookie`` headers a visitor did not consent to; serves the consent endpoint.

    Options (keyword-only) are those of :meth:`cookieguard.guard.Guard.create`,
    plus ``on_consent``, called with a :class:`~cookieguard.endpoint.ConsentEvent`
    for every consent saved (in a worker thread, so it may block).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        guard = self.guard
        headers = scope.get("headers") or []
        raw_cookie: bytes | None = None
        gpc: str | None = None
        for key, value in headers:  # one pass; the length test spares most a lower()
            if len(key) == 6:
                if key.lower() == b"cookie":  # HTTP/2 may split the cookies over several
                    raw_cookie = value if raw_cookie is None else raw_cookie + b"; " + value
            elif len(key) == 7 and gpc is None and key.lower() == b"sec-gpc":
                gpc = value.decode("latin-1")
        cookie = None if raw_cookie is None else raw_cookie.decode("latin-1")
        state = guard.read_request(cookie, gpc)
        if kind == "http" and scope["path"] in self.own_paths:
            await self._serve_endpoint(scope, receive, send)
            return
        scope[CONSENT_KEY] = state.consent
        scope[GUARD_KEY] = guard  # for the template helpers (cookieguard.ui)
        if guard.clean_request and cookie:
            cleaned = guard.clean_cookie_header(cookie, state.consent)
            others = [(k, v) for k, v in headers if k.lower() != b"cookie"]
            extra = [(b"cookie", cleaned.encode("latin-1"))] if cleaned else []
            scope = {**scope, "headers": others + extra}

        def guarded_send(message: Message) -> Awaitable[None]:
            # Not a coroutine: the server's own awaitable is handed back, so that each
            # message costs one call here and no extra coroutine.
            what = message["type"]
            if what in _HEADER_MESSAGES:
                sent = message.get("headers") or ()
                if type(sent) is not list and type(sent) is not tuple:  # read once
                    try:
                        sent = list(sent)
                    except TypeError:  # not headers at all: none leave
                        sent = []
                    message["headers"] = sent
                # A WebSocket handshake (or its denial) is no page (the csp option).
                page = what == "http.response.start"
                filtered = rewrite(guard, sent, state, BYTES_HEADERS, page=page)
                if filtered is not None:
                    message["headers"] = filtered
            return send(message)

        await self.app(scope, receive, guarded_send)

    async def _serve_endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        limit = endpoint.body_limit(self.guard, scope["path"])
        while len(body) <= limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        request = EndpointRequest(
            method=scope["method"],
            path=scope["path"],
            scheme=scope.get("scheme", "http"),
            headers=endpoint.header_map(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])
            ),
            body=bytes(body),
            too_large=len(body) > limit,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            client=(scope.get("client") or (None,))[0],
        )
        if self.on_consent is None:
            response = endpoint.handle(self.guard, request, None)
        else:  # a consent log may block on I/O: keep it off the event loop
            response = await run_in_threadpool(
                endpoint.handle, self.guard, request, self.on_consent
            )
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
                ],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": b"" if request.method == "HEAD" else response.body,
            }
        )
