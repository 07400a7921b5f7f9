"""The ``csp`` option on a Django site: the policy after the site's own, the report endpoint.

Django keeps one value per header name: the adapter appends the added policy
after a comma, which browsers read as a second policy, enforced on its own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings
from tests.support.cases import call_asgi, call_wsgi
from tests.test_csp_contract import REGISTRY, hosts, sources
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from . import DRIVERS, OURS, Spec

APP_CSP = "default-src 'self'; script-src 'self' 'nonce-r4nd0m'"


@pytest.fixture(params=list(DRIVERS))
def serve(request: pytest.FixtureRequest) -> Any:
    options = {"csp": "enforce", "on_csp_violation": heard.append}
    with override_settings(
        MIDDLEWARE=[OURS], COOKIEGUARD={"REGISTRY": REGISTRY, "OPTIONS": options}
    ):
        yield DRIVERS[request.param]()
    Spec.headers = ()


heard: list[Any] = []


def test_the_policy_follows_the_site_s_own_after_a_comma(serve: Any) -> None:
    Spec.headers = (
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", APP_CSP),
    )
    response = serve(path="/", headers=[("Host", "testserver")])
    (value,) = response.values("content-security-policy")
    own, comma, added = value.partition(", ")
    assert own == APP_CSP and comma  # byte-identical, then the added policy
    assert hosts(added) == {"https://fonts.example.net"}
    assert "Cookie" in response.values("vary")[0]


def test_no_policy_on_a_response_that_is_not_html(serve: Any) -> None:
    Spec.headers = (("Content-Type", "application/json"),)
    response = serve(path="/", headers=[("Host", "testserver")])
    assert response.values("content-security-policy") == []


def test_reports_are_taken_by_the_middleware(serve: Any) -> None:
    body = json.dumps({"csp-report": {"blocked-uri": "https://ad.doubleclick.net/p.gif"}})
    heard.clear()
    response = serve(
        method="POST",
        path="/cookieguard/consent/csp-report",
        headers=[("Host", "testserver"), ("Content-Type", "application/csp-report")],
        body=body.encode(),
    )
    assert response.status == 204 and response.set_cookies == []
    assert [v.blocked_host for v in heard] == ["ad.doubleclick.net"]


def test_under_a_mount_prefix_the_report_url_carries_it() -> None:
    """Mounted at ``/shop`` (``SCRIPT_NAME``, by WSGI or by an ASGI ``root_path``)."""
    Spec.headers = (("Content-Type", "text/html; charset=utf-8"),)
    options = {"csp": "enforce"}
    try:
        with override_settings(
            MIDDLEWARE=[OURS], COOKIEGUARD={"REGISTRY": REGISTRY, "OPTIONS": options}
        ):
            mounted = DispatcherMiddleware(NotFound(), {"/shop": WSGIHandler()})
            by_wsgi = call_wsgi(mounted, path="/shop/", headers=[("Host", "testserver")])
            handler = ASGIHandler()

            async def served_at_shop(scope: Any, receive: Any, send: Any) -> None:
                await handler({**scope, "root_path": "/shop"}, receive, send)  # --root-path

            by_asgi = call_asgi(served_at_shop, path="/shop/", headers=[("Host", "testserver")])
            at_root = DRIVERS["wsgi"]()(path="/", headers=[("Host", "testserver")])
    finally:
        Spec.headers = ()
    for response in (by_wsgi, by_asgi):
        (value,) = response.values("content-security-policy")
        assert sources(value, "report-uri") == ["/shop/cookieguard/consent/csp-report"]
    (value,) = at_root.values("content-security-policy")
    assert sources(value, "report-uri") == ["/cookieguard/consent/csp-report"]
