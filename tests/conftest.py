"""Suite-wide: a consent log of the run's own, and the Playwright tests last.

The examples log consents where ``COOKIEGUARD_CONSENT_DB`` and
``COOKIEGUARD_CONSENT_SPOOL`` say, by default a file in the system's temporary
directory that every run on the machine would share (and inherit, whatever its
schema). A run gets a directory of its own instead, set before any example is
imported; servers the tests start inherit it.

Playwright's sync API keeps an event loop running in the main thread from the first
test that uses the session ``playwright`` fixture until the session ends. Neither
``asyncio.run`` nor another ``sync_playwright()`` works under it, so every other test
runs before.

The browser tests (``tests/browser``, ``tests/test_django``) share one launcher:
the ``playwright`` and ``browser`` fixtures below, Debian's Chromium per module.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright
from tests.browser.chromium import CHROMIUM, launch

_RUN_DIR = Path(tempfile.mkdtemp(prefix="cookieguard-tests-"))
atexit.register(shutil.rmtree, _RUN_DIR, ignore_errors=True)
os.environ.setdefault("COOKIEGUARD_CONSENT_DB", f"sqlite:///{_RUN_DIR / 'demo-consents.db'}")
os.environ.setdefault("COOKIEGUARD_CONSENT_SPOOL", str(_RUN_DIR / "demo-spool"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: "playwright" in getattr(item, "fixturenames", ()))


# Module scope, not session: playwright's sync API keeps an asyncio loop running in the
# main thread while it is open, which would break every later test that runs a loop.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright; without /usr/bin/chromium a skip (COOKIEGUARD_REQUIRE_BROWSER=1: a failure)."""
    if not CHROMIUM.exists():
        reason = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("COOKIEGUARD_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; COOKIEGUARD_REQUIRE_BROWSER=1 makes this an error")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, for the module's tests."""
    browser = launch(playwright)
    yield browser
    browser.close()
