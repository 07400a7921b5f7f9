"""Debian's Chromium as the browser tests launch it, and contexts confined to loopback."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Any URL that is not one of our loopback servers.
NOT_LOOPBACK = re.compile(r"^(?!https?://127\.0\.0\.1(:\d+)?(/|$))")


def launch(playwright: Playwright, *extra_args: str) -> Browser:
    """Launch /usr/bin/chromium headless; playwright never downloads a browser of its own."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
    )


def new_context(browser: Browser, base_url: str, *, javascript: bool = True) -> BrowserContext:
    """A fresh visitor (an empty cookie jar) that can only reach the loopback servers.

    Requests elsewhere, such as the YouTube player once commercial cookies are
    accepted, are aborted: the tests never touch the network.
    """
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript)
    context.route(NOT_LOOPBACK, lambda route: route.abort())
    return context
