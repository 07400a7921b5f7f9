"""The banner's CSS and JavaScript, served by the middleware under ``consent_path``.

Serving them from the middleware means a site needs no static-files setup and
no inline code: ``<script src=".../cookieguard.js">`` passes a Content Security
Policy of ``script-src 'self'``. URLs carry a content hash (``?v=...``), so a
request for the current version may be cached for a year.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["ASSETS", "Asset", "asset", "asset_name", "asset_response", "asset_url"]

#: File name -> content type, for every file the middleware serves.
ASSETS = {
    "cookieguard.css": "text/css; charset=utf-8",
    "cookieguard.js": "text/javascript; charset=utf-8",
    "consent-mode.js": "text/javascript; charset=utf-8",
}

_YEAR = "public, max-age=31536000, immutable"
_HOUR = "public, max-age=3600"


@dataclass(frozen=True)
class Asset:
    name: str
    content_type: str
    body: bytes
    version: str  # a short hash of the body, for cache busting and the ETag


@cache
def asset(name: str) -> Asset:
    """The shipped file ``name`` (one of :data:`ASSETS`), read once."""
    body = resources.files("cookieguard").joinpath("static").joinpath(name).read_bytes()
    return Asset(name, ASSETS[name], body, hashlib.sha256(body).hexdigest()[:12])


def asset_url(consent_path: str, name: str) -> str:
    """The versioned URL path of an asset, e.g. ``/cookieguard/consent/cookieguard.js?v=...``."""
    return f"{consent_path.rstrip('/')}/{name}?v={asset(name).version}"


def asset_name(consent_path: str, path: str) -> str | None:
    """The asset a request path asks for, or None when it is not one of ours."""
    prefix, _, name = path.rpartition("/")
    if prefix == consent_path.rstrip("/") and name in ASSETS:
        return name
    return None


Response = tuple[int, list[tuple[str, str]], bytes]


def asset_response(name: str, method: str, query_string: str, if_none_match: str) -> Response:
    """Status, headers and body for a request of an asset; ``304`` when the client has it."""
    if method not in ("GET", "HEAD"):
        return 405, [("Allow", "GET, HEAD"), ("Content-Length", "0")], b""
    found = asset(name)
    etag = f'"{found.version}"'
    current = f"v={found.version}" in query_string.split("&")
    headers = [
        ("Cache-Control", _YEAR if current else _HOUR),
        ("ETag", etag),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if etag in if_none_match:
        return 304, headers, b""
    headers += [("Content-Type", found.content_type), ("Content-Length", str(len(found.body)))]
    return 200, headers, found.body
