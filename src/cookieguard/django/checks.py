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

__all__ = ["check_middleware_order", "check_settings"]

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


def _is_ours(path: str) -> bool:
    if not path.startswith("cookieguard."):
        return False
    try:
        return import_string(path) is CookieGuardMiddleware
    except ImportError:
        return False
