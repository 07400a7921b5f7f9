"""``manage.py check`` on purpose-broken settings: each mistake by its id, with a hint."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from tests.support.cases import REGISTRY

from cookieguard import Category, Cookie, Registry

from . import OURS, SITE_MIDDLEWARE

# Declares nothing Django sets itself.
BARE = Registry(
    categories=[Category("necessary", required=True), Category("statistics")],
    cookies=[Cookie("_pk_id.*", "statistics")],
)


def ids(**overrides: Any) -> list[str]:
    with override_settings(**overrides):
        return sorted(message.id for message in run_checks(tags=["cookieguard"]))


def test_a_well_configured_site_passes() -> None:
    assert ids(MIDDLEWARE=SITE_MIDDLEWARE) == []
    call_command("check")  # raises SystemCheckError on any error


def test_manage_py_check_fails_with_the_id_and_the_hint() -> None:
    with override_settings(COOKIEGUARD=None), pytest.raises(SystemCheckError) as failed:
        call_command("check")
    assert "cookieguard.E001" in str(failed.value)
    assert "HINT: Add COOKIEGUARD = " in str(failed.value)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (None, "cookieguard.E001"),
        (["not", "a", "dict"], "cookieguard.E001"),
        ({}, "cookieguard.E002"),
        ({"REGISTRY": "tests.support.cases.NOWHERE"}, "cookieguard.E002"),
        ({"REGISTRY": "no.such.module.registry"}, "cookieguard.E002"),
        ({"REGISTRY": "tests.support.cases.KEY"}, "cookieguard.E002"),  # a str, not a Registry
        ({"REGISTRY": REGISTRY, "OPTIONS": {"unknown": "keep"}}, "cookieguard.E003"),
        ({"REGISTRY": REGISTRY, "OPTIONS": {"no_such_option": 1}}, "cookieguard.E003"),
        ({"REGISTRY": REGISTRY, "OPTIONS": {"on_consent": "no.such.hook"}}, "cookieguard.E003"),
    ],
)
def test_a_setting_that_cannot_build_the_middleware_is_an_error(
    setting: Any, expected: str
) -> None:
    assert ids(COOKIEGUARD=setting) == [expected]


def test_an_empty_secret_key_is_reported_not_raised() -> None:
    assert ids(SECRET_KEY="") == ["cookieguard.E003"]
    assert ids(SECRET_KEY="", COOKIEGUARD={"REGISTRY": REGISTRY, "SECRET_KEY": "own"}) == []


def test_the_registry_may_be_a_dotted_path() -> None:
    assert ids(COOKIEGUARD={"REGISTRY": "tests.support.cases.REGISTRY"}) == []


def test_djangos_own_cookies_must_be_declared() -> None:
    broken = {"COOKIEGUARD": {"REGISTRY": BARE}, "MIDDLEWARE": SITE_MIDDLEWARE}
    assert ids(**broken) == ["cookieguard.E004", "cookieguard.E005", "cookieguard.E006"]
    # Each only where Django sets that cookie.
    assert ids(**broken, CSRF_USE_SESSIONS=True) == ["cookieguard.E004", "cookieguard.E006"]
    assert ids(**broken, USE_I18N=False) == ["cookieguard.E004", "cookieguard.E005"]
    without_csrf = [m for m in SITE_MIDDLEWARE if "csrf" not in m]
    assert ids(**{**broken, "MIDDLEWARE": without_csrf}) == [
        "cookieguard.E004",
        "cookieguard.E006",
    ]
    with override_settings(INSTALLED_APPS=["cookieguard.django"]):
        assert ids(**broken) == ["cookieguard.E005", "cookieguard.E006"]


def test_renamed_cookies_are_checked_by_their_new_names() -> None:
    renamed = {"SESSION_COOKIE_NAME": "portal_session", "MIDDLEWARE": SITE_MIDDLEWARE}
    with override_settings(**renamed), pytest.raises(SystemCheckError) as failed:
        call_command("check")
    assert "'portal_session' (SESSION_COOKIE_NAME) is not declared" in str(failed.value)


def test_the_middleware_must_come_first() -> None:
    later = [SITE_MIDDLEWARE[1], OURS, *SITE_MIDDLEWARE[2:]]
    assert ids(MIDDLEWARE=later) == ["cookieguard.W001"]
    spelled_out = ["cookieguard.django.middleware.CookieGuardMiddleware", *SITE_MIDDLEWARE[1:]]
    assert ids(MIDDLEWARE=spelled_out) == []
    assert ids(MIDDLEWARE=SITE_MIDDLEWARE[1:]) == ["cookieguard.W002"]
