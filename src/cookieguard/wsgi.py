"""WSGI middleware: enforces cookie consent for Flask, Django or any WSGI app.

It wraps ``start_response`` only: ``exc_info`` is forwarded, the server's
``write`` callable is returned as is, and the application's iterable is returned
untouched, so the server still calls its ``close()`` and ``wsgi.file_wrapper``
keeps working. The decisions themselves are :class:`cookieguard.guard.Guard`'s.

The server always gets a list of its own: wsgiref and Werkzeug's server keep the
list ``start_response`` receives and write it later, so a ``Set-Cookie`` an
application appended to *its* list after calling ``start_response`` would leave
unjudged. It does not leave at all (as with gunicorn, which reads the list at once).

.. code-block:: python

    from cookieguard.wsgi import CookieGuardMiddleware

    application = CookieGuardMiddleware(application, registry=registry, secret_key=SECRET_KEY)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING

from . import endpoint
from ._adapter import Adapter
from .endpoint import EndpointRequest
from .keys import CONSENT_KEY, GUARD_KEY
from .response import TEXT_HEADERS, rewrite

if TYPE_CHECKING:
    from _typeshed.wsgi import (
        StartResponse,
        WSGIApplication,  # noqa: F401 - named by the base class below
        WSGIEnvironment,
    )

__all__ = ["CookieGuardMiddleware"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


class CookieGuardMiddleware(Adapter["WSGIApplication"]):
    """Strips the ``Set-Cookie`` headers a visitor did not consent to; serves the consent endpoint.

    Options (keyword-only) are those of :meth:`cookieguard.guard.Guard.create`,
    plus ``on_consent``, called with a :class:`~cookieguard.endpoint.ConsentEvent`
    for every consent saved.
    """

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        guard = self.guard
        cookie = environ.get("HTTP_COOKIE")
        state = guard.read_request(cookie, environ.get("HTTP_SEC_GPC"))
        if environ.get("PATH_INFO") in self.own_paths:
            return self._serve_endpoint(environ, start_response)
        environ[CONSENT_KEY] = state.consent
        environ[GUARD_KEY] = guard  # for the template helpers (cookieguard.ui)
        if guard.clean_request and cookie:
            environ["HTTP_COOKIE"] = guard.clean_cookie_header(cookie, state.consent)

        def guarded_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            if guard.csp is None:
                filtered = rewrite(guard, headers, state, TEXT_HEADERS)
            else:  # the policy's report URL carries the mount prefix
                root = environ.get("SCRIPT_NAME", "")
                filtered = rewrite(guard, headers, state, TEXT_HEADERS, root=root)
            # A copy even when nothing changed: later appends to the app's list stay there.
            return start_response(status, list(headers) if filtered is None else filtered, exc_info)

        return self.app(environ, guarded_start_response)

    def _serve_endpoint(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        try:
            length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
        except ValueError:
            length = 0
        too_large = length > endpoint.body_limit(self.guard, environ.get("PATH_INFO", ""))
        stream = environ.get("wsgi.input")
        body = stream.read(length) if stream is not None and length and not too_large else b""
        request = EndpointRequest(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", ""),
            scheme=environ.get("wsgi.url_scheme", "http"),
            headers=endpoint.header_map(
                (key.removeprefix("HTTP_").replace("_", "-"), value)
                for key, value in environ.items()
                if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
            ),
            body=body,
            too_large=too_large,
            query_string=environ.get("QUERY_STRING", ""),
            client=environ.get("REMOTE_ADDR"),
            root=environ.get("SCRIPT_NAME", ""),
        )
        response = endpoint.handle(self.guard, request, self.on_consent)
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", response.headers)
        return [b"" if request.method == "HEAD" else response.body]
