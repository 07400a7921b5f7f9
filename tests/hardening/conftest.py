"""Hardening suite: hypothesis profiles, the ``load`` marker and the figures summary.

``CI`` set in the environment selects the ``ci`` hypothesis profile (the full
example counts); otherwise ``dev`` runs a fraction of them so the suite stays quick.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from tests.support.hardening import FIGURES

#: Examples per property test; the property tests together run >= 100k cases in CI.
CI_EXAMPLES = 50_000
DEV_EXAMPLES = 300

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=CI_EXAMPLES, derandomize=False, **_COMMON)
settings.register_profile("dev", max_examples=DEV_EXAMPLES, **_COMMON)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "load: a bounded load run against real servers on loopback")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("cookieguard hardening figures")
    for name, count in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {count}")
