"""The middleware on a Django site: set_cookie, delete_cookie, sessions, CSRF, the endpoint."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest
from django.test import Client, override_settings
from tests.support.cases import REGISTRY, Seen, consent_cookie, token

from cookieguard.django import CookieGuardMiddleware

from . import DRIVERS, SITE_MIDDLEWARE, Spec

pytestmark = pytest.mark.usefixtures("site")


@pytest.fixture
def site() -> Any:
    with override_settings(MIDDLEWARE=SITE_MIDDLEWARE):
        yield


@pytest.fixture(params=list(DRIVERS))
def serve(request: pytest.FixtureRequest) -> Any:
    return DRIVERS[request.param]()


def names(response: Any) -> list[str]:
    return [v.partition("=")[0] for v in response.set_cookies]


def test_before_consent_only_djangos_necessary_cookies_leave(serve: Any) -> None:
    response = serve(path="/site")
    assert response.body == b"statistics: False"
    assert sorted(names(response)) == ["csrftoken", "sessionid"]
    # Django's own Vary (sessions, LocaleMiddleware), with the guard's Sec-GPC after a comma.
    assert response.values("vary") == ["Cookie, Accept-Language, Sec-GPC"]


def test_with_consent_every_cookie_leaves_in_djangos_own_formatting(serve: Any) -> None:
    everything = consent_cookie(token(["preferences", "statistics", "marketing"]))
    response = serve(path="/site", headers=[("Cookie", everything)])
    assert response.body == b"statistics: True"
    assert sorted(names(response)) == [
        "_pk_id.1.ab",
        "ads",
        "csrftoken",
        "django_language",
        "sessionid",
    ]
    (matomo,) = [v for v in response.set_cookies if v.startswith("_pk_id")]
    assert matomo.startswith("_pk_id.1.ab=v1; expires=")  # Django's spelling, untouched
    assert "; HttpOnly; Max-Age=3600; Path=/; SameSite=Lax" in matomo


def test_the_test_client_sees_the_decision_in_response_cookies() -> None:
    response = Client().get("/site")
    assert set(response.cookies) == {"sessionid", "csrftoken"}
    assert "Set-Cookie" not in response.headers  # the raw marketing cookie was removed


def test_deleting_a_cookie_without_consent_is_always_allowed(serve: Any) -> None:
    response = serve(path="/forget", headers=[("Cookie", "_pk_id.1.ab=v1")])
    # The application's deletions leave, and the withdrawal of the cookie the visitor
    # holds lands besides (rule 6 holds whatever the application sent for that name).
    assert sorted(set(names(response))) == ["_pk_id.1.ab", "ads"]
    assert names(response).count("_pk_id.1.ab") == 2
    assert all("Max-Age=0" in v for v in response.set_cookies)


def test_cookies_no_longer_allowed_are_withdrawn(serve: Any) -> None:
    carried = consent_cookie(token(["preferences"]), "_pk_id.1.ab=v1", "django_language=fr")
    response = serve(path="/page", headers=[("Cookie", carried)])
    (deletion,) = response.set_cookies
    assert deletion.startswith("_pk_id.1.ab=;") and "Max-Age=0" in deletion


def test_a_withdrawal_is_a_morsel_the_test_client_keeps() -> None:
    client = Client()
    client.cookies["_pk_id.1.ab"] = "v1"
    response = client.get("/page")
    assert response.cookies["_pk_id.1.ab"].value == ""
    assert "Max-Age=0" in response.cookies["_pk_id.1.ab"].OutputString()
    assert client.cookies["_pk_id.1.ab"].value == ""


def test_the_endpoint_needs_no_csrf_token_and_the_client_keeps_the_consent() -> None:
    client = Client(enforce_csrf_checks=True)
    assert sorted(client.get("/site").cookies) == ["csrftoken", "sessionid"]
    answer = client.post("/cookieguard/consent", {"action": "accept_all", "next": "/site"})
    assert answer.status_code == 303
    assert answer["Location"] == "/site"
    assert "HttpOnly" in answer.cookies["cookies_preferences"].OutputString()
    response = client.get("/site")
    assert response.content == b"statistics: True"
    assert "_pk_id.1.ab" in response.cookies
    # Withdrawing consent deletes the cookies it covered, in the same response.
    client.cookies["_pk_id.1.ab"] = "v1"
    answer = client.post(
        "/cookieguard/consent", {"action": "reject_all"}, headers={"Accept": "application/json"}
    )
    assert answer.json()["granted"] == ["necessary"]
    assert answer.cookies["_pk_id.1.ab"].value == ""


def test_the_endpoint_refuses_cross_site_posts_before_django_sees_them(serve: Any) -> None:
    response = serve(
        method="POST",
        path="/cookieguard/consent",
        headers=[
            ("Host", "testserver"),
            ("Origin", "https://evil.example"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body=b"action=accept_all",
    )
    assert response.status == 403
    assert response.set_cookies == []


def test_the_endpoint_answers_get_with_the_current_consent(serve: Any) -> None:
    cookie = consent_cookie(token(["statistics"]))
    response = serve(path="/cookieguard/consent", headers=[("Cookie", cookie)])
    assert response.status == 200
    assert b'"granted":["necessary","statistics"]' in response.body


def test_the_endpoint_honours_allowed_hosts() -> None:
    response = Client(HTTP_HOST="evil.example").post(
        "/cookieguard/consent", {"action": "accept_all"}
    )
    assert response.status_code == 400
    assert "cookies_preferences" not in response.cookies


def test_on_consent_is_called_with_the_saved_consent(serve: Any) -> None:
    events: list[Any] = []
    options = {"REGISTRY": REGISTRY, "OPTIONS": {"on_consent": events.append}}
    with override_settings(COOKIEGUARD=options):
        response = serve(
            method="POST",
            path="/cookieguard/consent",
            headers=[("Host", "testserver"), ("Content-Type", "application/json")],
            body=b'{"categories": ["statistics"]}',
        )
    assert response.status == 200
    assert [e.consent.granted for e in events] == [frozenset({"necessary", "statistics"})]


def test_clean_request_hides_cookies_from_django(serve: Any) -> None:
    options = {"REGISTRY": REGISTRY, "OPTIONS": {"clean_request": True}}
    with override_settings(COOKIEGUARD=options):
        response = serve(path="/cookies", headers=[("Cookie", "_pk_id.1.ab=v1; csrftoken=t")])
    assert response.body == b"csrftoken"
    assert "_pk_id.1.ab" in names(response)  # withdrawn


@pytest.mark.parametrize("handler", ["asgi", "wsgi"])
def test_one_class_serves_both_handlers_without_adapting(
    handler: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django logs each middleware it must wrap in sync_to_async or async_to_sync."""
    caplog.set_level(logging.DEBUG, logger="django.request")
    with override_settings(DEBUG=True, MIDDLEWARE=["cookieguard.django.CookieGuardMiddleware"]):
        response = DRIVERS[handler]()(path="/async")
    assert names(response) == ["sessionid"]
    adapted = [r.getMessage() for r in caplog.records if "adapted for middleware" in r.getMessage()]
    assert adapted == []
    # The same check sees a middleware that cannot run on the event loop.
    monkeypatch.setattr(CookieGuardMiddleware, "async_capable", False)
    with override_settings(DEBUG=True, MIDDLEWARE=["cookieguard.django.CookieGuardMiddleware"]):
        DRIVERS["asgi"]()(path="/async")
    assert [r for r in caplog.records if "adapted for middleware cookieguard" in r.getMessage()]


def test_the_response_carries_exactly_what_the_guard_returns(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the decision, the write-back sends its lines: kept, removed, replaced, added."""
    from cookieguard.guard import Guard

    returned: list[list[tuple[str, str]]] = []

    def decide(
        guard: Guard, headers: Any, state: Any, kind: Any, root: str = ""
    ) -> list[tuple[str, str]]:
        cookies = [h for h in headers if h[0].lower() == "set-cookie"]
        others = [h for h in headers if h[0].lower() != "set-cookie"]
        # Drop the first line, replace the second in place, keep the rest, add two.
        replaced = [("Set-Cookie", "_pk_id.1.ab=; Max-Age=0; Path=/")]
        added = [("Set-Cookie", "gone=; Max-Age=0; Path=/"), ("X-Added", "1")]
        result = others + replaced + cookies[2:] + added
        returned.append(result)
        return result

    monkeypatch.setattr("cookieguard.django.middleware.rewrite", decide)
    response = serve(path="/site")
    (result,) = returned
    expected = [v for k, v in result if k.lower() == "set-cookie"]
    assert sorted(response.set_cookies) == sorted(v.strip(" \t") for v in expected)
    assert response.values("x-added") == ["1"]


def test_a_streamed_body_streams_through_with_its_headers_judged() -> None:
    response = DRIVERS["asgi"]()(path="/stream")
    assert names(response) == ["sessionid"]
    assert response.chunks[:3] == [b"one ", b"two ", b"three"]  # each chunk sent as it came


def test_the_guards_own_lines_survive_pickling_as_a_cached_response_is() -> None:
    answer = Client().post("/cookieguard/consent", {"action": "accept_all"})
    line = answer.cookies["cookies_preferences"].OutputString()
    copy = pickle.loads(pickle.dumps(answer.cookies))
    assert copy["cookies_preferences"].OutputString() == line
    assert copy["cookies_preferences"].value == answer.cookies["cookies_preferences"].value


def test_undeclared_names_are_reported_once_per_handler(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cookieguard")
    with override_settings(MIDDLEWARE=["cookieguard.django.CookieGuardMiddleware"]):
        Spec.headers, Spec.seen = (("Set-Cookie", "mystery=1"),), Seen()
        serve()
        serve()
        assert sum("'mystery'" in r.getMessage() for r in caplog.records) == 1
        DRIVERS["wsgi"]()()  # another handler, another middleware instance: reported again
    assert sum("'mystery'" in r.getMessage() for r in caplog.records) == 2


def test_report_only_removes_nothing_and_reports_it(serve: Any) -> None:
    violations: list[Any] = []
    options = {"report_only": True, "on_violation": violations.append}
    with override_settings(COOKIEGUARD={"REGISTRY": REGISTRY, "OPTIONS": options}):
        response = serve(path="/site")
    assert sorted(names(response)) == [
        "_pk_id.1.ab",
        "ads",
        "csrftoken",
        "django_language",
        "sessionid",
    ]
    assert {v.name for v in violations} == {"_pk_id.1.ab", "ads", "django_language"}
