"""Suite-wide: the tests that share the session's Playwright run last.

Playwright's sync API keeps an event loop running in the main thread from the first
test that uses the session ``playwright`` fixture until the session ends. Neither
``asyncio.run`` nor another ``sync_playwright()`` works under it, so every other test
runs before.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: "playwright" in getattr(item, "fixturenames", ()))
