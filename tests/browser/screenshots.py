"""Regenerate the screenshots in docs/img: ``python -m tests.browser.screenshots``.

Serves both examples on loopback ports, as the browser tests do, and photographs
a first visit (the banner) and the preferences dialog (its first cookie list
open) with Debian's Chromium, on a desktop screen (1280 px) and on a phone
(375 px, mobile emulation): ``banner-<example>.png``, ``preferences-<example>.png``,
and the same names with ``-phone``. On the Flask example also the YouTube
placeholder of ``/meet`` (``embed-flask.png``) and the dialog's commercial services
once YouTube alone is allowed (``services-flask.png``), each with ``-phone`` too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from examples.flask_app.app import app as flask_app
from examples.starlette_app.app import app as starlette_app
from playwright.sync_api import Browser, sync_playwright
from tests.browser.chromium import NOT_LOOPBACK, launch
from tests.browser.servers import serve_asgi, serve_wsgi
from tests.browser.test_consent_flow import CONSENT_PATH

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
SCREENS: dict[str, dict[str, Any]] = {
    "": {"viewport": {"width": 1280, "height": 800}},
    "-phone": {
        "viewport": {"width": 375, "height": 812},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


def photograph(browser: Browser, name: str, base_url: str) -> None:
    for suffix, options in SCREENS.items():
        context = browser.new_context(base_url=base_url, **options)
        context.route(NOT_LOOPBACK, lambda route: route.abort())
        page = context.new_page()
        page.goto("/")
        page.locator("#cookieguard-banner").wait_for()
        page.screenshot(path=IMAGES / f"banner-{name}{suffix}.png")
        page.locator("#cookieguard-banner-customize").click()
        page.locator("#cookieguard-preferences").wait_for()
        page.locator("#cookieguard-preferences details summary").first.click()
        page.locator("#cookieguard-preferences-title").focus()  # no focus ring in the picture
        page.screenshot(path=IMAGES / f"preferences-{name}{suffix}.png")
        context.close()
        print(f"wrote {IMAGES}/banner-{name}{suffix}.png and preferences-{name}{suffix}.png")
        if name == "flask":
            photograph_services(browser, base_url, suffix, options)


def photograph_services(browser: Browser, base_url: str, suffix: str, options: Any) -> None:
    context = browser.new_context(base_url=base_url, **options)
    context.route(NOT_LOOPBACK, lambda route: route.abort())
    page = context.new_page()
    page.request.post(CONSENT_PATH, form={"action": "reject_all"})  # no banner over the page
    page.goto("/meet")
    page.locator("#video").scroll_into_view_if_needed()
    page.screenshot(path=IMAGES / f"embed-flask{suffix}.png")
    page.request.post(CONSENT_PATH, form={"action": "grant", "service": "youtube"})
    page.goto("/?cookieguard=preferences")
    services = page.locator("#cookieguard-preferences .cookieguard-services").nth(0)
    category = services.locator("xpath=ancestor::div[@class='cookieguard-category']")
    category.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.locator("#cookieguard-preferences-title").focus()  # no focus ring in the picture
    category.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.screenshot(path=IMAGES / f"services-flask{suffix}.png")
    context.close()
    print(f"wrote {IMAGES}/embed-flask{suffix}.png and services-flask{suffix}.png")


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with (
        serve_asgi(starlette_app) as starlette_url,
        serve_wsgi(flask_app) as flask_url,
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        for name, base_url in (("starlette", starlette_url), ("flask", flask_url)):
            photograph(browser, name, base_url)
        browser.close()


if __name__ == "__main__":
    main()
