"""``settings.COOKIEGUARD``, read once: what the middleware is built from.

The system checks and the middleware read the setting through :func:`build`, so
a setting the checks accept is one the middleware starts with, and a mistake is
reported with the same words by ``manage.py check`` and at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from ..endpoint import ConsentEvent
from ..guard import Guard
from ..registry import Registry

__all__ = ["ConfigError", "Configured", "build", "registry"]

# OPTIONS that name a callable: a dotted path to it is accepted too, as settings often say.
_CALLABLE_OPTIONS = ("on_consent", "on_violation", "on_csp_violation")


class ConfigError(ImproperlyConfigured):  # type: ignore[misc]
    """``settings.COOKIEGUARD`` cannot build the middleware; ``id`` and ``hint`` are the check's."""

    def __init__(self, message: str, *, id: str, hint: str) -> None:
        super().__init__(message)
        self.id = id
        self.hint = hint


@dataclass(frozen=True)
class Configured:
    """The guard built from the settings, and the callback the endpoint calls."""

    guard: Guard
    on_consent: Callable[[ConsentEvent], object] | None


def build() -> Configured:
    """The guard ``settings.COOKIEGUARD`` describes, or :class:`ConfigError`."""
    setting = getattr(settings, "COOKIEGUARD", None)
    if not isinstance(setting, Mapping):
        raise ConfigError(
            "settings.COOKIEGUARD is missing"
            if setting is None
            else f"settings.COOKIEGUARD must be a dict, got {type(setting).__name__}",
            id="cookieguard.E001",
            hint='Add COOKIEGUARD = {"REGISTRY": "yourproject.cookies.registry"} to your settings.',
        )
    registry = _registry(setting.get("REGISTRY"))
    options = dict(setting.get("OPTIONS") or {})
    for name in _CALLABLE_OPTIONS:
        if isinstance(options.get(name), str):
            options[name] = _imported(options[name], f"OPTIONS[{name!r}]", "cookieguard.E003")
    on_consent = options.pop("on_consent", None)
    try:
        guard = Guard.create(registry=registry, secret_key=_secret_key(setting), **options)
    except (TypeError, ValueError) as invalid:
        raise ConfigError(
            f"settings.COOKIEGUARD cannot build the middleware: {invalid}",
            id="cookieguard.E003",
            hint="OPTIONS takes the options of cookieguard.wsgi.CookieGuardMiddleware "
            "(cookie_name, max_age, unknown, report_only, honor_gpc, ...) and on_consent.",
        ) from None
    return Configured(guard, on_consent)


def registry() -> Registry:
    """The registry ``settings.COOKIEGUARD`` names, or :class:`ConfigError`."""
    setting = getattr(settings, "COOKIEGUARD", None)
    if not isinstance(setting, Mapping):
        return build().guard.registry  # raises the check's error
    return _registry(setting.get("REGISTRY"))


def _registry(value: object) -> Registry:
    hint = 'REGISTRY is a Registry or its dotted path, such as "yourproject.cookies.registry".'
    if value is None:
        raise ConfigError("settings.COOKIEGUARD has no REGISTRY", id="cookieguard.E002", hint=hint)
    if isinstance(value, str):
        value = _imported(value, "REGISTRY", "cookieguard.E002")
    if not isinstance(value, Registry):
        raise ConfigError(
            f"settings.COOKIEGUARD['REGISTRY'] is not a cookieguard.Registry: {value!r}",
            id="cookieguard.E002",
            hint=hint,
        )
    return value


def _imported(path: str, what: str, id: str) -> Any:
    try:
        return import_string(path)
    except ImportError as missing:
        raise ConfigError(
            f"settings.COOKIEGUARD {what} cannot be imported: {missing}",
            id=id,
            hint=f"{path!r} must be the dotted path of an importable module attribute.",
        ) from None


def _secret_key(setting: Mapping[str, Any]) -> str | bytes | list[str | bytes]:
    """``COOKIEGUARD["SECRET_KEY"]``, else Django's key, with its fallbacks verifying too."""
    key = setting.get("SECRET_KEY")
    if key is not None:
        return key  # type: ignore[no-any-return]
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
