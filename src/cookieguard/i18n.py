"""Translations: message catalogues per language, chosen from ``Accept-Language``.

Catalogues are flat JSON files in ``cookieguard/locales`` named
``<domain>.<lang>.json`` (``banner.fr.json``, ``policy.de.json``); every file of
a language is merged into one mapping. English is complete and is the fallback
for any key a language lacks; a regional language (``fr-ca``) falls back to its
primary language (``fr``) first. A site adds or overrides a language with
:func:`add_language`, which also takes per-category texts
(``category.<name>.label``, ``category.<name>.description``) that replace the
registry's own in that language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache, lru_cache
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
    """Every message in ``lang``, falling back key by key to its primary language, then English."""
    lang = lang.lower()
    merged: dict[str, str] = {}
    for code in dict.fromkeys([DEFAULT_LANGUAGE, lang.partition("-")[0], lang]):
        merged.update(_shipped().get(code, {}))
        merged.update(_added.get(code, {}))
    return MappingProxyType(merged)


def add_language(lang: str, catalogue: Mapping[str, str]) -> None:
    """Add a language, or override messages of a shipped one (keys as in ``banner.en.json``).

    ``category.<name>.label`` and ``category.<name>.description`` keys translate
    the registry's categories; in English they override the ``Category`` texts.
    """
    if not lang or not lang.replace("-", "").isalnum():
        raise ValueError(f"not a language code: {lang!r}")
    _added.setdefault(lang.lower(), {}).update(catalogue)


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
