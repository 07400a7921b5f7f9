"""The Django app: ``INSTALLED_APPS = [..., "cookieguard.django"]``."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]
from django.core import checks  # type: ignore[import-untyped]


class CookieGuardConfig(AppConfig):  # type: ignore[misc]
    """Registers the system checks (:mod:`cookieguard.django.checks`) and the template tags."""

    name = "cookieguard.django"
    label = "cookieguard"
    verbose_name = "cookieguard"
    default = True

    def ready(self) -> None:
        from .checks import check_middleware_order, check_settings

        checks.register(check_settings, "cookieguard")
        checks.register(check_middleware_order, "cookieguard")
