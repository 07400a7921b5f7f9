"""The ``csp`` option on a Django site: the policy after the site's own, the report endpoint.

Django keeps one value per header name: the adapter appends the added policy
after a comma, which browsers read as a second policy, enforced on its own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings
from tests.test_csp_contract import REGISTRY, hosts

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
