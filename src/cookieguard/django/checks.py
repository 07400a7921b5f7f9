"""System checks: ``manage.py check`` names what would make the middleware fail or leak.

- ``cookieguard.E001``: ``settings.COOKIEGUARD`` is missing or not a dict.
- ``cookieguard.E002``: its ``REGISTRY`` is missing, cannot be imported, or is no ``Registry``.
- ``cookieguard.E003``: its ``OPTIONS`` (or ``SECRET_KEY``) cannot build the middleware.
- ``cookieguard.E004`` / ``E005`` / ``E006``: a cookie Django itself sets is not declared
  in the registry, so the middleware would strip it: ``SESSION_COOKIE_NAME``
  (``django.contrib.sessions`` installed), ``CSRF_COOKIE_NAME`` (``CsrfViewMiddleware``
  in ``MIDDLEWARE``, unless ``CSRF_USE_SESSIONS``), ``LANGUAGE_COOKIE_NAME`` (``USE_I18N``).
- ``cookieguard.W001``: the middleware is not first in ``MIDDLEWARE``;
  ``cookieguard.W002``: it is not there at all.
- ``cookieguard.W003``: with ``csp`` on, the site's own CSP middleware (Django 6's
  ``ContentSecurityPolicyMiddleware``, django-csp's ``CSPMiddleware``) comes before it:
  that middleware sets its policy only on a response that has none yet, so it would find
  cookieguard's and leave the site's own out.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps  # type: ignore[import-untyped]
from django.conf import settings  # type: ignore[import-untyped]
from django.core.checks import CheckMessage, Error, Warning  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from . import conf
from .middleware import CookieGuardMiddleware

__all__ = ["check_csp_order", "check_middleware_order", "check_settings"]

_DECLARE_HINT = (
    'Declare it in the registry, e.g. Cookie({name!r}, "necessary", provider=..., '
    "purpose=...), or the middleware removes it from every response."
)


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``settings.COOKIEGUARD`` builds the middleware, and declares Django's own cookies."""
    try:
        guard = conf.build().guard
    except conf.ConfigError as error:
        return [Error(str(error), hint=error.hint, id=error.id)]
    except ImproperlyConfigured as error:  # Django's own, such as an empty SECRET_KEY
        hint = "Fix the setting, or give COOKIEGUARD a SECRET_KEY of its own."
        return [Error(f"the middleware cannot be built: {error}", hint=hint, id="cookieguard.E003")]
    errors = []
    for name, why, id in _django_cookies():
        if guard.registry.category_of(name) is None:
            errors.append(
                Error(
                    f"the cookie {name!r} ({why}) is not declared in the cookieguard registry",
                    hint=_DECLARE_HINT.format(name=name),
                    id=id,
                )
            )
    return errors


def _django_cookies() -> list[tuple[str, str, str]]:
    """The cookies this project's Django sets itself: name, who sets it, the check's id."""
    cookies = []
    if apps.is_installed("django.contrib.sessions"):
        cookies.append((settings.SESSION_COOKIE_NAME, "SESSION_COOKIE_NAME", "cookieguard.E004"))
    csrf = "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    if csrf and not settings.CSRF_USE_SESSIONS:
        cookies.append((settings.CSRF_COOKIE_NAME, "CSRF_COOKIE_NAME", "cookieguard.E005"))
    if settings.USE_I18N:
        cookies.append((settings.LANGUAGE_COOKIE_NAME, "LANGUAGE_COOKIE_NAME", "cookieguard.E006"))
    return cookies


def check_middleware_order(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The middleware comes first, so that it sees every cookie the others set."""
    middleware = list(settings.MIDDLEWARE)
    ours = [i for i, path in enumerate(middleware) if _is_ours(path)]
    if not ours:
        return [
            Warning(
                "cookieguard.django.CookieGuardMiddleware is not in MIDDLEWARE: "
                "no cookie is checked against the visitor's consent",
                hint='Put "cookieguard.django.CookieGuardMiddleware" first in MIDDLEWARE.',
                id="cookieguard.W002",
            )
        ]
    if ours[0] != 0:
        return [
            Warning(
                f"cookieguard.django.CookieGuardMiddleware is not first in MIDDLEWARE "
                f"(after {middleware[0]!r}): cookies set by the middleware before it "
                "pass unchecked, and its consent endpoint runs after them",
                hint='Put "cookieguard.django.CookieGuardMiddleware" first in MIDDLEWARE.',
                id="cookieguard.W001",
            )
        ]
    return []


# The CSP middleware of Django 6 (SECURE_CSP) and of django-csp: each sets the header only
# where the response has none yet, so it must see the response before cookieguard does.
_CSP_MIDDLEWARE = (
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
)


def check_csp_order(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """With ``csp`` on, no CSP middleware of the site comes before cookieguard's."""
    middleware = list(settings.MIDDLEWARE)
    ours = next((i for i, path in enumerate(middleware) if _is_ours(path)), None)
    if not ours:  # first, or absent (W002)
        return []
    try:
        csp = conf.build().guard.csp
    except ImproperlyConfigured:  # check_settings reports it
        return []
    if csp is None:
        return []
    return [
        Warning(
            f"{path!r} comes before cookieguard.django.CookieGuardMiddleware in MIDDLEWARE: "
            f"it sets the site's {csp.header} only where the response has none, finds "
            "cookieguard's, and leaves the site's own policy out",
            hint='Put "cookieguard.django.CookieGuardMiddleware" before it (first in '
            "MIDDLEWARE): the site's policy is then set first, and cookieguard's appended.",
            id="cookieguard.W003",
        )
        for path in middleware[:ours]
        if _sets_csp_where_absent(path)
    ]


def _sets_csp_where_absent(path: str) -> bool:
    """Whether ``path`` names one of :data:`_CSP_MIDDLEWARE`, or a subclass of one."""
    if path in _CSP_MIDDLEWARE:
        return True
    bases = tuple(cls for cls in map(_imported, _CSP_MIDDLEWARE) if cls is not None)
    found = _imported(path)
    return bool(bases) and isinstance(found, type) and issubclass(found, bases)


def _imported(path: str) -> Any:
    """What ``path`` names, or None (django-csp not installed, Django < 6, a broken path)."""
    try:
        return import_string(path)
    except ImportError:
        return None


def _is_ours(path: str) -> bool:
    if not path.startswith("cookieguard."):
        return False
    try:
        return import_string(path) is CookieGuardMiddleware
    except ImportError:
        return False
