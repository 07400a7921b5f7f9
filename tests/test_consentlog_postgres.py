"""What only a PostgreSQL server can show: a server that does not answer.

Every other behaviour of the log runs on PostgreSQL too, through the ``db``
fixture of ``test_consentlog.py``. Without a server these tests skip; with
``COOKIEGUARD_REQUIRE_POSTGRES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import logging
import socket

import pytest
from starlette.testclient import TestClient
from tests.support.consentlog import CONSENT_PATH, REGISTRY, logging_app

from cookieguard.consentlog import ConsentLog

pytestmark = pytest.mark.postgres


def test_an_unreachable_server_never_breaks_the_site(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = ConsentLog(
        f"postgresql+psycopg://nobody:wrong@127.0.0.1:{port}/nowhere?connect_timeout=5",
        registry=REGISTRY,
    )
    try:
        with TestClient(logging_app(log)) as client:
            answer = client.post(CONSENT_PATH, json={"action": "accept_all"})
    finally:
        log.close()
    assert answer.status_code == 200
    assert "cookies_preferences=" in answer.headers["set-cookie"]
    assert log.failures == 2  # at start-up, then the consent
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "wrong" not in " ".join(errors)  # the password is never logged
    assert answer.json()["consent_id"] in errors[-1]
