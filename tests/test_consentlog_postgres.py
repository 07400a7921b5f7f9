"""The consent log on a real PostgreSQL server on loopback, as a site at scale runs it.

Each test writes under a table prefix of its own and drops its tables at the
end. Without a server these tests skip; with ``COOKIEGUARD_REQUIRE_POSTGRES=1``
(CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from starlette.testclient import TestClient
from tests.browser.servers import serve_asgi
from tests.consentlog_support import (
    CATEGORIES,
    CONSENT_PATH,
    COOKIES,
    REGISTRY,
    OpenLog,
    drop_tables,
    event,
    fresh_prefix,
    log_opener,
    logging_app,
    open_at_once,
    post_concurrently,
    postgres_url,
)

from cookieguard import Registry
from cookieguard.cli import main
from cookieguard.consentlog import ConsentLog, registry_fingerprint

pytestmark = pytest.mark.postgres

UTC = timezone.utc


@pytest.fixture(scope="module")
def pg_url() -> str:
    return postgres_url()


@pytest.fixture
def prefix(pg_url: str) -> Iterator[str]:
    prefix = fresh_prefix()
    yield prefix
    drop_tables(pg_url, prefix)


@pytest.fixture
def open_log(pg_url: str, prefix: str) -> Iterator[OpenLog]:
    with log_opener(pg_url, table_prefix=prefix) as open_:
        yield open_


def test_a_saved_consent_and_its_change_of_mind_are_recorded(open_log: OpenLog) -> None:
    log = open_log()
    with TestClient(logging_app(log), base_url="https://shop.example") as client:
        first = client.post(
            CONSENT_PATH, json={"action": "accept_all"}, headers={"accept-language": "de"}
        ).json()["consent_id"]
        second = client.post(CONSENT_PATH, json={"action": "reject_all"}).json()["consent_id"]
    record = log.find(first)
    assert record is not None
    assert record.granted == ("necessary", "statistics", "marketing")
    assert record.language == "de"
    assert record.registry_hash == registry_fingerprint(REGISTRY)
    assert record.given_at.tzinfo is UTC
    assert [(r.consent_id, r.previous_id) for r in log.history(second)] == [
        (first, None),
        (second, first),
    ]
    assert log.failures == 0


def test_time_ranges_export_and_purge(open_log: OpenLog) -> None:
    log = open_log()
    days = [datetime(2026, month, 15, 9, tzinfo=UTC) for month in (1, 2, 3)]
    january, february, march = (log.record(event(given_at=day)).consent_id for day in days)
    feb_1 = datetime(2026, 2, 1, tzinfo=UTC)
    assert [r.consent_id for r in log.records(since=feb_1)] == [february, march]
    out = io.StringIO()
    assert log.export(out, until=feb_1) == 1
    assert json.loads(out.getvalue())["consent_id"] == january
    assert json.loads(out.getvalue())["given_at"] == "2026-01-15T09:00:00Z"
    assert log.purge(datetime(2026, 3, 1, tzinfo=UTC)) == 2
    assert [r.consent_id for r in log.records()] == [march]


def test_changing_declarations_without_a_new_revision_is_warned_about(
    open_log: OpenLog, caplog: pytest.LogCaptureFixture
) -> None:
    open_log()
    open_log(registry=Registry(CATEGORIES, COOKIES[:2], revision=REGISTRY.revision))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"revision {REGISTRY.revision}" in warnings[0]


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


def test_fifty_concurrent_consents_through_uvicorn_are_all_recorded(open_log: OpenLog) -> None:
    log = open_log()
    with serve_asgi(logging_app(log)) as base_url:
        ids = asyncio.run(post_concurrently(base_url, 50))
    assert len(set(ids)) == 50
    assert log.failures == 0
    assert log.count() == 50
    assert {r.consent_id for r in log.records()} == set(ids)


def test_consents_show_finds_the_id_on_postgres(
    open_log: OpenLog, pg_url: str, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = open_log()
    with TestClient(logging_app(log)) as client:
        answer = client.post(CONSENT_PATH, json={"categories": ["statistics"]})
    consent_id = answer.json()["consent_id"]
    assert main(["consents", "show", consent_id, "--db", pg_url, "--table-prefix", prefix]) == 0
    out = capsys.readouterr().out
    assert f"consent_id     {consent_id}" in out
    assert "granted        necessary, statistics" in out


def test_workers_starting_together_on_a_new_database_all_open_it(pg_url: str, prefix: str) -> None:
    logs = open_at_once(pg_url, 8, table_prefix=prefix)
    try:
        assert [log.failures for log in logs] == [0] * 8
        assert logs[0].record(event()).consent_id
        assert logs[-1].count() == 1
    finally:
        for log in logs:
            log.close()
