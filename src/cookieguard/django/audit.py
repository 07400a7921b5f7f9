"""The cookie audit of a Django site, through Django's test client: ``manage.py cookieguard_audit``.

:func:`audit_site` requests each path under every consent state
(:func:`cookieguard.audit.consent_states`), as :func:`cookieguard.audit.audit_app`
does for WSGI and ASGI apps, with the same rules and report. Django's test client
serves each request through the site's own ``MIDDLEWARE``, with one addition: a
recorder right inside cookieguard's middleware notes what the site set before
cookieguard judged it. Where the middleware is not in ``MIDDLEWARE``, the site is
audited as one not wrapped (a throwaway middleware shows what it would strip; the
site's cookies all reach the client).

The paths are those given, else every URL the site's sitemap lists
(``django.contrib.sitemaps``: the sitemap index or sitemaps the URLconf routes
to, or ``sitemap``, a path), else ``/``.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponseBase  # type: ignore[import-untyped]
from django.test import Client  # type: ignore[import-untyped]
from django.test.utils import override_settings  # type: ignore[import-untyped]

from ..audit import AuditReport, audit_with
from ..audit.drive import page_html
from ..keys import CONSENT_KEY, GUARD_KEY
from . import conf
from .checks import _is_ours

__all__ = [
    "RecordingMiddleware",
    "SitemapError",
    "UnguardedRecordingMiddleware",
    "audit_site",
    "find_sitemaps",
    "sitemap_paths",
]

OURS = "cookieguard.django.CookieGuardMiddleware"
_SEEN = "_cookieguard_audit_seen"
_SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def set_cookie_lines(response: HttpResponseBase) -> list[str]:
    """The ``Set-Cookie`` lines a handler would send for ``response``."""
    raw = [v for k, v in response.items() if k.lower() == "set-cookie"]
    return raw + [morsel.OutputString() for morsel in response.cookies.values()]


class RecordingMiddleware:
    """Right inside cookieguard's middleware during an audit: notes what the site set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(self.entering(request))
        setattr(request, _SEEN, set_cookie_lines(response))
        return response

    def entering(self, request: HttpRequest) -> HttpRequest:
        return request


class UnguardedRecordingMiddleware(RecordingMiddleware):
    """The recorder of a site without cookieguard, which must not see the audit's consent."""

    def entering(self, request: HttpRequest) -> HttpRequest:
        request.__dict__.pop("cookieguard", None)
        request.META.pop(CONSENT_KEY, None)
        request.META.pop(GUARD_KEY, None)
        return request


class SitemapError(ValueError):
    """A sitemap that cannot be read; the message says which and why."""


class _TestClient:
    """The audit's client: one request at a time, no cookie kept between them."""

    def __init__(self, seen: list[str]) -> None:
        self.client = Client()
        self.seen = seen
        self.secure = bool(settings.SECURE_SSL_REDIRECT)
        self.html: str | None = None  # the last page's HTML, for the hosts it loads

    def get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        self.client.cookies.clear()
        extra = {"HTTP_COOKIE": cookie} if cookie else {}
        response = self.client.get(path, secure=self.secure, **extra)
        self.seen[:] = getattr(response.wsgi_request, _SEEN, [])
        streamed = getattr(response, "streaming", False)
        body = b"" if streamed else response.content
        self.html = page_html(response.get("Content-Type"), body)
        return response.status_code, set_cookie_lines(response)

    def close(self) -> None:
        pass


@contextmanager
def _audited_site() -> Iterator[bool]:
    """The settings of the audit: the recorder in ``MIDDLEWARE``, the test client's host allowed.

    Gives whether the site is wrapped in cookieguard.
    """
    middleware = list(settings.MIDDLEWARE)
    ours = [i for i, path in enumerate(middleware) if _is_ours(path)]
    if ours:
        recorder = f"{__name__}.RecordingMiddleware"
        middleware.insert(ours[0] + 1, recorder)
    else:
        middleware[:0] = [OURS, f"{__name__}.UnguardedRecordingMiddleware"]
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    # The report names each failing request; Django's own log would repeat it with a traceback.
    quiet = logging.getLogger("django.request")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        with override_settings(MIDDLEWARE=middleware, ALLOWED_HOSTS=hosts):
            yield bool(ours)
    finally:
        quiet.setLevel(level)


def audit_site(
    paths: Sequence[str] = (),
    *,
    sitemap: str | None = None,
    progress: Callable[[str], object] | None = None,
) -> AuditReport:
    """Audit the configured Django site's cookies; see the module's description.

    Raises :class:`~cookieguard.django.conf.ConfigError` when ``settings.COOKIEGUARD``
    cannot build the middleware, :class:`SitemapError` when the sitemap cannot be
    read, and ``ValueError`` for a path that does not start with ``/``.
    """
    guard = conf.build().guard
    bad = [p for p in paths if not p.startswith("/")]
    if bad:
        raise ValueError(f"paths must start with '/': {', '.join(bad)}")
    seen: list[str] = []
    name = f"{settings.SETTINGS_MODULE or 'settings'} (Django test client)"
    with _audited_site() as guarded:
        calls = _TestClient(seen)
        if not paths:
            sitemaps = [sitemap] if sitemap else find_sitemaps()
            paths = sitemap_paths(calls.client, sitemaps) if sitemaps else ["/"]
        if not paths:
            raise SitemapError(f"the sitemap lists no URL: {', '.join(sitemaps)}")
        return audit_with(
            calls,
            seen,
            guard,
            paths,
            guarded=guarded,
            app=name,
            interface="wsgi",
            progress=progress,
        )


def find_sitemaps() -> list[str]:
    """The paths of the sitemap indexes the URLconf routes to, else of its sitemaps.

    Only routes without parameters are found (``sitemap.xml``, not
    ``sitemap-<section>.xml``, which an index lists).
    """
    try:
        from django.contrib.sitemaps import views  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a Django without contrib
        return []
    from django.urls import URLResolver, get_resolver  # type: ignore[import-untyped]
    from django.utils.regex_helper import normalize  # type: ignore[import-untyped]

    found: dict[str, list[str]] = {"index": [], "sitemap": []}

    def walk(patterns: Any, prefix: str) -> None:
        for pattern in patterns:
            routes = [
                text for text, params in normalize(pattern.pattern.regex.pattern) if not params
            ]
            if not routes:
                continue
            route = prefix + routes[0]
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            view = pattern.callback
            while view is not None and view not in (views.index, views.sitemap):
                view = getattr(view, "__wrapped__", None)  # cache_page(...)(sitemap), ...
            if view is not None:
                found["index" if view is views.index else "sitemap"].append("/" + route)

    walk(get_resolver().url_patterns, "")
    return found["index"] or found["sitemap"]


def sitemap_paths(client: Client, sitemaps: Sequence[str]) -> list[str]:
    """Every page the sitemaps (or sitemap indexes) list, as paths, in their order."""
    paths: dict[str, None] = {}
    todo, read = list(sitemaps), set()
    while todo:
        where = todo.pop(0)
        if where in read:
            continue
        read.add(where)
        client.cookies.clear()
        response = client.get(where, secure=bool(settings.SECURE_SSL_REDIRECT))
        if response.status_code != 200:
            raise SitemapError(f"the sitemap {where} answered {response.status_code}")
        try:
            root = ElementTree.fromstring(
                b"".join(response) if response.streaming else response.content
            )
        except ElementTree.ParseError as exc:
            raise SitemapError(f"the sitemap {where} is not XML: {exc}") from None
        index = root.tag == f"{_SITEMAP}sitemapindex"
        for loc in root.iter(f"{_SITEMAP}loc"):
            url = urlsplit((loc.text or "").strip())
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            if index:
                todo.append(path)
            else:
                paths[path] = None
    return list(paths)
