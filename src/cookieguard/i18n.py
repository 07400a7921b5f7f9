"""Translations: message catalogues per language, chosen from ``Accept-Language``.

Catalogues are flat JSON files in ``cookieguard/locales`` named
``<domain>.<lang>.json`` (``banner.fr.json``, ``policy.de.json``); every file of
a language is merged into one mapping. English is complete and is the fallback
for any key a language lacks; a regional language (``fr-ca``) falls back to its
primary language (``fr``) first. A site adds or overrides a language with
:func:`add_language`, which also takes the texts of its own registry in that
language: ``category.<name>.label``, ``category.<name>.description``,
``cookie.<name>.purpose`` and ``cookie.<name>.duration`` (``<name>`` as declared,
``_pk_id.*`` for a pattern), ``service.<name>.label`` and ``service.<name>.purpose``.
Passed with ``registry=``, such a catalogue applies to that registry only, so that
two sites served by one process keep their own texts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

if TYPE_CHECKING:
    from .registry import Category, Cookie, Registry, Service

    _RegistryKey = tuple[tuple[Category, ...], tuple[Cookie, ...]]

__all__ = [
    "DEFAULT_LANGUAGE",
    "add_language",
    "category_text",
    "cookie_text",
    "languages",
    "messages",
    "negotiate",
    "service_text",
]

DEFAULT_LANGUAGE = "en"

# Language -> the catalogue a site added for every registry.
_added: dict[str, dict[str, str]] = {}
# A registry's declarations -> language -> the catalogue added for that registry alone.
# Keyed by the declarations, not the object: the middleware holds a copy of the registry
# (``Registry.with_consent_cookie``) that declares the same categories and cookies.
_by_registry: dict[_RegistryKey, dict[str, dict[str, str]]] = {}


@cache
def _shipped() -> Mapping[str, Mapping[str, str]]:
    catalogues: dict[str, dict[str, str]] = {}
    for entry in resources.files("cookieguard").joinpath("locales").iterdir():
        domain_lang, dot, ext = entry.name.rpartition(".")
        if ext != "json" or not dot:
            continue
        lang = domain_lang.rpartition(".")[2]
        catalogues.setdefault(lang, {}).update(json.loads(entry.read_text("utf-8")))
    return catalogues


def languages() -> tuple[str, ...]:
    """The language codes available, English first."""
    codes = dict.fromkeys([DEFAULT_LANGUAGE, *sorted(_shipped()), *sorted(_added)])
    return tuple(codes)


def _registry_key(registry: Registry) -> _RegistryKey:
    return (registry.categories, registry.cookies)


def messages(lang: str, registry: Registry | None = None) -> Mapping[str, str]:
    """Every message in ``lang``, falling back key by key to its primary language, then English.

    With ``registry``, the texts added for that registry (``add_language(...,
    registry=...)``) come on top of those added for every registry.
    """
    lang = lang.lower()
    scoped = _by_registry.get(_registry_key(registry), {}) if registry is not None else {}
    merged: dict[str, str] = {}
    for code in dict.fromkeys([DEFAULT_LANGUAGE, lang.partition("-")[0], lang]):
        merged.update(_shipped().get(code, {}))
        merged.update(_added.get(code, {}))
        merged.update(scoped.get(code, {}))
    return MappingProxyType(merged)


def add_language(
    lang: str, catalogue: Mapping[str, str], *, registry: Registry | None = None
) -> None:
    """Add a language, or override messages of a shipped one (keys as in ``banner.en.json``).

    ``category.<name>.label``, ``category.<name>.description``,
    ``cookie.<name>.purpose``, ``cookie.<name>.duration``, ``service.<name>.label``
    and ``service.<name>.purpose`` keys translate the registry's own texts; in English
    they override the declared ones. With ``registry``, the catalogue applies to that
    registry only (and to the middleware's copy of it); without, to every registry.
    """
    if not lang or not lang.replace("-", "").isalnum():
        raise ValueError(f"not a language code: {lang!r}")
    added = _added if registry is None else _by_registry.setdefault(_registry_key(registry), {})
    added.setdefault(lang.lower(), {}).update(catalogue)


def category_text(
    t: Mapping[str, str], category: Category, field: Literal["label", "description"]
) -> str:
    """A category's label or description in the language of the messages ``t``."""
    declared = category.title if field == "label" else category.description
    return t.get(f"category.{category.name}.{field}") or declared


def cookie_text(t: Mapping[str, str], cookie: Cookie, field: Literal["purpose", "duration"]) -> str:
    """A cookie's purpose or duration in the language of the messages ``t``."""
    declared = cookie.purpose if field == "purpose" else cookie.duration
    return t.get(f"cookie.{cookie.name}.{field}") or declared


def service_text(t: Mapping[str, str], service: Service, field: Literal["label", "purpose"]) -> str:
    """A service's label or purpose in the language of the messages ``t``."""
    declared = service.title if field == "label" else service.purpose
    return t.get(f"service.{service.name}.{field}") or declared


def negotiate(accept_language: str | None, available: tuple[str, ...] | None = None) -> str:
    """The best available language for an ``Accept-Language`` header, else English.

    The visitor's preference order wins: ``en-GB, de;q=0.5`` is English, because
    ``en-GB`` is served by ``en`` before ``de`` is considered. (Werkzeug's
    ``best_match`` would prefer any exact match, here German.)
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    return _negotiate(accept_language, available or languages())


# Browsers send few distinct headers; parsing one costs more than rendering the banner text.
@lru_cache(maxsize=1024)
def _negotiate(accept_language: str, available: tuple[str, ...]) -> str:
    offered = [code.lower() for code in available]
    for value, quality in parse_accept_header(accept_language, LanguageAccept):
        wanted = value.lower().replace("_", "-")
        primary = wanted.partition("-")[0]
        if quality <= 0 or wanted == "*":
            continue
        for code in (wanted, primary):
            if code in offered:
                return code
        regional = next((c for c in offered if c.partition("-")[0] == primary), None)
        if regional is not None:
            return regional
    return DEFAULT_LANGUAGE
