"""The Flask extension on real Flask apps."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, make_response, session
from tests.support.cases import CONSENT_COOKIE, KEY, OLD_KEY, token
from tests.support.cases import REGISTRY as CASES_REGISTRY

from cookieguard import Category, ConsentCodec, Cookie, Registry
from cookieguard.flask import CookieGuard, current_consent
from cookieguard.wsgi import CookieGuardMiddleware

APP_KEY = "flask-app-secret"
REGISTRY = Registry(
    [
        Category("necessary", required=True),
        Category("preferences"),
        Category("statistics"),
    ],
    [
        Cookie("session", "necessary", provider="Flask"),
        Cookie("theme", "preferences"),
        Cookie("_pk_id.*", "statistics"),
    ],
    revision=1,
)


def make_app(registry: Registry = REGISTRY) -> Flask:
    app = Flask(__name__)
    app.secret_key = APP_KEY

    @app.get("/")
    def index() -> str:
        session["visits"] = session.get("visits", 0) + 1
        return "statistics" if current_consent().allows("statistics") else "none"

    @app.get("/theme")
    def theme() -> tuple[str, int, list[tuple[str, str]]]:
        return "ok", 200, [("Set-Cookie", "theme=dark; Path=/"), ("Set-Cookie", "_pk_id.1=x")]

    return app


def names(set_cookies: list[str]) -> list[str]:
    return [value.partition("=")[0] for value in set_cookies]


def test_factory_pattern_and_extension_registry() -> None:
    extension = CookieGuard(registry=REGISTRY)
    app = make_app()
    extension.init_app(app)
    middleware = app.extensions["cookieguard"]
    assert isinstance(middleware, CookieGuardMiddleware)
    assert app.wsgi_app is middleware
    response = app.test_client().get("/theme")
    assert response.headers.getlist("Set-Cookie") == []
    assert "Cookie" in response.headers.get("Vary", "")


def test_secret_key_defaults_to_the_apps() -> None:
    app = make_app()
    CookieGuard(app, registry=REGISTRY)
    client = app.test_client()
    client.set_cookie(CONSENT_COOKIE, token(["statistics"], revision=1, key=APP_KEY))
    assert client.get("/").data == b"statistics"
    other = app.test_client()
    other.set_cookie(CONSENT_COOKIE, token(["statistics"], revision=1, key="not-the-app-key"))
    assert other.get("/").data == b"none"


def test_secret_key_fallbacks_still_verify() -> None:
    app = make_app()
    app.config["SECRET_KEY_FALLBACKS"] = [OLD_KEY]
    CookieGuard(app, registry=REGISTRY)
    client = app.test_client()
    client.set_cookie(CONSENT_COOKIE, token(["statistics"], revision=1, key=OLD_KEY))
    assert client.get("/").data == b"statistics"


def test_explicit_secret_key_wins() -> None:
    app = make_app()
    CookieGuard(app, registry=REGISTRY, secret_key="explicit")
    client = app.test_client()
    client.set_cookie(CONSENT_COOKIE, token(["statistics"], revision=1, key="explicit"))
    assert client.get("/").data == b"statistics"


def test_clear_error_without_a_key() -> None:
    app = Flask(__name__)
    with pytest.raises(RuntimeError, match="secret_key"):
        CookieGuard(app, registry=REGISTRY)


def test_the_session_cookie_flask_sets_is_judged() -> None:
    app = make_app()
    CookieGuard(app, registry=REGISTRY)
    kept = app.test_client().get("/")
    assert names(kept.headers.getlist("Set-Cookie")) == ["session"]

    as_preference = Registry(
        REGISTRY.categories, [Cookie("session", "preferences")], revision=REGISTRY.revision
    )
    strict = make_app()
    CookieGuard(strict, registry=as_preference)
    client = strict.test_client()
    assert client.get("/").headers.getlist("Set-Cookie") == []
    client.set_cookie(CONSENT_COOKIE, token(["preferences"], revision=1, key=APP_KEY))
    assert names(client.get("/").headers.getlist("Set-Cookie")) == ["session"]


def test_consent_flow_through_flask() -> None:
    app = make_app()
    CookieGuard(app, registry=REGISTRY)
    client = app.test_client()
    response = client.post(
        "/cookieguard/consent", data={"action": "save", "categories": ["statistics"]}
    )
    assert response.status_code == 303
    value = response.headers.getlist("Set-Cookie")[0].partition(";")[0].partition("=")[2]
    consent = ConsentCodec(APP_KEY).loads(value)
    assert consent is not None and consent.granted == {"necessary", "statistics"}
    assert client.get("/").data == b"statistics"  # the test client kept the cookie
    theme = client.get("/theme")
    assert names(theme.headers.getlist("Set-Cookie")) == ["_pk_id.1"]


def test_consent_helpers() -> None:
    app = make_app()
    CookieGuard(app, registry=REGISTRY)
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError, match="CookieGuard"):
            current_consent()
    seen = {}

    @app.get("/helpers")
    def helpers() -> str:
        seen["same"] = CookieGuard.consent() is current_consent()
        return ""

    app.test_client().get("/helpers")
    assert seen == {"same": True}


def test_disguised_deletions_and_withdrawals_through_flask() -> None:
    app = Flask(__name__)
    app.secret_key = KEY

    @app.get("/")
    def index() -> Any:
        response = make_response("ok")
        response.headers.add("Set-Cookie", "ads=1; Max-Age=0; Max-Age=abc")
        response.set_cookie("_pk_id.1", "3", max_age=0)  # Flask's own deletion: default path
        return response

    CookieGuard(app, registry=CASES_REGISTRY)
    client = app.test_client()
    client.set_cookie("_pk_id.1", "old")
    client.set_cookie("ads", "old")
    response = client.get("/")
    cookies = response.headers.getlist("Set-Cookie")
    assert [c.partition(";")[0] for c in cookies] == ["_pk_id.1=", "_pk_id.1=", "ads="]
    assert all("Max-Age=0" in c for c in cookies)
    assert "Path=/stats" in cookies[1] and "Path=/shop" in cookies[2]
