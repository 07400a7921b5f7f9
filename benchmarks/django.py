"""Django: cookieguard's middleware beside django-cookie-consent's, on the same view.

The view sets ``sessionid`` (necessary) and Matomo's ``_pk_id.1.ab`` (statistics,
HttpOnly), as a server-side integration does on every page. Each variant is a
``WSGIHandler`` built with its own ``MIDDLEWARE``: none (the bare view),
``cookieguard.django.CookieGuardMiddleware``, and django-cookie-consent's
``cookie_consent.middleware.CleanCookiesMiddleware`` (its cookie groups in an
in-memory SQLite database and Django's local-memory cache, as it reads them).

Two visitors: one before any choice, who still carries ``_pk_id.1.ab`` from an
earlier visit (each middleware has work to do: strip, withdraw, delete), and one
who consented to statistics. Costs are CPU µs per request and the ratio to the
bare view, measured in the same run. Then one request without any cookie says
whether the server-set HttpOnly cookie reaches the browser before consent:
django-cookie-consent deletes a declined cookie only once the browser sends it back,
so it never stops the first ``Set-Cookie``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .driver import measure, wsgi_environ

STATISTICS = "_pk_id.1.ab"
KEY = "benchmark-secret-key-not-secret"


def _configure() -> None:
    import django
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY=KEY,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["cookieguard.django", "cookie_consent"],
        MIDDLEWARE=[],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        USE_TZ=True,
        USE_I18N=False,
        COOKIEGUARD={"REGISTRY": f"{__name__}.registry"},
        LOGGING_CONFIG=None,
    )
    django.setup()
    from cookie_consent.models import Cookie, CookieGroup
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    group = CookieGroup.objects.create(varname="statistics", name="Statistics")
    Cookie.objects.create(cookiegroup=group, name=STATISTICS)


def _registry() -> Any:
    from cookieguard import Category, Cookie, Registry

    return Registry(
        categories=[Category("necessary", required=True), Category("statistics")],
        cookies=[Cookie("sessionid", "necessary"), Cookie("_pk_id.*", "statistics")],
    )


registry = _registry()


def view(request: Any) -> Any:
    from django.http import HttpResponse

    response = HttpResponse(b"hello", content_type="text/plain")
    response.set_cookie("sessionid", "s1", httponly=True, samesite="Lax")
    response.set_cookie(STATISTICS, "v1", max_age=395 * 86400, httponly=True)
    return response


def _urlpatterns() -> list[Any]:
    from django.urls import path

    return [path("", view)]


VARIANTS = {
    "bare Django view": [],
    "cookieguard.django.CookieGuardMiddleware": ["cookieguard.django.CookieGuardMiddleware"],
    "django-cookie-consent CleanCookiesMiddleware": [
        "cookie_consent.middleware.CleanCookiesMiddleware"
    ],
}


def _handlers() -> dict[str, Any]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    handlers = {}
    for name, middleware in VARIANTS.items():
        with override_settings(MIDDLEWARE=middleware):
            handlers[name] = WSGIHandler()  # loads its MIDDLEWARE now
    return handlers


def _runner(handler: Any, environ: dict[str, Any]) -> Callable[[int], float]:
    from .driver import wsgi_runner

    return wsgi_runner(handler, environ)


def _cookies(granted: bool) -> str:
    from cookie_consent.models import CookieGroup

    from cookieguard import ConsentCodec
    from cookieguard.consent import new_consent

    if not granted:
        return f"{STATISTICS}=v0"
    token = ConsentCodec([KEY]).dumps(new_consent({"statistics"}, registry.revision))
    version = CookieGroup.objects.get(varname="statistics").get_version()
    return f"{STATISTICS}=v0; cookies_preferences={token}; cookie_consent=statistics={version}"


def _set_cookies(handler: Any, cookie: str | None) -> list[str]:
    sent: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        sent.extend(v.strip() for k, v in headers if k.lower() == "set-cookie")

    body = handler(wsgi_environ(cookie), start_response)
    for _ in body:
        pass
    body.close()
    return sent


def compare(n: int, rounds: int) -> bool:
    """Print both tables and the first-visit check; True when cookieguard keeps the cookie back."""
    _configure()
    handlers = _handlers()
    for title, granted in (("before consent", False), ("statistics granted", True)):
        environ = wsgi_environ(_cookies(granted))
        timings = measure({k: _runner(h, environ) for k, h in handlers.items()}, n, rounds)
        bare = timings["bare Django view"].median
        print(f"\nDjango, one view setting sessionid and {STATISTICS} (HttpOnly); {title}\n")
        print(f"| {'variant':<44} | µs/req | spread | x bare | overhead µs |")
        print(f"|{'-' * 46}|-------:|-------:|-------:|------------:|")
        for name, t in timings.items():
            print(
                f"| {name:<44} | {t.median:6.1f} | {t.spread:6.1f} | {t.median / bare:6.2f} "
                f"| {t.median - bare:+11.2f} |"
            )
    print(f"\nfirst visit, no cookie at all: does {STATISTICS} (HttpOnly) reach the browser?\n")
    reached = {}
    for name, handler in handlers.items():
        names = [line.partition("=")[0] for line in _set_cookies(handler, None)]
        reached[name] = STATISTICS in names
        print(f"- {name}: {'yes' if reached[name] else 'no'} (Set-Cookie: {', '.join(names)})")
    ok = not reached["cookieguard.django.CookieGuardMiddleware"]
    print(f"- cookieguard keeps it back until consent -> {'met' if ok else 'NOT met'}")
    return ok


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":  # ROOT_URLCONF: built once Django is set up
        return _urlpatterns()
    raise AttributeError(name)
