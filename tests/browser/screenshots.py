"""Regenerate the screenshots in docs/img: ``python -m tests.browser.screenshots``.

Serves both examples on loopback ports, as the browser tests do, and photographs
a first visit (the banner) and the preferences dialog with Debian's Chromium.
"""

from __future__ import annotations

from pathlib import Path

from examples.flask_app.app import app as flask_app
from examples.starlette_app.app import app as starlette_app
from playwright.sync_api import ViewportSize, sync_playwright
from tests.browser.chromium import launch, new_context
from tests.browser.servers import serve_asgi, serve_wsgi

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
VIEWPORT: ViewportSize = {"width": 1200, "height": 900}


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with (
        serve_asgi(starlette_app) as starlette_url,
        serve_wsgi(flask_app) as flask_url,
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        for name, base_url in (("starlette", starlette_url), ("flask", flask_url)):
            context = new_context(browser, base_url)
            page = context.new_page()
            page.set_viewport_size(VIEWPORT)
            page.goto("/")
            page.locator("#cookieguard-banner").wait_for()
            page.screenshot(path=IMAGES / f"banner-{name}.png")
            page.locator("#cookieguard-banner-customize").click()
            page.locator("#cookieguard-preferences").wait_for()
            page.screenshot(path=IMAGES / f"preferences-{name}.png")
            context.close()
            print(f"wrote {IMAGES}/banner-{name}.png and preferences-{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
