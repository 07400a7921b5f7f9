"""The consent log on SQLite and PostgreSQL: what a saved consent leaves behind as proof.

Every test that needs a database runs on both: a real SQLite file in its own
temporary directory, and tables of its own on the test PostgreSQL server
(``postgres`` marker; skipped without a server unless
``COOKIEGUARD_REQUIRE_POSTGRES=1``). Records are fed through the real middleware
where the behaviour is the visitor's (posting a choice) and through events with
chosen timestamps where it is the operator's (time ranges, retention).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient
from tests.browser.servers import serve_asgi
from tests.support.cases import SERVICES
from tests.support.consentlog import (
    BACKENDS,
    CATEGORIES,
    CONSENT_PATH,
    COOKIES,
    REGISTRY,
    SECRET_KEY,
    Database,
    OpenLog,
    database,
    event,
    log_opener,
    logging_app,
    open_at_once,
    post_concurrently,
)
from werkzeug.test import Client
from werkzeug.wrappers import Response

import cookieguard.consentlog.store as consentlog
from cookieguard import Category, Cookie, Registry
from cookieguard.cli import main
from cookieguard.consentlog import (
    ConsentLog,
    ConsentStore,
    banner_fingerprint,
    parse_moment,
    registry_fingerprint,
)
from cookieguard.consentlog.record import ConsentRecord
from cookieguard.wsgi import CookieGuardMiddleware as WSGIMiddleware

UTC = timezone.utc


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The test's own log, on each database in turn."""
    with database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def open_log(db: Database) -> Iterator[OpenLog]:
    """Open logs on the test's database; all are closed at the end."""
    with log_opener(db.url, table_prefix=db.prefix) as open_:
        yield open_


def visitor(log: ConsentLog) -> TestClient:
    return TestClient(logging_app(log), base_url="https://shop.example")


# -- what a record holds ----------------------------------------------------------------


def test_a_saved_consent_is_recorded_with_what_proves_it(open_log: OpenLog) -> None:
    log = open_log()
    headers = {
        "accept-language": "fr-CH, fr;q=0.9, en;q=0.5",
        "user-agent": "Mozilla/5.0 " + "x" * 500,
        "sec-gpc": "1",
    }
    with visitor(log) as client:
        answer = client.post(CONSENT_PATH, json={"categories": ["statistics"]}, headers=headers)
    assert answer.status_code == 200
    consent_id = answer.json()["consent_id"]

    record = log.find(consent_id)
    assert record is not None
    assert record.consent_id == consent_id
    assert record.action == "save"
    assert record.granted == ("necessary", "statistics")
    assert record.revision == 3
    assert record.registry_hash == registry_fingerprint(REGISTRY)
    assert record.language == "fr"
    assert record.banner_hash == banner_fingerprint("fr") != banner_fingerprint("en")
    assert record.gpc is True
    assert record.user_agent == headers["user-agent"][:256]
    assert record.previous_id is None
    assert record.given_at.tzinfo is UTC
    assert abs(record.given_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert log.failures == 0


def test_every_action_is_recorded_with_the_categories_it_granted(open_log: OpenLog) -> None:
    log = open_log()
    with visitor(log) as client:
        ids = {
            action: client.post(CONSENT_PATH, json={"action": action}).json()["consent_id"]
            for action in ("accept_all", "reject_all")
        }
    accepted, rejected = log.find(ids["accept_all"]), log.find(ids["reject_all"])
    assert accepted is not None and rejected is not None
    assert (accepted.action, accepted.granted) == (
        "accept_all",
        ("necessary", "statistics", "marketing"),
    )
    assert (rejected.action, rejected.granted) == ("reject_all", ("necessary",))


def test_a_change_of_mind_is_a_new_record_linked_to_the_one_it_replaces(
    open_log: OpenLog,
) -> None:
    log = open_log()
    with visitor(log) as client:  # the client keeps the consent cookie, as a browser does
        first = client.post(CONSENT_PATH, json={"action": "accept_all"}).json()["consent_id"]
        second = client.post(CONSENT_PATH, json={"action": "reject_all"}).json()["consent_id"]
        third = client.post(CONSENT_PATH, json={"categories": ["statistics"]}).json()["consent_id"]
    assert len({first, second, third}) == 3  # each saved consent has a fresh id

    original = log.find(first)
    assert original is not None
    assert (original.action, original.previous_id) == ("accept_all", None)  # never updated
    assert [r.previous_id for r in log.history(third)] == [None, first, second]
    for consent_id in (first, second, third):
        assert [r.consent_id for r in log.history(consent_id)] == [first, second, third]
    assert log.count() == 3


def test_a_forged_consent_cookie_does_not_link_a_record_to_someone_elses_id(
    open_log: OpenLog,
) -> None:
    log = open_log()
    with visitor(log) as client:
        victim = client.post(CONSENT_PATH, json={"action": "accept_all"}).json()["consent_id"]
    with visitor(log) as attacker:
        attacker.cookies.set("cookies_preferences", f'[["necessary"],3,"{victim}"]', "shop.example")
        forged = attacker.post(CONSENT_PATH, json={"action": "reject_all"}).json()["consent_id"]
    record = log.find(forged)
    assert record is not None and record.previous_id is None


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::/48"),
        ("::ffff:203.0.113.77", "203.0.113.0/24"),
        ("unix-socket", None),
    ],
)
def test_the_client_address_is_truncated_by_default(
    open_log: OpenLog, address: str, expected: str | None
) -> None:
    log = open_log()

    def site(environ: Any, start_response: Any) -> Any:
        return Response("home")(environ, start_response)

    app = WSGIMiddleware(site, registry=REGISTRY, secret_key=SECRET_KEY, on_consent=log)
    answer = Client(app).post(
        CONSENT_PATH, json={"action": "accept_all"}, environ_base={"REMOTE_ADDR": address}
    )
    record = log.find(answer.json["consent_id"])
    assert record is not None and record.client_ip == expected


def test_the_client_address_can_be_a_salted_hash_or_left_out(
    open_log: OpenLog, db: Database
) -> None:
    hashed = open_log(client_ip="hash", ip_salt="pepper")
    resalted = open_log(client_ip="hash", ip_salt="other pepper", table_prefix=f"{db.prefix}o_")
    omitted = open_log(client_ip="omit", table_prefix=f"{db.prefix}omitted_")
    same_visitor = [hashed.record(event(client="198.51.100.9")) for _ in range(2)]
    assert same_visitor[0].client_ip == same_visitor[1].client_ip
    assert same_visitor[0].client_ip is not None and len(same_visitor[0].client_ip) == 64
    assert "198.51.100" not in same_visitor[0].client_ip
    assert hashed.record(event(client="198.51.100.10")).client_ip != same_visitor[0].client_ip
    assert resalted.record(event(client="198.51.100.9")).client_ip != same_visitor[0].client_ip
    assert omitted.record(event(client="198.51.100.9")).client_ip is None
    with pytest.raises(ValueError, match="ip_salt"):
        ConsentLog("sqlite://", registry=REGISTRY, client_ip="hash")
    with pytest.raises(ValueError, match="client_ip"):
        ConsentLog("sqlite://", registry=REGISTRY, client_ip="full")  # type: ignore[arg-type]


def test_the_texts_behind_each_hash_are_kept(open_log: OpenLog, db: Database) -> None:
    log = open_log()
    record = log.record(event(headers={"accept-language": "de"}))
    where = f"registry_hash = '{record.registry_hash}'"
    [(declarations,)] = db.execute(f"SELECT declarations FROM {{prefix}}registries WHERE {where}")
    [(texts,)] = db.execute(
        f"SELECT texts FROM {{prefix}}banners WHERE banner_hash = '{record.banner_hash}'"
    )
    assert [c["name"] for c in json.loads(declarations)["cookies"]] == [c.name for c in COOKIES]
    banner = json.loads(texts)
    assert banner["language"] == "de"
    assert banner["texts"]["banner.title"]


# -- a failing store never breaks the site ---------------------------------------------


def test_a_log_that_cannot_open_still_lets_the_visitor_choose(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with log_opener(f"sqlite:///{tmp_path / 'missing-dir' / 'consent.db'}") as open_:
        log = open_()
        assert log.failures == 1
        with visitor(log) as client:
            answer = client.post(CONSENT_PATH, json={"action": "accept_all"})
    assert answer.status_code == 200
    assert "cookies_preferences=" in answer.headers["set-cookie"]
    assert log.failures == 2
    errors = [r for r in caplog.records if r.name == "cookieguard" and r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert answer.json()["consent_id"] in errors[1].getMessage()


def test_a_store_that_breaks_later_is_counted_and_the_consent_still_applies(
    open_log: OpenLog, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    log = open_log()
    db.execute("DROP TABLE {prefix}consents")
    with visitor(log) as client:
        answer = client.post(CONSENT_PATH, json={"action": "reject_all"})
        assert client.get(CONSENT_PATH).json()["consent_id"] == answer.json()["consent_id"]
    assert answer.status_code == 200
    assert log.failures == 1
    assert any(r.levelno == logging.ERROR for r in caplog.records if r.name == "cookieguard")


# -- the registry hash and the re-prompt -----------------------------------------------


def test_changing_declarations_without_a_new_revision_is_warned_about_at_start_up(
    open_log: OpenLog, caplog: pytest.LogCaptureFixture
) -> None:
    open_log()
    open_log()  # the same declarations again: nothing to say
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    relabelled = (Category("necessary", required=True, label="Essential"), *CATEGORIES[1:])
    open_log(registry=Registry(relabelled, COOKIES, revision=3))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "revision 3" in warnings[0]

    caplog.clear()
    open_log(registry=Registry(relabelled, COOKIES, revision=4))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_registry_fingerprint_covers_declarations_not_the_revision() -> None:
    fingerprint = registry_fingerprint(REGISTRY)
    assert fingerprint == registry_fingerprint(Registry(CATEGORIES, COOKIES, revision=3))
    assert fingerprint == registry_fingerprint(Registry(CATEGORIES, COOKIES, revision=9))
    assert fingerprint != registry_fingerprint(Registry(CATEGORIES, COOKIES[:2], revision=3))
    assert fingerprint != registry_fingerprint(Registry(CATEGORIES, COOKIES[::-1], revision=3))


# -- lookups, export, retention --------------------------------------------------------


def _three_months(log: ConsentLog) -> list[str]:
    days = [datetime(2026, 1, 15, 9, tzinfo=UTC), datetime(2026, 2, 15, 9, tzinfo=UTC)]
    days.append(datetime(2026, 3, 15, 9, tzinfo=UTC))
    return [log.record(event(given_at=day)).consent_id for day in days]


def test_records_are_found_by_time_range(open_log: OpenLog) -> None:
    log = open_log()
    january, february, march = _three_months(log)
    feb_1, mar_1 = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    assert [r.consent_id for r in log.records()] == [january, february, march]
    assert [r.consent_id for r in log.records(since=feb_1)] == [february, march]
    assert [r.consent_id for r in log.records(since=feb_1, until=mar_1)] == [february]
    assert [r.consent_id for r in log.records(until=datetime(2026, 1, 15, 9))] == []


def test_export_writes_json_lines_and_csv(open_log: OpenLog) -> None:
    log = open_log()
    january, february, march = _three_months(log)
    out = io.StringIO()
    assert log.export(out, since=datetime(2026, 2, 1, tzinfo=UTC)) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["consent_id"] for line in lines] == [february, march]
    assert lines[0]["given_at"] == "2026-02-15T09:00:00Z"
    assert lines[0]["granted"] == ["necessary"]
    assert lines[0]["client_ip"] == "203.0.113.0/24"

    out = io.StringIO()
    assert log.export(out, format="csv") == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["consent_id"] for row in rows] == [january, february, march]
    assert rows[0]["gpc"] == "false" and rows[0]["revision"] == "3"


def test_purge_deletes_only_what_is_past_retention(open_log: OpenLog) -> None:
    log = open_log()
    january, february, march = _three_months(log)
    assert log.purge(datetime(2026, 2, 15, 9, tzinfo=UTC)) == 1
    assert log.find(january) is None
    assert [r.consent_id for r in log.records()] == [february, march]
    recent = log.record(event())
    assert log.purge(timedelta(days=30)) == 2
    assert [r.consent_id for r in log.records()] == [recent.consent_id]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2w", datetime(2026, 3, 17, 12, tzinfo=UTC)),
        ("1m", datetime(2026, 2, 28, 12, tzinfo=UTC)),  # no 31 February
        ("13 months", datetime(2025, 2, 28, 12, tzinfo=UTC)),
        ("2y", datetime(2024, 3, 31, 12, tzinfo=UTC)),
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T10:00:00+01:00", datetime(2026, 1, 31, 9, tzinfo=UTC)),
    ],
)
def test_ages_and_dates_on_the_command_line(text: str, expected: datetime) -> None:
    assert parse_moment(text, now=datetime(2026, 3, 31, 12, tzinfo=UTC)) == expected


# -- the command line ----------------------------------------------------------------------


def test_consents_show_prints_the_record_and_its_history(
    open_log: OpenLog, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    log = open_log()
    with visitor(log) as client:
        first = client.post(CONSENT_PATH, json={"action": "accept_all"}).json()["consent_id"]
        second = client.post(CONSENT_PATH, json={"action": "reject_all"}).json()["consent_id"]
    assert main(["consents", "show", first, *db.cli]) == 0
    out = capsys.readouterr().out
    assert f"consent_id     {first}" in out
    assert "necessary, statistics, marketing" in out
    assert "history, oldest first" in out and second in out


def test_consents_show_of_an_unknown_id_says_so(
    open_log: OpenLog, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    open_log()
    assert main(["consents", "show", "not-an-id", *db.cli]) == 1
    assert "no consent recorded with ID not-an-id" in capsys.readouterr().err


def test_consents_export_and_purge_from_the_command_line(
    open_log: OpenLog,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    january, february, march = _three_months(open_log())
    assert main(["consents", "export", *db.cli, "--since", "2026-02-01"]) == 0
    exported = [json.loads(line)["consent_id"] for line in capsys.readouterr().out.splitlines()]
    assert exported == [february, march]

    target = tmp_path / "consents.csv"
    monkeypatch.setenv("COOKIEGUARD_CONSENT_DB", db.url)
    prefix = ["--table-prefix", db.prefix]
    assert main(["consents", "export", *prefix, "--format", "csv", "--output", str(target)]) == 0
    assert [row["consent_id"] for row in csv.DictReader(io.StringIO(target.read_text()))] == [
        january,
        february,
        march,
    ]

    assert main(["consents", "purge", *db.cli, "--older-than", "2026-03-01"]) == 0
    assert "purged 2 records" in capsys.readouterr().out
    with ConsentStore(db.url, table_prefix=db.prefix) as store:
        assert [r.consent_id for r in store.records()] == [march]


def test_the_consents_command_needs_a_database(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COOKIEGUARD_CONSENT_DB", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(["consents", "show", "some-id"])
    assert exit_.value.code == 2
    assert "--db URL" in capsys.readouterr().err


# -- schema and installation ----------------------------------------------------------------


def test_the_schema_is_created_on_first_use_and_versioned(db: Database) -> None:
    with ConsentStore(db.url, table_prefix=db.prefix) as store:
        assert store.schema_version() is None
        assert store.count() == 0
        assert store.schema_version() == consentlog.SCHEMA_VERSION


def test_a_newer_schema_migrates_in_order(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with ConsentStore(db.url, table_prefix=db.prefix) as store:
        store.open()

    def add_referrer(conn: Any, prefix: str) -> None:
        conn.exec_driver_sql(f"ALTER TABLE {prefix}consents ADD COLUMN referrer TEXT")

    current = consentlog.SCHEMA_VERSION
    monkeypatch.setattr(consentlog, "SCHEMA_VERSION", current + 1)
    monkeypatch.setitem(consentlog.MIGRATIONS, current, add_referrer)
    with ConsentStore(db.url, table_prefix=db.prefix) as store:
        store.open()
        assert store.schema_version() == current + 1
        columns = sa.inspect(store.engine).get_columns(f"{db.prefix}consents")
    assert "referrer" in [column["name"] for column in columns]


def test_a_log_written_by_a_newer_version_is_refused(
    open_log: OpenLog, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = consentlog.SCHEMA_VERSION
    monkeypatch.setattr(consentlog, "SCHEMA_VERSION", current + 1)
    with ConsentStore(db.url, table_prefix=db.prefix) as store:
        store.open()
    monkeypatch.setattr(consentlog, "SCHEMA_VERSION", current)
    log = open_log()
    assert log.failures == 1
    with pytest.raises(RuntimeError, match=f"schema version {current + 1}"):
        log.open()


def test_an_in_memory_database_is_refused_since_no_record_would_last() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        ConsentLog("sqlite://", registry=REGISTRY)


def test_without_sqlalchemy_the_log_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # as if it were not installed
    with pytest.raises(ModuleNotFoundError, match=r"cookieguard\[log\]"):
        ConsentLog("sqlite://", registry=REGISTRY)
    with pytest.raises(SystemExit):
        main(["consents", "show", "some-id", "--db", "sqlite://"])
    assert "cookieguard[log]" in capsys.readouterr().err


# -- concurrency -----------------------------------------------------------------------------


def test_fifty_concurrent_consents_through_uvicorn_are_all_recorded(open_log: OpenLog) -> None:
    log = open_log()
    with serve_asgi(logging_app(log)) as base_url:
        ids = asyncio.run(post_concurrently(base_url, 50))
    assert len(set(ids)) == 50
    assert log.failures == 0
    assert log.count() == 50
    assert {r.consent_id for r in log.records()} == set(ids)
    assert {r.user_agent for r in log.records()} == {f"visitor {n}" for n in range(50)}


def test_workers_starting_together_on_a_new_database_all_open_it(db: Database) -> None:
    logs = open_at_once(db.url, 8, table_prefix=db.prefix)
    try:
        assert [log.failures for log in logs] == [0] * 8
        assert logs[0].record(event()).consent_id
        assert logs[-1].count() == 1
    finally:
        for log in logs:
            log.close()


# -- the demo ---------------------------------------------------------------------------------


def test_the_demo_records_consents_and_the_cli_finds_the_id_its_dialog_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from examples.starlette_app import app as demo

    with TestClient(demo.app) as browser:
        browser.post(CONSENT_PATH, data={"action": "accept_all", "next": "/"})
        page = browser.get("/").text
    shown = re.search(r"data-cookieguard-consent-id>([0-9a-f-]{36})<", page)
    assert shown is not None, "the preferences dialog shows no consent ID"
    consent_id = shown.group(1)

    assert demo.consent_log.flush(timeout=30)  # the demo logs through a spool
    db_url = demo.consent_log.engine.url.render_as_string(hide_password=False)
    assert db_url.startswith("sqlite:///")
    assert main(["consents", "show", consent_id, "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert f"consent_id     {consent_id}" in out
    assert "action         accept_all" in out


# -- services ---------------------------------------------------------------------------


def test_services_granted_one_by_one_are_recorded(open_log: OpenLog) -> None:

    log = open_log(registry=SERVICES)
    with TestClient(logging_app(log, SERVICES), base_url="https://shop.example") as client:
        saved = client.post(CONSENT_PATH, json={"services": ["matomo", "youtube"]}).json()
        granted = client.post(CONSENT_PATH, json={"action": "grant", "service": "doubleclick"})
        revoked = client.post(CONSENT_PATH, json={"action": "revoke", "service": "youtube"})
    first = log.find(saved["consent_id"])
    second = log.find(granted.json()["consent_id"])
    third = log.find(revoked.json()["consent_id"])
    assert first is not None and second is not None and third is not None
    assert first.services == ("youtube", "matomo")  # in declaration order
    assert (second.action, second.services) == ("grant", ("youtube", "doubleclick", "matomo"))
    assert (third.action, third.services) == ("revoke", ("doubleclick", "matomo"))
    assert third.previous_id == second.consent_id
    assert first.as_dict()["services"] == ["youtube", "matomo"]


def test_consents_show_prints_the_services_granted_one_by_one(
    open_log: OpenLog, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    log = open_log(registry=SERVICES)
    with TestClient(logging_app(log, SERVICES), base_url="https://shop.example") as client:
        first = client.post(CONSENT_PATH, json={"action": "reject_all"}).json()["consent_id"]
        granted = client.post(CONSENT_PATH, json={"action": "grant", "service": "youtube"})
    assert main(["consents", "show", first, *db.cli]) == 0
    out = capsys.readouterr().out
    assert "\nservices       -\n" in out  # none granted one by one
    assert main(["consents", "show", granted.json()["consent_id"], *db.cli]) == 0
    out = capsys.readouterr().out
    assert "\nservices       youtube\n" in out
    history = out.split("history, oldest first:\n")[1].splitlines()
    assert history[0].endswith("reject_all  necessary")
    assert history[1].startswith("* ") and history[1].endswith("grant       necessary + youtube")


def test_a_record_without_services_reads_as_none() -> None:
    record = ConsentRecord.from_dict(
        {
            "consent_id": "c1",
            "given_at": "2026-01-02T03:04:05Z",
            "action": "save",
            "granted": ["necessary"],
            "revision": 3,
            "registry_hash": "r",
            "banner_hash": "b",
            "language": "en",
            "gpc": False,
        }
    )
    assert record.services == ()
    assert record.previous_id is None


def test_a_version_2_log_is_migrated_and_its_records_still_read(
    open_log: OpenLog, db: Database
) -> None:
    log = open_log()
    with visitor(log) as client:
        old_id = client.post(CONSENT_PATH, json={"action": "accept_all"}).json()["consent_id"]
    log.close()
    # The log as version 2 wrote it: no services column.
    db.execute("ALTER TABLE {prefix}consents DROP COLUMN services")
    db.execute("UPDATE {prefix}schema SET version = 2")
    with ConsentStore(db.url, table_prefix=db.prefix) as store:
        assert store.schema_version() == 2
        record = store.find(old_id)
        assert store.schema_version() == consentlog.SCHEMA_VERSION == 3
    assert record is not None
    assert record.services == ()
    assert record.granted == ("necessary", "statistics", "marketing")
    later = open_log()
    with visitor(later) as client:
        new_id = client.post(CONSENT_PATH, json={"action": "reject_all"}).json()["consent_id"]
    assert later.find(new_id) is not None


def test_the_export_lists_services(open_log: OpenLog, db: Database, tmp_path: Path) -> None:

    log = open_log(registry=SERVICES)
    with TestClient(logging_app(log, SERVICES), base_url="https://shop.example") as client:
        client.post(CONSENT_PATH, json={"action": "grant", "service": "youtube"})
    target = tmp_path / "consents.csv"
    assert main(["consents", "export", *db.cli, "--format", "csv", "--output", str(target)]) == 0
    (row,) = csv.DictReader(io.StringIO(target.read_text()))
    assert row["services"] == "youtube"
    assert row["granted"] == "necessary"


def test_the_registry_fingerprint_covers_services() -> None:
    from cookieguard import Service

    plain = registry_fingerprint(SERVICES)
    same = Registry(SERVICES.categories, SERVICES.cookies, services=SERVICES.services, revision=9)
    assert registry_fingerprint(same) == plain
    moved = [
        Service(s.name, s.category, provider=s.provider, hosts=[*s.hosts, "cdn.example"])
        for s in SERVICES.services
    ]
    assert (
        registry_fingerprint(Registry(SERVICES.categories, SERVICES.cookies, services=moved))
        != plain
    )
    without = [Cookie(c.name, c.category, path=c.path, domain=c.domain) for c in SERVICES.cookies]
    assert (
        registry_fingerprint(Registry(SERVICES.categories, without, services=SERVICES.services))
        != plain
    )
