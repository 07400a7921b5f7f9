"""What the visitor agreed to and was shown, as canonical JSON and its sha256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from functools import cache
from importlib import resources
from typing import Any

from .. import i18n
from ..policy import cookie_entry
from ..registry import Cookie, Registry

__all__ = [
    "banner_fingerprint",
    "banner_texts",
    "registry_declarations",
    "registry_fingerprint",
    "sha256",
]


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def registry_declarations(registry: Registry) -> str:
    """The registry as canonical JSON: every category and cookie, in declaration order.

    The revision is left out, so that the same declarations under two revisions
    hash the same and changed declarations under one revision are caught. A
    cookie is described as the cookie policy describes it, plus its category.
    Services, and a cookie's service, appear only when declared: a registry
    without services hashes as it did before services existed.
    """
    categories = [asdict(c) for c in registry.categories]
    cookies = [_declared_cookie(c) for c in registry.cookies]
    described: dict[str, Any] = {"categories": categories, "cookies": cookies}
    if registry.services:  # a registry without services hashes as it did before them
        described["services"] = [asdict(s) for s in registry.services]
    return canonical(described)


def _declared_cookie(cookie: Cookie) -> dict[str, Any]:
    # No translations: the texts as the registry declares them.
    entry = {**cookie_entry(cookie), "category": cookie.category}
    if entry["service"] is None:
        del entry["service"]
    return entry


def registry_fingerprint(registry: Registry) -> str:
    """The sha256 of :func:`registry_declarations`: what the visitor agreed to."""
    return sha256(registry_declarations(registry))


@cache
def _banner_keys() -> tuple[str, ...]:
    """The message keys of the banner and the preferences dialog (``banner.en.json``)."""
    shipped = resources.files("cookieguard").joinpath("locales").joinpath("banner.en.json")
    return tuple(sorted(json.loads(shipped.read_text("utf-8"))))


def banner_texts(lang: str) -> str:
    """The banner's texts in ``lang`` as canonical JSON (language included)."""
    catalogue = i18n.messages(lang)
    texts = {key: catalogue.get(key, "") for key in _banner_keys()}
    return canonical({"language": lang, "texts": texts})


def banner_fingerprint(lang: str) -> str:
    """The sha256 of :func:`banner_texts`: what the visitor was shown."""
    return sha256(banner_texts(lang))
