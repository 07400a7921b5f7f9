"""Phones, keyboards, languages and Global Privacy Control, in a real browser (issue 16).

Both examples, as a visitor meets them: at 375×812 with mobile emulation nothing
of the page, the banner or the dialog is wider than the screen; the keyboard
reaches "Reject all" at once and keeps a place after a choice; French and German
visitors read the site's own texts in their language; ``Sec-GPC: 1`` is
acknowledged on the page, with JavaScript off too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from examples.flask_app import translations as flask_translations
from examples.flask_app.app import registry as flask_registry
from examples.starlette_app import translations as starlette_translations
from examples.starlette_app.app import registry as starlette_registry
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from tests.browser.chromium import NOT_LOOPBACK
from tests.browser.test_consent_flow import banner, consent_saved, dialog

from cookieguard import Registry, i18n

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
REGISTRIES: dict[str, Registry] = {"starlette": starlette_registry, "flask": flask_registry}
CATALOGUES = {
    "starlette": starlette_translations.CATALOGUES,
    "flask": flask_translations.CATALOGUES,
}
GPC_NOTICE = {lang: i18n.messages(lang)["gpc.honoured"] for lang in ("en", "fr", "de")}


def visitor(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    """A fresh visitor confined to the loopback servers, with playwright context options."""
    context = browser.new_context(base_url=base_url, **options)
    context.route(NOT_LOOPBACK, lambda route: route.abort())
    return context


@pytest.fixture
def phone(browser: Browser, base_urls: dict[str, str], example: str) -> Iterator[Page]:
    context = visitor(browser, base_urls[example], **PHONE)
    yield context.new_page()
    context.close()


def pages_of(page: Page) -> list[str]:
    """Every page of the example, as its home page links them (the JSON endpoint aside)."""
    page.goto("/")
    hrefs = page.locator(".page-list a").evaluate_all("links => links.map(a => a.pathname)")
    return [href for href in dict.fromkeys(hrefs) if not href.startswith("/cookieguard/")]


# Every rendered element under `selector` (or the page) that leaves the viewport sideways,
# and the document's own scroll width.
_OVERFLOW = """selector => {
  const width = document.documentElement.clientWidth;
  const scope = selector ? document.querySelector(selector) : document.body;
  const out = [];
  for (const element of [scope, ...scope.querySelectorAll("*")]) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      out.push(`${element.tagName.toLowerCase()}#${element.id}.${element.className}: `
               + `${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, out};
}"""


def assert_fits(page: Page, selector: str | None = None) -> None:
    found = page.evaluate(_OVERFLOW, selector)
    where = f"{page.url} {selector or 'document'}"
    assert found["scrollWidth"] <= found["width"], f"{where}: {found}"
    assert found["out"] == [], f"{where}: wider than the {found['width']} px viewport"


def assert_on_screen(page: Page, locator: Locator) -> None:
    box = locator.bounding_box()
    assert box is not None, locator
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (locator, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= 812, (locator, box)


def test_every_page_banner_and_dialog_fit_a_phone(phone: Page, example: str) -> None:
    for path in pages_of(phone):
        phone.goto(path)
        expect(banner(phone)).to_be_visible()
        assert_fits(phone)
        assert_fits(phone, "#cookieguard-banner")
        assert_on_screen(phone, banner(phone))
        for name in ("Reject all", "Accept all"):
            button = banner(phone).get_by_role("button", name=name)
            assert_on_screen(phone, button)
            button.click(trial=True)  # visible, enabled, and nothing covers it

        banner(phone).get_by_role("link", name="Choose cookies").click()
        expect(dialog(phone)).to_be_visible()
        for summary in dialog(phone).locator("details summary").all():
            summary.click()
        expect(dialog(phone).locator("details:not([open])")).to_have_count(0)
        assert_fits(phone)
        assert_fits(phone, "#cookieguard-preferences")
        assert_on_screen(phone, dialog(phone).locator(".cookieguard-dialog-box"))
        for name in ("Reject all", "Accept all"):
            button = dialog(phone).get_by_role("button", name=name)
            button.scroll_into_view_if_needed()
            button.click(trial=True)

    # With everything accepted (the Flask example's YouTube player, say) the pages still fit.
    phone.goto("/")
    with consent_saved(phone):
        banner(phone).get_by_role("button", name="Accept all").tap()
    for path in pages_of(phone):
        phone.goto(path)
        assert_fits(phone)


def focused(page: Page) -> dict[str, str]:
    return page.evaluate(
        "() => ({tag: document.activeElement.tagName.toLowerCase(),"
        " cls: document.activeElement.className, text: document.activeElement.textContent})"
    )


def tab_until(page: Page, target: Locator, limit: int) -> int:
    """Press Tab until ``target`` has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


@pytest.mark.parametrize("button", ["Reject all", "Accept all"])
@pytest.mark.parametrize("how", ["keyboard", "mouse"])
def test_after_a_banner_choice_focus_is_on_the_preferences_link(
    page: Page, button: str, how: str
) -> None:
    page.goto("/")
    choice = banner(page).get_by_role("button", name=button)
    with consent_saved(page):
        if how == "keyboard":
            tab_until(page, choice, limit=3)
            page.keyboard.press("Enter")
        else:
            choice.click()
    expect(banner(page)).to_have_count(0)
    now = focused(page)
    assert now["tag"] != "body", now
    assert "cookieguard-preferences-link" in now["cls"], now
    expect(page.locator("footer .cookieguard-preferences-link")).to_be_focused()


def test_after_saving_from_the_banners_dialog_focus_is_on_the_preferences_link(
    page: Page,
) -> None:
    page.goto("/")
    tab_until(page, banner(page).get_by_role("link", name="Choose cookies"), limit=5)
    page.keyboard.press("Enter")
    save = dialog(page).get_by_role("button", name="Save my choices")
    tab_until(page, save, limit=40)
    with consent_saved(page):
        page.keyboard.press("Enter")
    expect(dialog(page)).to_be_hidden()
    expect(page.locator("footer .cookieguard-preferences-link")).to_be_focused()


def test_reject_all_is_reached_within_three_tabs_on_every_page(page: Page) -> None:
    for path in pages_of(page):
        page.goto(path)
        presses = tab_until(page, banner(page).get_by_role("button", name="Reject all"), 3)
        assert presses <= 3, path


@pytest.mark.parametrize(("locale", "lang"), [("fr-FR", "fr"), ("de-DE", "de")])
def test_the_dialog_speaks_the_visitors_language_for_the_sites_own_texts(
    browser: Browser, base_urls: dict[str, str], example: str, locale: str, lang: str
) -> None:
    registry = REGISTRIES[example]
    texts = CATALOGUES[example][lang]
    context = visitor(browser, base_urls[example], locale=locale)
    try:
        page = context.new_page()
        page.goto("/?cookieguard=preferences")
        expect(dialog(page)).to_be_visible()
        assert page.locator("#cookieguard").get_attribute("lang") == lang
        shown = dialog(page).locator(".cookieguard-category")
        expect(shown).to_have_count(len(registry.categories))
        for index, category in enumerate(registry.categories):
            box = shown.nth(index)
            label = texts[f"category.{category.name}.label"]
            expect(box.locator("label")).to_have_text(label)
            assert label != category.title or category.name == "marketing"
            description = texts[f"category.{category.name}.description"]
            expect(box.locator(".cookieguard-category-description p").first).to_have_text(
                description
            )
            box.locator("summary").click()
            rows = box.locator("tbody tr")
            for row, cookie in zip(rows.all(), registry.cookies_in(category.name), strict=True):
                cells = row.locator("td")
                if cookie.purpose:
                    expect(cells.nth(1)).to_have_text(texts[f"cookie.{cookie.name}.purpose"])
                if cookie.duration:
                    expect(cells.nth(2)).to_have_text(texts[f"cookie.{cookie.name}.duration"])
    finally:
        context.close()


def test_every_category_cookie_and_service_text_has_french_and_german(example: str) -> None:
    registry = REGISTRIES[example]
    wanted = {
        f"category.{c.name}.{f}" for c in registry.categories for f in ("label", "description")
    }
    wanted |= {f"cookie.{c.name}.purpose" for c in registry.cookies if c.purpose}
    wanted |= {f"cookie.{c.name}.duration" for c in registry.cookies if c.duration}
    wanted |= {f"service.{s.name}.purpose" for s in registry.services if s.purpose}
    for lang in ("fr", "de"):
        assert wanted <= set(CATALOGUES[example][lang]), lang
        assert set(CATALOGUES[example][lang]) <= wanted, f"{lang}: keys for nothing declared"


@pytest.mark.parametrize("javascript", [False, True])
@pytest.mark.parametrize(("locale", "lang"), [("en-GB", "en"), ("fr-FR", "fr"), ("de-DE", "de")])
def test_a_gpc_request_is_told_its_signal_is_honoured(
    browser: Browser,
    base_urls: dict[str, str],
    example: str,
    javascript: bool,
    locale: str,
    lang: str,
) -> None:
    notice = GPC_NOTICE[lang]
    context = visitor(
        browser,
        base_urls[example],
        java_script_enabled=javascript,
        locale=locale,
        extra_http_headers={"Sec-GPC": "1"},
    )
    try:
        page = context.new_page()
        page.goto("/")
        expect(banner(page).locator(".cookieguard-gpc-notice")).to_have_text(notice)
        expect(page.locator("footer .cookieguard-preferences-link")).to_contain_text(notice)
        with consent_saved(page):
            banner(page).locator("button[value=accept_all]").click()
        page.goto("/cookies")
        expect(banner(page)).to_have_count(0)
        expect(page.locator("footer .cookieguard-preferences-link")).to_contain_text(notice)
    finally:
        context.close()

    context = visitor(browser, base_urls[example], java_script_enabled=javascript, locale=locale)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_text(notice)).to_have_count(0)  # no signal, no notice
    finally:
        context.close()
