"""The consent flow in a real browser, on both examples: issue 3's acceptance.

The cookie jar is read from the browser itself (``context.cookies()``), which
includes HttpOnly cookies: what the server stripped or deleted is really gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from tests.browser.chromium import new_context

pytestmark = pytest.mark.browser

CONSENT_PATH = "/cookieguard/consent"
CONSENT_COOKIE = "cookies_preferences"
MATOMO_ID = "_pk_id."


@dataclass(frozen=True)
class Example:
    necessary: frozenset[str]  # the cookies /set-cookies may set without consent
    categories: tuple[str, ...]  # every category, required ones first
    required: frozenset[str]
    statistics: str  # the category of the Matomo cookies
    statistics_label: str  # its label in the dialog


EXAMPLES = {
    "starlette": Example(
        necessary=frozenset({"sessionid", "csrftoken"}),
        categories=("necessary", "preferences", "statistics", "marketing"),
        required=frozenset({"necessary"}),
        statistics="statistics",
        statistics_label="Statistics",
    ),
    "flask": Example(
        necessary=frozenset(
            {"PHPSESSID", "__cfduid", "viewed_cookie_policy"}
            | {
                f"cookielawinfo-checkbox-{name}"
                for name in ("kopano-cookies", "commercial", "not-required")
                + ("necessary", "non-necessary")
            }
        ),
        categories=("necessary", "kopano", "commercial", "not_required", "cookie_management"),
        required=frozenset({"necessary", "cookie_management"}),
        statistics="not_required",
        statistics_label="Not required",
    ),
}


def jar(context: BrowserContext) -> dict[str, bool]:
    """The browser's cookies for the site: name -> HttpOnly."""
    return {cookie["name"]: cookie.get("httpOnly", False) for cookie in context.cookies()}


def matomo_cookies(context: BrowserContext) -> list[str]:
    return [name for name in jar(context) if name.startswith(MATOMO_ID)]


def granted(page: Page) -> set[str]:
    """What the consent endpoint says the visitor granted (it shares the browser's cookies)."""
    response = page.request.get(CONSENT_PATH)
    assert response.ok
    return set(response.json()["granted"])


@contextmanager
def consent_saved(page: Page) -> Iterator[None]:
    """Wait for the consent POST the block triggers (a JSON fetch or a plain form post)."""
    with page.expect_response(
        lambda r: r.url.endswith(CONSENT_PATH) and r.request.method == "POST"
    ) as response:
        yield
    assert response.value.status in (200, 303)


def banner(page: Page) -> Locator:
    return page.locator("#cookieguard-banner")


def dialog(page: Page) -> Locator:
    return page.locator("#cookieguard-preferences")


def footer_link(page: Page) -> Locator:
    return page.locator("footer .cookieguard-preferences-link")


def tab_to(page: Page, target: Locator, limit: int = 100) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


def test_first_visit_shows_the_banner_and_sets_only_necessary_cookies(
    page: Page, context: BrowserContext, example: str
) -> None:
    page.goto("/")
    expect(banner(page)).to_be_visible()
    expect(banner(page).get_by_role("button", name="Reject all")).to_be_visible()
    expect(banner(page).get_by_role("button", name="Accept all")).to_be_visible()

    page.goto("/set-cookies")

    assert set(jar(context)) == EXAMPLES[example].necessary


def test_reject_all_keeps_only_necessary_cookies_and_the_banner_goes(
    page: Page, context: BrowserContext, example: str
) -> None:
    page.goto("/")
    with consent_saved(page):
        banner(page).get_by_role("button", name="Reject all").click()
    expect(banner(page)).to_have_count(0)

    page.reload()
    expect(banner(page)).to_have_count(0)
    page.goto("/set-cookies")

    assert set(jar(context)) == EXAMPLES[example].necessary | {CONSENT_COOKIE}
    assert granted(page) == EXAMPLES[example].required


def test_statistics_consent_sets_matomo_and_withdrawal_deletes_it_though_httponly(
    page: Page, context: BrowserContext, example: str
) -> None:
    expected = EXAMPLES[example]
    page.goto("/")
    banner(page).get_by_role("link", name="Choose cookies").click()
    expect(dialog(page)).to_be_visible()
    dialog(page).get_by_label(expected.statistics_label, exact=True).check()
    with consent_saved(page):
        dialog(page).get_by_role("button", name="Save my choices").click()
    expect(dialog(page)).to_be_hidden()

    page.goto("/set-cookies")
    (matomo_id,) = matomo_cookies(context)
    assert jar(context)[matomo_id] is True  # HttpOnly: no script could delete it
    page.goto("/cookies")
    expect(page.locator("#held-cookies")).to_contain_text(matomo_id)

    footer_link(page).click()
    expect(dialog(page)).to_be_visible()
    dialog(page).get_by_label(expected.statistics_label, exact=True).uncheck()
    with consent_saved(page):
        dialog(page).get_by_role("button", name="Save my choices").click()

    expect(page.locator("#held-cookies")).not_to_contain_text(MATOMO_ID)
    assert matomo_cookies(context) == []
    assert granted(page) == expected.required


def test_the_same_flow_works_without_javascript(
    browser: Browser, base_urls: dict[str, str], example: str
) -> None:
    expected = EXAMPLES[example]
    context = new_context(browser, base_urls[example], javascript=False)
    try:
        page = context.new_page()
        page.goto("/")
        with consent_saved(page):
            banner(page).get_by_role("button", name="Reject all").click()
        expect(banner(page)).to_have_count(0)
        page.goto("/set-cookies")
        assert set(jar(context)) == expected.necessary | {CONSENT_COOKIE}

        footer_link(page).click()
        expect(dialog(page)).to_be_visible()
        dialog(page).get_by_label(expected.statistics_label, exact=True).check()
        with consent_saved(page):
            dialog(page).get_by_role("button", name="Save my choices").click()
        expect(dialog(page)).to_be_hidden()
        page.goto("/set-cookies")
        assert len(matomo_cookies(context)) == 1

        footer_link(page).click()
        expect(dialog(page)).to_be_visible()
        dialog(page).get_by_label(expected.statistics_label, exact=True).uncheck()
        with consent_saved(page):
            dialog(page).get_by_role("button", name="Save my choices").click()
        expect(dialog(page)).to_be_hidden()

        assert matomo_cookies(context) == []
        assert granted(page) == expected.required
    finally:
        context.close()


def test_keyboard_alone_reaches_and_activates_every_button(
    page: Page, context: BrowserContext, example: str
) -> None:
    expected = EXAMPLES[example]
    everything = set(expected.categories)

    page.goto("/")
    tab_to(page, banner(page).get_by_role("button", name="Accept all"))
    with consent_saved(page):
        page.keyboard.press("Enter")
    assert granted(page) == everything

    context.clear_cookies()
    page.goto("/")
    tab_to(page, banner(page).get_by_role("button", name="Reject all"))
    with consent_saved(page):
        page.keyboard.press("Space")
    assert granted(page) == expected.required

    context.clear_cookies()
    page.goto("/")
    tab_to(page, banner(page).get_by_role("link", name="Choose cookies"))
    page.keyboard.press("Enter")
    expect(dialog(page)).to_be_visible()
    statistics = dialog(page).get_by_label(expected.statistics_label, exact=True)
    tab_to(page, statistics)
    page.keyboard.press("Space")
    expect(statistics).to_be_checked()
    cookie_list = dialog(page).locator("details").first
    tab_to(page, cookie_list.locator("summary"))
    page.keyboard.press("Enter")
    expect(cookie_list).to_have_attribute("open", "")
    tab_to(page, dialog(page).get_by_role("button", name="Save my choices"))
    with consent_saved(page):
        page.keyboard.press("Enter")
    expect(dialog(page)).to_be_hidden()
    assert granted(page) == expected.required | {expected.statistics}

    for button, key, result in (
        ("Reject all", "Enter", expected.required),
        ("Accept all", "Space", everything),
    ):
        page.goto("/")
        tab_to(page, footer_link(page))
        page.keyboard.press("Enter")
        expect(dialog(page)).to_be_visible()
        tab_to(page, dialog(page).get_by_role("button", name=button))
        with consent_saved(page):
            page.keyboard.press(key)
        expect(dialog(page)).to_be_hidden()  # after the reload a withdrawal triggers
        assert granted(page) == result

    page.goto("/")
    tab_to(page, footer_link(page))
    page.keyboard.press("Enter")
    expect(dialog(page)).to_be_visible()
    tab_to(page, dialog(page).get_by_role("link", name="Close"))
    page.keyboard.press("Enter")
    expect(dialog(page)).to_be_hidden()
