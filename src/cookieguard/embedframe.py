"""The embed frame page: one service's iframe in a same-origin page with a policy of its own.

Under ``csp="enforce"`` a page keeps the Content-Security-Policy it loaded with,
whose ``frame-src`` did not allow a service the visitor had not granted yet: an
iframe of YouTube swapped into the page once "Load video" is pressed would be
refused. A browser checks an iframe against the policy of the document that
contains it, and a same-origin document loaded from a URL gets its policy from
its own response, not from its parent. So with JavaScript the embed's placeholder
is replaced by an iframe of this page, ``<consent_path>/embed?service=...&src=...
&title=...`` (``frame-src 'self'`` lets the page load it), which answers with the
policy of the visitor's consent *now* and, filling it, the service's iframe.

It frames only what the consent allows, and fails closed: the named service must be
one the visitor's consent allows now (else ``403``), and ``src`` an ``http(s)`` URL
on one of that service's hosts as the policy matches them (else ``400``). The page
cannot be framed by another site (``frame-ancestors 'self'``, ``X-Frame-Options:
SAMEORIGIN``), is never cached (``no-store``), runs no script, and sends the
player no more than the site's origin as referrer.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import templating
from .guard import Guard
from .hostsource import declares
from .registry import Service

__all__ = ["FRAME_PATH", "frame_path", "frame_url", "respond", "serves"]

#: The frame page, under ``consent_path``.
FRAME_PATH = "embed"

Response = tuple[int, list[tuple[str, str]], bytes]

_PARAMS = ("service", "src", "title", "allow")
_REQUIRED = ("service", "src", "title")
_MAX_QUERY = 8 * 1024  # a query string read; an embed's URL and title are far shorter
# A src the browser reads as Python does: printable ASCII without a backslash (which
# browsers take for "/", turning "https://evil.example\@youtube.com" into evil.example)
# and without "@" anywhere (an embed's URL never needs one; a user name never passes),
# on a host of letters, digits, dots and hyphens (no userinfo, no percent-encoded host,
# no trailing dot, which names the same host to DNS but not to every host-source match).
_SAFE_SRC = re.compile(r"[\x21-\x3f\x41-\x5b\x5d-\x7e]+")
_SAFE_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]{1,5})?")
# What every answer of the frame page carries: never cached, never framed by another site.
_ALWAYS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
]
_ERROR_POLICY = "default-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"


def frame_path(consent_path: str) -> str:
    """The frame page's path, e.g. ``/cookieguard/consent/embed``."""
    return f"{consent_path.rstrip('/')}/{FRAME_PATH}"


def frame_url(consent_path: str, *, service: str, src: str, title: str, allow: str = "") -> str:
    """The URL of the frame page showing ``src`` of ``service`` (a path and query)."""
    query = {"service": service, "src": src, "title": title}
    if allow:
        query["allow"] = allow
    return f"{frame_path(consent_path)}?{urlencode(query)}"


def serves(service: Service, src: str) -> bool:
    """Whether ``src`` is an ``http(s)`` URL on one of ``service``'s hosts."""
    if not _SAFE_SRC.fullmatch(src):
        return False
    try:
        parts = urlsplit(src)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not _SAFE_HOST.fullmatch(parts.netloc.lower()):
        return False
    return any(declares(source, src) for source in service.hosts)


def respond(
    guard: Guard,
    method: str,
    query_string: str,
    cookie: str | None,
    gpc: str | None,
    *,
    root: str = "",
) -> Response:
    """Status, headers and body of the frame page for one request. Never raises.

    ``root``: the mount prefix (WSGI ``SCRIPT_NAME``) the policy's report URL carries.
    """
    if method not in ("GET", "HEAD"):
        return _error(405, f"method {method} is not allowed; use GET", [("Allow", "GET, HEAD")])
    if len(query_string) > _MAX_QUERY:
        return _error(414, f"the query is over {_MAX_QUERY} characters")
    params: dict[str, str] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key not in _PARAMS:
            continue
        if key in params:
            return _error(400, f"{key} is given more than once")
        params[key] = value
    for key in _REQUIRED:
        if not params.get(key):
            return _error(400, f"{key} is missing")
    registry, name, src = guard.registry, params["service"], params["src"]
    if not registry.has_service(name):
        return _error(400, f"unknown service {name!r}")
    service = registry.service(name)
    if not serves(service, src):
        return _error(400, f"src is not an http(s) URL on a host of service {name!r}")
    consent = guard.read_request(cookie, gpc).consent
    if not consent.allows_service(name):
        return _error(403, f"the visitor's consent does not allow service {name!r}")
    html = templating.environment().get_template("cookieguard/embed_frame.html")
    body = html.render(src=src, title=params["title"], allow=params.get("allow", "")).encode()
    own = "; ".join(
        (
            "default-src 'none'",
            "style-src 'unsafe-inline'",
            "frame-src " + " ".join(service.hosts),
            "frame-ancestors 'self'",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *_ALWAYS,
        ("Content-Security-Policy", own),
    ]
    if guard.csp is not None:  # the policy of every page for this consent, as the rewrite adds
        headers += guard.csp.headers_for(consent.services, consent, root)[0]
    return 200, headers, body


def _error(status: int, message: str, extra: list[tuple[str, str]] | None = None) -> Response:
    body = f"{message}\n".encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *_ALWAYS,
        ("Content-Security-Policy", _ERROR_POLICY),
        *(extra or []),
    ]
    return status, headers, body
