"""Translations: message catalogues per language, chosen from ``Accept-Language``.

Catalogues are flat JSON files in ``cookieguard/locales`` named
``<domain>.<lang>.json`` (``banner.fr.json``, ``policy.de.json``); every file of
a language is merged into one mapping. English is complete and is the fallback
for any key a language lacks. A site adds or overrides a language with
:func:`add_language`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

__all__ = ["DEFAULT_LANGUAGE", "add_language", "languages", "messages", "negotiate"]

DEFAULT_LANGUAGE = "en"

_added: dict[str, dict[str, str]] = {}


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


def messages(lang: str) -> Mapping[str, str]:
    """Every message in ``lang``, falling back to English key by key."""
    merged = dict(_shipped().get(DEFAULT_LANGUAGE, {}))
    merged.update(_added.get(DEFAULT_LANGUAGE, {}))
    if lang != DEFAULT_LANGUAGE:
        merged.update(_shipped().get(lang, {}))
        merged.update(_added.get(lang, {}))
    return MappingProxyType(merged)


def add_language(lang: str, catalogue: Mapping[str, str]) -> None:
    """Add a language, or override messages of a shipped one (keys as in ``banner.en.json``)."""
    if not lang or not lang.replace("-", "").isalnum():
        raise ValueError(f"not a language code: {lang!r}")
    _added.setdefault(lang.lower(), {}).update(catalogue)


def negotiate(accept_language: str | None, available: tuple[str, ...] | None = None) -> str:
    """The best available language for an ``Accept-Language`` header, else English."""
    offered = available or languages()
    if not accept_language:
        return DEFAULT_LANGUAGE
    accept = parse_accept_header(accept_language, LanguageAccept)
    return accept.best_match(offered, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE
