"""The consent cookie's own attributes: HttpOnly, SameSite=Lax, Secure on https (also
behind a proxy, with Werkzeug's ProxyFix or uvicorn's proxy headers), and ``__Host-``."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from tests.support.hardening import KEY, Recorder, http_scope, wsgi_environ
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from cookieguard import Category, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware as ASGIGuard
from cookieguard.wsgi import CookieGuardMiddleware as WSGIGuard

REGISTRY = Registry(
    categories=[Category("necessary", required=True), Category("marketing")],
    cookies=[Cookie("sessionid", "necessary"), Cookie("_fbp", "marketing")],
)
FORM = (b"content-type", b"application/x-www-form-urlencoded")


def attributes(set_cookie: str) -> tuple[str, dict[str, str]]:
    """(name, {lower-case attribute: value}) of a Set-Cookie value."""
    pair, *rest = set_cookie.split(";")
    found = {}
    for attribute in rest:
        key, _, value = attribute.strip().partition("=")
        found[key.lower()] = value
    return pair.partition("=")[0], found


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the consent endpoint is the middleware's")


def asgi_consent_cookie(
    scheme: str = "http", headers: tuple[tuple[bytes, bytes], ...] = (), **options: Any
) -> str:
    guard = ASGIGuard(_no_app, registry=REGISTRY, secret_key=KEY, **options)
    return _asgi_post(guard, scheme, headers)


def _asgi_post(app: Any, scheme: str, headers: tuple[tuple[bytes, bytes], ...]) -> str:
    scope = {
        **http_scope([(b"host", b"example.org"), FORM, *headers], "/cookieguard/consent"),
        "method": "POST",
        "scheme": scheme,
    }
    body = [{"type": "http.request", "body": b"action=accept_all"}]

    async def receive() -> dict[str, Any]:
        return body.pop(0) if body else {"type": "http.disconnect"}

    send = Recorder()
    asyncio.run(app(scope, receive, send))
    [cookie] = [v.decode() for k, v in send.start["headers"] if k.lower() == b"set-cookie"]
    return cookie


def wsgi_consent_cookie(app: Any, **environ: Any) -> str:
    environ = {
        "REQUEST_METHOD": "POST",
        "HTTP_HOST": "example.org",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": "17",
        "wsgi.input": io.BytesIO(b"action=accept_all"),
        **environ,
    }
    started: list[list[tuple[str, str]]] = []
    app(
        wsgi_environ(path="/cookieguard/consent", **environ), lambda s, h, e=None: started.append(h)
    )
    [cookie] = [v for k, v in started[0] if k.lower() == "set-cookie"]
    return cookie


def wsgi_guard(**options: Any) -> WSGIGuard:
    def app(environ: Any, start_response: Any) -> list[bytes]:
        raise AssertionError("the consent endpoint is the middleware's")

    return WSGIGuard(app, registry=REGISTRY, secret_key=KEY, **options)


def test_over_http_the_cookie_is_httponly_lax_path_root_and_not_secure() -> None:
    for cookie in (asgi_consent_cookie(), wsgi_consent_cookie(wsgi_guard())):
        name, attrs = attributes(cookie)
        assert name == "cookies_preferences"
        assert "httponly" in attrs
        assert attrs["samesite"].lower() == "lax"
        assert attrs["path"] == "/"
        assert attrs["max-age"] == "15724800"
        assert "secure" not in attrs
        assert "domain" not in attrs


def test_over_https_the_cookie_is_secure() -> None:
    assert "secure" in attributes(asgi_consent_cookie("https"))[1]
    https = wsgi_consent_cookie(wsgi_guard(), **{"wsgi.url_scheme": "https"})
    assert "secure" in attributes(https)[1]


def test_behind_a_proxy_werkzeug_proxyfix_makes_it_secure() -> None:
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https", "REMOTE_ADDR": "127.0.0.1"}
    # Without ProxyFix the app cannot know the visitor used https...
    assert "secure" not in attributes(wsgi_consent_cookie(wsgi_guard(), **forwarded))[1]
    # ...with it (outermost, trusting one proxy hop), it can.
    app = ProxyFix(wsgi_guard(), x_proto=1)  # type: ignore[arg-type]
    assert "secure" in attributes(wsgi_consent_cookie(app, **forwarded))[1]


def test_behind_a_proxy_uvicorn_proxy_headers_make_it_secure() -> None:
    guard = ASGIGuard(_no_app, registry=REGISTRY, secret_key=KEY)
    forwarded = ((b"x-forwarded-proto", b"https"),)
    assert "secure" not in attributes(_asgi_post(guard, "http", forwarded))[1]
    proxied = ProxyHeadersMiddleware(guard, trusted_hosts="127.0.0.1")  # type: ignore[arg-type]
    assert "secure" in attributes(_asgi_post(proxied, "http", forwarded))[1]


def test_secure_option_forces_it_when_tls_ends_elsewhere() -> None:
    assert "secure" in attributes(asgi_consent_cookie(secure=True))[1]
    assert "secure" in attributes(wsgi_consent_cookie(wsgi_guard(secure=True)))[1]


@pytest.mark.parametrize("secure", [None, False])
def test_a_host_prefixed_name_gets_secure_path_root_and_no_domain(secure: bool | None) -> None:
    name = "__Host-cookies_preferences"
    for cookie in (
        asgi_consent_cookie(cookie_name=name, secure=secure),
        wsgi_consent_cookie(wsgi_guard(cookie_name=name, secure=secure)),
    ):
        got, attrs = attributes(cookie)
        assert got == name
        assert "secure" in attrs
        assert attrs["path"] == "/"
        assert "domain" not in attrs
        assert "httponly" in attrs


def test_a_host_prefixed_consent_is_read_back() -> None:
    name = "__Host-cookies_preferences"
    cookie = asgi_consent_cookie(cookie_name=name).split(";")[0]
    seen: dict[str, Any] = {}

    def app(environ: Any, start_response: Any) -> list[bytes]:
        seen["consent"] = environ["cookieguard.consent"]
        start_response("200 OK", [("Set-Cookie", "_fbp=1")])
        return [b""]

    started: list[list[tuple[str, str]]] = []
    guard = WSGIGuard(app, registry=REGISTRY, secret_key=KEY, cookie_name=name)
    guard(wsgi_environ(cookie=cookie), lambda s, h, e=None: started.append(h))
    assert seen["consent"].allows("marketing")
    assert started[0] == [("Set-Cookie", "_fbp=1")]
