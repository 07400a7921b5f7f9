"""A Django project made for the tests, configured once for the whole test process.

Settings are given with ``settings.configure`` (no settings module, no
pytest-django); each test narrows them with ``override_settings``. The URLs are
this module's ``urlpatterns``. The docs' Django recipe configures its own
settings in a fresh interpreter (tests/test_docs.py), so it is not affected.

Three drivers serve one request through Django and give what a visitor
receives, as :class:`tests.support.cases.Response`: Django's test client, ``WSGIHandler``
and ``ASGIHandler`` (with a recording ``send``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from http.cookies import Morsel
from typing import Any

import django
import jinja2
from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.test import Client
from django.urls import path
from django.views.i18n import set_language
from tests.support.cases import KEY, REGISTRY, Response, Seen, call_asgi, call_wsgi

OURS = "cookieguard.django.CookieGuardMiddleware"
SITE_MIDDLEWARE = [
    OURS,
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

TEMPLATES = {
    "page.html": (
        "{% load cookieguard %}<head>{% cookieguard_assets %}</head><body>"
        '{% cookieguard_allows "statistics" as statistics %}'
        "<p>statistics: {{ statistics }}</p>{% cookieguard_banner %}"
        "<footer>{% cookieguard_preferences_link %}</footer></body>"
    ),
    "no-request.html": "{% load cookieguard %}{% cookieguard_banner %}",
    "embed.html": (
        '{% load cookieguard %}{% cookieguard_allows_service "youtube" as youtube %}'
        "<p>youtube: {{ youtube }}</p>"
        '{% cookieguard_embed "youtube" src="https://www.youtube-nocookie.com/embed/x" '
        'title="A video" id="video" %}'
    ),
    "embed-mistake.html": '{% load cookieguard %}{% cookieguard_embed "youtube" title="x" %}',
}
JINJA_TEMPLATES = {
    "page.jinja": (
        "<head>{{ cookieguard.assets() }}</head><body>"
        '<p>statistics: {{ cookieguard.allows("statistics") }}</p>'
        "{{ cookieguard.banner() }}<footer>{{ cookieguard.preferences_link() }}</footer></body>"
    ),
}

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=KEY,
        ALLOWED_HOSTS=["testserver", "localhost", "127.0.0.1"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.sessions", "django.contrib.sitemaps", "cookieguard.django"],
        MIDDLEWARE=[OURS],
        # For the consent log's model; tests that use it migrate it (tests/test_django/conftest.py).
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.path.join(tempfile.mkdtemp(prefix="cookieguard-django-"), "db.sqlite3"),
            }
        },
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        USE_I18N=True,
        LANGUAGE_CODE="en",
        LANGUAGES=[("en", "English"), ("fr", "Français"), ("de", "Deutsch")],
        USE_TZ=True,
        COOKIEGUARD={"REGISTRY": REGISTRY},
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {
                    "context_processors": ["django.template.context_processors.request"],
                    "loaders": [
                        ("django.template.loaders.locmem.Loader", TEMPLATES),
                        "django.template.loaders.app_directories.Loader",  # sitemap.xml
                    ],
                },
            },
            {
                "BACKEND": "django.template.backends.jinja2.Jinja2",
                "OPTIONS": {
                    "context_processors": ["cookieguard.django.context_processor"],
                    "loader": jinja2.DictLoader(JINJA_TEMPLATES),
                },
            },
        ],
    )
    django.setup()


class Verbatim(Morsel[str]):
    """A morsel written out as the given text: a ``Set-Cookie`` no ``set_cookie`` call can make.

    Django's handlers write every morsel with ``output()`` / ``OutputString()``;
    this one gives the case table's own text, malformed names included.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def OutputString(self, attrs: Any = None) -> str:  # noqa: N802
        return self.text


class Spec:
    """What the case view answers with (set by the test before each request)."""

    headers: Sequence[tuple[str, str]] = ()
    raw_first = True  # the first Set-Cookie as response.headers["Set-Cookie"], the rest morsels
    seen = Seen()


def case_view(request: HttpRequest) -> HttpResponse:
    Spec.seen.cookie = request.META.get("HTTP_COOKIE")
    Spec.seen.consent = request.cookieguard
    response = HttpResponse("hello", content_type="text/plain")
    response["X-Before"] = "1"
    vary = []
    raw = not Spec.raw_first
    for i, (name, value) in enumerate(Spec.headers):
        if name.lower() == "vary":
            vary.append(value)
        elif name.lower() != "set-cookie":
            response[name] = value
        elif not raw:
            response.headers[name] = value
            raw = True
        else:
            dict.__setitem__(response.cookies, f"case-{i}", Verbatim(value))
    if vary:  # Django keeps one value per header name
        response["Vary"] = ", ".join(vary)
    response["X-After"] = "2"
    return response


def site_view(request: HttpRequest) -> HttpResponse:
    """A page as a Django site makes it: a session, a CSRF token, Matomo, a raw header."""
    request.session["visits"] = request.session.get("visits", 0) + 1
    get_token(request)
    Spec.seen.consent = request.cookieguard
    response = HttpResponse(f"statistics: {request.cookieguard.allows('statistics')}")
    response.set_cookie("_pk_id.1.ab", "v1", max_age=3600, httponly=True, samesite="Lax")
    response.set_cookie("django_language", "fr")
    response.headers["Set-Cookie"] = "ads=1; Path=/shop; Domain=.example.test"
    return response


def forget_view(request: HttpRequest) -> HttpResponse:
    """Deletes cookies the visitor may not have consented to: deletions always pass."""
    response = HttpResponse("forgotten")
    response.delete_cookie("_pk_id.1.ab")
    response.delete_cookie("ads", path="/shop", domain=".example.test")
    return response


def page_view(request: HttpRequest) -> HttpResponse:
    return render(request, "page.html")


def embed_view(request: HttpRequest) -> HttpResponse:
    return render(request, request.GET.get("template", "embed.html"))


def jinja_view(request: HttpRequest) -> HttpResponse:
    return render(request, "page.jinja")


def cookies_view(request: HttpRequest) -> HttpResponse:
    """The names of the cookies Django read from the request."""
    return HttpResponse(" ".join(sorted(request.COOKIES)))


def no_request_view(request: HttpRequest) -> HttpResponse:
    from django.template.loader import render_to_string

    return HttpResponse(render_to_string("no-request.html"))


async def chunks() -> AsyncIterator[bytes]:
    for chunk in (b"one ", b"two ", b"three"):
        yield chunk


async def stream_view(request: HttpRequest) -> StreamingHttpResponse:
    """A body streamed chunk by chunk (as ASGI wants it: asynchronously), with cookies."""
    response = StreamingHttpResponse(chunks())
    response.set_cookie("_pk_id.1.ab", "v1")
    response.set_cookie("sessionid", "s1")
    return response


async def async_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(f"statistics: {request.cookieguard.allows('statistics')}")
    response.set_cookie("_pk_id.1.ab", "v1")
    response.set_cookie("sessionid", "s1")
    return response


class Pages(Sitemap):
    """The pages the sitemap lists: what ``manage.py cookieguard_audit`` requests by default."""

    def items(self) -> list[str]:
        return ["/site", "/page"]

    def location(self, item: str) -> str:
        return item


urlpatterns = [
    path("sitemap.xml", sitemap, {"sitemaps": {"pages": Pages}}),
    path("", case_view),
    path("site", site_view),
    path("forget", forget_view),
    path("page", page_view),
    path("jinja", jinja_view),
    path("embed", embed_view),
    path("no-request", no_request_view),
    path("cookies", cookies_view),
    path("async", async_view),
    path("stream", stream_view),
    path("i18n/setlang/", set_language, name="set_language"),
]

# -- drivers: one request through Django, what a visitor receives ------------------

Driver = Callable[..., Response]


def _client_response(response: Any) -> Response:
    """What Django's test client hands a test, as the handlers would have sent it."""
    headers = [*response.items()]
    headers += [("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()]
    body = b"" if response.streaming else response.content
    return Response(response.status_code, headers, body)


def via_client(client: Client | None = None) -> Driver:
    client = client or Client()

    def serve(
        *, method: str = "GET", path: str = "/", headers: Any = (), body: bytes = b""
    ) -> Response:
        fields = dict(headers)
        fields.pop("Host", None)  # the test client's own: testserver
        content_type = fields.pop("Content-Type", "application/octet-stream")
        reply = client.generic(method, path, body, content_type, headers=fields)
        response = _client_response(reply)
        response.raw = reply  # type: ignore[attr-defined]
        return response

    return serve


def via_wsgi() -> Driver:
    """``WSGIHandler`` loads the middleware when made: on the first request, with its settings."""
    handlers: list[WSGIHandler] = []

    def serve(**request: Any) -> Response:
        handlers[:] = handlers or [WSGIHandler()]
        response = call_wsgi(handlers[0], **request)
        # Django writes each morsel as morsel.output(header=""), which puts one space
        # before it (a server sends it as the space after the colon).
        response.headers = [
            (k, v[1:] if k == "Set-Cookie" and v.startswith(" ") else v)
            for k, v in response.headers
        ]
        return response

    return serve


def via_asgi() -> Driver:
    handlers: list[ASGIHandler] = []

    def serve(**request: Any) -> Response:
        handlers[:] = handlers or [ASGIHandler()]
        return call_asgi(handlers[0], **request)

    return serve


DRIVERS: dict[str, Callable[[], Driver]] = {
    "client": via_client,
    "wsgi": via_wsgi,
    "asgi": via_asgi,
}

__all__ = ["DRIVERS", "OURS", "SITE_MIDDLEWARE", "Spec"]
