"""The Django portal in Debian's Chromium, JavaScript on and off (under ``runserver``).

Before any choice only ``sessionid`` and ``csrftoken`` reach the browser; the
language switcher's ``django_language`` only with preferences granted, and then
the banner's dialog speaks the language; withdrawing preferences deletes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.browser.chromium import new_context

from .test_django_example import runserver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir: Path = tmp_path_factory.mktemp("portal-browser")
    with runserver(workdir) as base_url:
        yield base_url


def jar(context: BrowserContext) -> set[str]:
    return {cookie["name"] for cookie in context.cookies()}


def switch_language(page: Page, code: str) -> None:
    with page.expect_response(lambda r: r.url.endswith("/i18n/setlang/")):
        page.select_option("#language", code)
        page.click("#language-switcher button[type=submit]")
    page.wait_for_load_state()


def save_preferences(page: Page, *, preferences: bool) -> None:
    page.click("footer .cookieguard-preferences-link")
    dialog = page.locator("#cookieguard-preferences")
    expect(dialog).to_be_visible()
    box = dialog.locator('input[data-cookieguard-category="preferences"]')
    box.check() if preferences else box.uncheck()
    with page.expect_response(
        lambda r: r.url.endswith("/cookieguard/consent") and r.request.method == "POST"
    ) as answer:
        dialog.locator("#cookieguard-preferences-save").click()
    assert answer.value.status in (200, 303)
    expect(dialog).to_be_hidden()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_language_cookie_waits_for_preferences_and_leaves_with_them(
    browser: Browser, portal: str, javascript: bool
) -> None:
    context = new_context(browser, portal, javascript=javascript)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("#cookieguard-banner")).to_be_visible()
        page.goto("/explore/")  # Matomo sets its cookies on every page: removed
        assert jar(context) == {"sessionid", "csrftoken"}

        switch_language(page, "fr")  # not kept without consent
        assert "django_language" not in jar(context)
        expect(page.locator("html")).to_have_attribute("lang", "en")

        save_preferences(page, preferences=True)
        switch_language(page, "fr")
        assert "django_language" in jar(context)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("footer .cookieguard-preferences-link")).to_have_text(
            "Paramètres des cookies"
        )
        page.goto("/cookies/")
        expect(page.locator("#held-cookies")).to_contain_text("django_language")
        assert not [name for name in jar(context) if name.startswith("_pk_")]

        save_preferences(page, preferences=False)  # withdrawal deletes it
        assert "django_language" not in jar(context)
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()
