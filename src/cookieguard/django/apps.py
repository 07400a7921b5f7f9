"""The Django app: ``INSTALLED_APPS = [..., "cookieguard.django"]``."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]
from django.core import checks  # type: ignore[import-untyped]


class CookieGuardConfig(AppConfig):  # type: ignore[misc]
    """Registers the system checks (:mod:`cookieguard.django.checks`); holds the consent log."""

    name = "cookieguard.django"
    label = "cookieguard"
    verbose_name = "cookieguard"
    default = True
    # The models' primary keys, whatever the project's DEFAULT_AUTO_FIELD: the migrations say so.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .checks import check_csp_order, check_middleware_order, check_settings

        checks.register(check_settings, "cookieguard")
        checks.register(check_middleware_order, "cookieguard")
        checks.register(check_csp_order, "cookieguard")
