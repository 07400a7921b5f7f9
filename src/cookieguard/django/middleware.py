"""The Django middleware: the contract's decision on every response, inside Django.

Django writes ``response.cookies`` (``Morsel`` objects) out as ``Set-Cookie``
headers after every middleware has run, so a WSGI or ASGI wrapper outside
Django is the only place a pure header filter would see them, and Django's test
client never goes there. This middleware sees them where they are made: it
renders each morsel as the handler will (``morsel.OutputString()``), puts the
lines after the response's own headers (a raw ``response.headers["Set-Cookie"]``
among them), exactly as ``WSGIHandler`` and ``ASGIHandler`` will send them, and
hands the lot to :func:`cookieguard.response.rewrite`, the one place
that decides. What the guard removes leaves ``response.cookies`` or
``response.headers``; what passes keeps Django's own formatting; what the guard
adds (withdrawals, the ``Vary``) is written back as the guard wrote it.

.. code-block:: python

    MIDDLEWARE = ["cookieguard.django.CookieGuardMiddleware", ...]  # first
    COOKIEGUARD = {"REGISTRY": "portal.cookies.registry"}

It is sync and async capable: under ``ASGIHandler`` it runs on the event loop,
without a thread hop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http.cookies import Morsel
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse, HttpResponseBase  # type: ignore[import-untyped]
from django.utils import translation  # type: ignore[import-untyped]

from .. import endpoint
from ..endpoint import EndpointRequest
from ..guard import RequestState
from ..keys import CONSENT_KEY, GUARD_KEY
from ..response import TEXT_HEADERS, rewrite
from ..setcookie import set_cookie_name
from . import conf

__all__ = ["CookieGuardMiddleware"]

logger = logging.getLogger("cookieguard")


class CookieGuardMiddleware:
    """Enforces the visitor's consent on every response; serves the consent endpoint.

    Built from ``settings.COOKIEGUARD`` (see :mod:`cookieguard.django.conf`),
    once per handler. Sets ``request.cookieguard`` to the effective consent
    (:class:`~cookieguard.guard.RequestConsent`). Requests for ``consent_path``
    (and the banner's assets) are answered here, before the rest of
    ``MIDDLEWARE`` runs: the endpoint refuses cross-site posts itself, by their
    ``Origin`` and ``Sec-Fetch-Site``, which stands in for Django's CSRF token.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        configured = conf.build()
        self.guard = configured.guard
        self.on_consent = configured.on_consent
        self.own_paths = endpoint.own_paths(self.guard)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        if request.path_info in self.own_paths:
            return self.serve_endpoint(request)
        state = self.read_request(request)
        root = request.META.get("SCRIPT_NAME", "")
        return self.enforce(self.get_response(request), state, root=root)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info in self.own_paths:
            if self.on_consent is None:
                return self.serve_endpoint(request)
            # A consent log may block on I/O (or use the ORM): keep it off the event loop.
            return await sync_to_async(self.serve_endpoint)(request)
        state = self.read_request(request)
        response: Awaitable[HttpResponseBase] = self.get_response(request)
        root = request.META.get("SCRIPT_NAME", "")
        return self.enforce(await response, state, ascii_only=True, root=root)

    def read_request(self, request: HttpRequest) -> RequestState:
        """Read the consent; set ``request.cookieguard``; with ``clean_request``, clean cookies."""
        guard = self.guard
        meta = request.META
        cookie = meta.get("HTTP_COOKIE")
        state = guard.read_request(cookie, meta.get("HTTP_SEC_GPC"))
        request.cookieguard = state.consent
        meta[CONSENT_KEY] = state.consent
        meta[GUARD_KEY] = guard  # for the template tags and the context processor
        if guard.clean_request and cookie:
            meta["HTTP_COOKIE"] = guard.clean_cookie_header(cookie, state.consent)
            request.__dict__.pop("COOKIES", None)  # read again, from the cleaned header
        return state

    def enforce(
        self,
        response: HttpResponseBase,
        state: RequestState,
        *,
        ascii_only: bool = False,
        root: str = "",
    ) -> HttpResponseBase:
        """Apply the guard's decision to ``response`` in place (and return it).

        ``ascii_only``: Django's ``ASGIHandler`` writes ``response.cookies`` as ASCII
        (and raises on anything else), so a line of the guard's that is not ASCII (the
        withdrawal of a UTF-8 cookie name) goes out as the one raw ``Set-Cookie``
        header Django keeps, if that is free; any further one cannot be sent there and
        is logged instead. ``root``: the request's ``SCRIPT_NAME``, which the ``csp``
        policy's report URL carries.
        """
        morsels = list(response.cookies.items())
        own = list(response.items())
        lines = [morsel.OutputString() for _, morsel in morsels]
        headers = [*own, *(("Set-Cookie", line) for line in lines)]
        filtered = rewrite(self.guard, headers, state, TEXT_HEADERS, root=root)
        if filtered is not None:
            write_back(response, own, morsels, lines, filtered, ascii_only)
        return response

    def serve_endpoint(self, request: HttpRequest) -> HttpResponse:
        """Answer a request for one of :func:`cookieguard.endpoint.own_paths`."""
        limit = endpoint.body_limit(self.guard, request.path_info)
        body = request.read(limit + 1)
        headers = endpoint.header_map(request.headers.items())
        headers["host"] = request.get_host()  # ALLOWED_HOSTS and proxies, as Django's CSRF
        # In the language the site's pages speak to this visitor, for a consent log to
        # record which banner text was shown.
        with translation.override(page_language(request)):
            answer = endpoint.handle(
                self.guard,
                EndpointRequest(
                    method=request.method or "GET",
                    path=request.path_info,
                    scheme=request.scheme,
                    headers=headers,
                    body=body[:limit],
                    too_large=len(body) > limit,
                    query_string=request.META.get("QUERY_STRING", ""),
                    client=request.META.get("REMOTE_ADDR"),
                    root=request.META.get("SCRIPT_NAME", ""),
                ),
                self.on_consent,
            )
        response = HttpResponse(b"" if request.method == "HEAD" else answer.body)
        response.status_code = answer.status
        del response.headers["Content-Type"]  # the endpoint says its own, or none
        for name, value in answer.headers:
            if name.lower() == "set-cookie":
                add_set_cookie(response, value)
            else:
                add_header(response, name, value)
        return response


def write_back(
    response: HttpResponseBase,
    own: list[tuple[str, str]],
    morsels: list[tuple[str, Morsel[str]]],
    lines: list[str],
    filtered: list[tuple[str, str]],
    ascii_only: bool,
) -> None:
    """Make ``response`` send ``filtered``, the guard's answer to ``own`` and the ``lines``.

    What came and is still there passes as Django wrote it; what came and is gone was
    removed; what is there and did not come, the guard wrote (withdrawals, the
    ``Vary``): it goes out as written, after the others. Headers are matched by value,
    each as many times as it is there. The guard keeps what it keeps in order and adds
    after it, so when the response's own headers all stay, they are the answer's first
    ones and only the rest needs a look.
    """
    own_kept = filtered[: len(own)] == own
    leaving: dict[str, int] = {}  # each Set-Cookie value that leaves, and how often
    added: list[tuple[str, str]] = []  # the other headers, until own ones are taken out
    for header in filtered[len(own) :] if own_kept else filtered:
        if header[0].lower() == "set-cookie":
            leaving[header[1]] = leaving.get(header[1], 0) + 1
        else:
            added.append(header)
    if not own_kept:
        for header in own:
            if header[0].lower() != "set-cookie":
                if header in added:
                    added.remove(header)
            elif leaving.get(header[1]):
                leaving[header[1]] -= 1
            else:  # the raw header: Django keeps one per name
                del response.headers["Set-Cookie"]
    for (key, _), line in zip(morsels, lines, strict=True):
        if leaving.get(line):
            leaving[line] -= 1
        else:
            del response.cookies[key]
    for value, count in leaving.items():
        for _ in range(count):
            if not ascii_only or value.isascii():
                add_set_cookie(response, value)
            elif "Set-Cookie" not in response.headers:
                response.headers["Set-Cookie"] = value
            else:
                logger.warning(
                    "cannot send %r under Django's ASGIHandler, which writes cookies as ASCII",
                    value,
                )
    for header in added:
        add_header(response, *header)


def page_language(request: HttpRequest) -> str:
    """The language the visitor's pages are in: ``LocaleMiddleware``'s choice, else the default.

    The endpoint runs before ``LocaleMiddleware``, so its choice is made again here
    (from the language cookie and ``Accept-Language``; a language prefix in the
    page's path is not seen).
    """
    if settings.USE_I18N and "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE:
        return translation.get_language_from_request(request)  # type: ignore[no-any-return]
    return settings.LANGUAGE_CODE  # type: ignore[no-any-return]


def add_header(response: HttpResponseBase, name: str, value: str) -> None:
    """Add a header the guard wrote; Django keeps one value per name.

    Where the application already has one, the guard's value is appended after a
    comma, the list syntax of every header the guard adds (``Vary``, and a
    ``Content-Security-Policy``, whose comma-separated policies are each
    enforced): the application's text stays byte-identical before it.
    """
    existing = response.headers.get(name)
    response.headers[name] = value if existing is None else f"{existing}, {value}"


def add_set_cookie(response: HttpResponseBase, line: str) -> None:
    """Send a ``Set-Cookie`` the guard wrote, byte for byte, among ``response.cookies``."""
    morsel = SetCookieLine(line)
    key, n = morsel.key, 1
    while key in response.cookies:  # never replace a cookie that is being sent
        n += 1
        key = f"{morsel.key} ({n})"
    dict.__setitem__(response.cookies, key, morsel)


_NO_ATTRIBUTES = dict.fromkeys(Morsel._reserved, "")  # type: ignore[attr-defined]


class SetCookieLine(Morsel[str]):
    """A ``Set-Cookie`` the guard wrote (a withdrawal, the consent cookie), as a morsel.

    Django writes ``response.cookies`` out with ``OutputString()``, which gives the
    line unchanged. ``key``, ``value`` and ``coded_value`` are the line's, so Django's
    test client keeps the cookie as a browser would; the attributes are only in the
    line (``OutputString()``), not parsed back into the morsel.
    """

    def __init__(self, line: str) -> None:
        dict.update(self, _NO_ATTRIBUTES)  # Morsel.__init__'s defaults, in one step
        # Set directly, not with Morsel.set(), which refuses a name Morsel reserves
        # ("path"...) or deems illegal: such a line is still sent as written.
        self._key = set_cookie_name(line)
        self._value = self._coded_value = line.partition(";")[0].partition("=")[2].strip(" \t")
        self.line = line

    def OutputString(self, attrs: Any = None) -> str:  # noqa: N802 (Morsel's name)
        return self.line

    def __getstate__(self) -> dict[str, Any]:  # pickled responses (the cache) keep the line
        return {"line": self.line}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["line"])  # type: ignore[misc]
