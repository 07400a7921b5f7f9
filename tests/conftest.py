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
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_RUN_DIR = Path(tempfile.mkdtemp(prefix="cookieguard-tests-"))
atexit.register(shutil.rmtree, _RUN_DIR, ignore_errors=True)
os.environ.setdefault("COOKIEGUARD_CONSENT_DB", f"sqlite:///{_RUN_DIR / 'demo-consents.db'}")
os.environ.setdefault("COOKIEGUARD_CONSENT_SPOOL", str(_RUN_DIR / "demo-spool"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: "playwright" in getattr(item, "fixturenames", ()))
