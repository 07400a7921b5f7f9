"""The ``csp`` option's cost: an HTML response with csp off and on, in the same run.

A raw app (no framework) answers ``text/html; charset=utf-8`` with three
``Set-Cookie`` headers to a visitor with a valid consent; a registry with four
services. The policy is built once per consent state, so the difference is the
look-up of the header for this consent and the three headers appended.
"""

from __future__ import annotations

from typing import Any

from werkzeug.http import dump_cookie

from cookieguard import Cookie, Registry, Service
from cookieguard.asgi import CookieGuardMiddleware as AsgiGuard
from cookieguard.wsgi import CookieGuardMiddleware as WsgiGuard

from . import apps
from .driver import asgi_runner, asgi_scope, measure, wsgi_environ, wsgi_runner
from .micro import _table, _verdict

#: The target: at most this many µs per HTML response for the policy.
TARGET_US = 1.0

REGISTRY = Registry(
    categories=apps.REGISTRY.categories,
    services=[
        Service("youtube", "marketing", hosts=["https://www.youtube-nocookie.com"]),
        Service("doubleclick", "marketing", hosts=["https://*.doubleclick.net"]),
        Service("matomo", "statistics", hosts=["stats.example.org"]),
        Service("fonts", "necessary", hosts=["https://fonts.example.net"]),
    ],
    cookies=[
        *apps.REGISTRY.cookies,
        Cookie("IDE", "marketing", service="doubleclick"),
    ],
    revision=apps.REGISTRY.revision,
)


def _headers() -> list[tuple[str, str]]:
    cookies = [("Set-Cookie", dump_cookie(n, v, **kw)) for n, v, kw in apps.SET_COOKIES]
    return [("Content-Type", "text/html; charset=utf-8"), *cookies]


def html_response(n: int, rounds: int) -> bool:
    """csp off, enforce and report-only through both adapters; the policy's cost."""
    ok = True
    text = _headers()
    raw = [(k.lower().encode(), v.encode()) for k, v in text]
    options: dict[str, Any] = {"registry": REGISTRY, "secret_key": apps.SECRET}
    scope = asgi_scope(apps.COOKIE_HEADER)
    asgi_runners = {
        "bare": asgi_runner(apps.raw_asgi_app(raw), scope),
        'cookieguard (ASGI), csp="off"': asgi_runner(
            AsgiGuard(apps.raw_asgi_app(raw), **options), scope
        ),
        'cookieguard (ASGI), csp="enforce"': asgi_runner(
            AsgiGuard(apps.raw_asgi_app(raw), csp="enforce", **options), scope
        ),
    }
    o = _table("HTML response, raw ASGI app, csp off and on", measure(asgi_runners, n, rounds))
    cost = o['cookieguard (ASGI), csp="enforce"'].median - o['cookieguard (ASGI), csp="off"'].median
    ok &= _verdict(f"ASGI csp cost <= {TARGET_US:g} µs", cost <= TARGET_US, f"{cost:+.2f} µs")
    environ = wsgi_environ(apps.COOKIE_HEADER)
    wsgi_runners = {
        "bare": wsgi_runner(apps.raw_wsgi_app(text), environ),
        'cookieguard (WSGI), csp="off"': wsgi_runner(
            WsgiGuard(apps.raw_wsgi_app(text), **options), environ
        ),
        'cookieguard (WSGI), csp="enforce"': wsgi_runner(
            WsgiGuard(apps.raw_wsgi_app(text), csp="enforce", **options), environ
        ),
    }
    o = _table("HTML response, raw WSGI app, csp off and on", measure(wsgi_runners, n, rounds))
    cost = o['cookieguard (WSGI), csp="enforce"'].median - o['cookieguard (WSGI), csp="off"'].median
    ok &= _verdict(f"WSGI csp cost <= {TARGET_US:g} µs", cost <= TARGET_US, f"{cost:+.2f} µs")
    return ok
