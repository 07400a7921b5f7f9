"""The consent spool on SQLite: nothing acknowledged is lost, nothing shipped twice.

The database "goes away" the way SQLite can: its directory is missing, so it
cannot be opened, until the test creates it. Other processes are real ones
(``subprocess``), killed with ``SIGKILL`` where a crash is the point.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.support.consentlog import CONSENT_PATH, REGISTRY, event, logging_app

from cookieguard.cli import main
from cookieguard.consentlog import ConsentLog, ConsentStore, spool_status

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 30.0  # seconds any one wait may take before the test fails


@dataclass
class Site:
    """A database that is away until :meth:`restore`, and a spool beside it."""

    tmp: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.tmp / 'db' / 'consent.db'}"

    @property
    def spool(self) -> Path:
        return self.tmp / "spool"

    def restore(self) -> None:
        (self.tmp / "db").mkdir(exist_ok=True)

    def stored_ids(self) -> list[str]:
        with ConsentStore(self.url) as store:
            return [r.consent_id for r in store.records()]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


@pytest.fixture
def logs(site: Site) -> Iterator[list[ConsentLog]]:
    opened: list[ConsentLog] = []
    yield opened
    for log in opened:
        log.close()


def spooled_log(site: Site, logs: list[ConsentLog], **options: object) -> ConsentLog:
    log = ConsentLog(site.url, registry=REGISTRY, spool=site.spool, **options)  # type: ignore[arg-type]
    logs.append(log)
    return log


def left_behind(site: Site, logs: list[ConsentLog], count: int) -> tuple[list[str], Path]:
    """``count`` records spooled while the database is away, by a log closed since."""
    log = spooled_log(site, logs)
    ids = [log.record(event()).consent_id for _ in range(count)]
    log.close()
    [segment] = site.spool.glob("*.seg")
    return ids, segment


def run_python(code: str, *, kill_when: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter; with ``kill_when``, SIGKILL it once it prints that."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    source = textwrap.dedent(code)
    if kill_when is None:
        return subprocess.run(
            [sys.executable, "-c", source],
            env=env,
            text=True,
            capture_output=True,
            check=True,
            timeout=DEADLINE,
        )
    with subprocess.Popen(
        [sys.executable, "-c", source], env=env, text=True, stdout=subprocess.PIPE
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == kill_when:
                child.send_signal(signal.SIGKILL)
                break
        child.wait(DEADLINE)
        assert child.returncode == -signal.SIGKILL
        return subprocess.CompletedProcess(child.args, child.returncode, "", "")


def test_a_consent_is_on_disk_before_the_answer_and_in_the_database_after_flush(
    site: Site, logs: list[ConsentLog]
) -> None:
    log = spooled_log(site, logs)
    with TestClient(logging_app(log)) as client:
        answers = [client.post(CONSENT_PATH, json={"action": "accept_all"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert log.pending() == 3  # the database is away: they wait on disk
    assert log.failures == 0
    assert log.flush(timeout=0.2) is False

    site.restore()
    assert log.flush(timeout=DEADLINE)
    assert log.pending() == 0
    assert sorted(site.stored_ids()) == sorted(a.json()["consent_id"] for a in answers)


def test_what_a_closed_log_left_is_shipped_by_the_next_once(
    site: Site, logs: list[ConsentLog]
) -> None:
    first = spooled_log(site, logs)
    ids = [first.record(event()).consent_id for _ in range(5)]
    first.close()
    assert spool_status(site.spool).pending == 5

    site.restore()
    second = spooled_log(site, logs)
    assert second.flush(timeout=DEADLINE)
    third = spooled_log(site, logs)  # nothing left to ship again
    assert third.flush(timeout=DEADLINE)
    assert sorted(site.stored_ids()) == sorted(ids)


def test_a_replayed_segment_writes_nothing_twice(site: Site, logs: list[ConsentLog]) -> None:
    ids, segment = left_behind(site, logs, 4)
    copy = segment.read_bytes()

    site.restore()
    assert spooled_log(site, logs).flush(timeout=DEADLINE)
    segment.write_bytes(copy)  # as if the shipper died between the insert and its offset
    assert spooled_log(site, logs).flush(timeout=DEADLINE)
    assert sorted(site.stored_ids()) == sorted(ids)


def test_a_torn_last_entry_is_skipped_with_a_warning_and_the_rest_shipped(
    site: Site, logs: list[ConsentLog], caplog: pytest.LogCaptureFixture
) -> None:
    ids, segment = left_behind(site, logs, 3)
    with open(segment, "r+b") as torn:  # a power cut in the middle of the third write
        torn.truncate(segment.stat().st_size - 40)
    assert spool_status(site.spool).pending == 2

    site.restore()
    assert spooled_log(site, logs).flush(timeout=DEADLINE)
    assert sorted(site.stored_ids()) == sorted(ids[:2])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("torn" in w and segment.name in w for w in warnings)


def test_a_damaged_entry_in_the_middle_is_skipped_and_those_after_it_are_shipped(
    site: Site, logs: list[ConsentLog], caplog: pytest.LogCaptureFixture
) -> None:
    ids, segment = left_behind(site, logs, 3)
    data = bytearray(segment.read_bytes())
    second = data.index(ids[1].encode())
    data[second] ^= 0xFF  # one flipped byte: the checksum no longer matches
    segment.write_bytes(bytes(data))

    site.restore()
    assert spooled_log(site, logs).flush(timeout=DEADLINE)
    assert sorted(site.stored_ids()) == sorted([ids[0], ids[2]])
    assert any("damaged" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_what_a_killed_process_spooled_is_shipped_by_a_live_log(
    site: Site, logs: list[ConsentLog]
) -> None:
    live = spooled_log(site, logs)
    run_python(
        f"""
        from tests.support.consentlog import REGISTRY, event
        from cookieguard.consentlog import ConsentLog
        log = ConsentLog({site.url!r}, registry=REGISTRY, spool={str(site.spool)!r})
        for n in range(20):
            print(log.record(event()).consent_id, flush=True)
        print("spooled", flush=True)
        import time; time.sleep(60)
        """,
        kill_when="spooled",
    )
    assert live.pending() == 20
    site.restore()
    assert live.flush(timeout=DEADLINE)
    assert len(set(site.stored_ids())) == len(site.stored_ids()) == 20


def test_processes_appending_to_one_spool_at_once_lose_and_double_nothing(
    site: Site, logs: list[ConsentLog]
) -> None:
    code = f"""
        import sys
        from tests.support.consentlog import REGISTRY, event
        from cookieguard.consentlog import ConsentLog
        from concurrent.futures import ThreadPoolExecutor
        log = ConsentLog({site.url!r}, registry=REGISTRY, spool={str(site.spool)!r})
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda _: log.record(event()).consent_id, range(100)))
        log.close()
        print("\\n".join(ids))
        """
    site.restore()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    ids = [line for child in children for line in child.communicate(timeout=DEADLINE)[0].split()]
    assert [child.returncode for child in children] == [0] * 4
    assert spooled_log(site, logs).flush(timeout=DEADLINE)
    stored = site.stored_ids()
    assert len(ids) == 400
    assert sorted(stored) == sorted(ids)


def test_a_full_spool_refuses_with_an_error_and_a_count_and_the_site_still_answers(
    site: Site, logs: list[ConsentLog], caplog: pytest.LogCaptureFixture
) -> None:
    log = spooled_log(site, logs, spool_max_bytes=2_000)  # about four records
    with TestClient(logging_app(log)) as client:
        answers = [client.post(CONSENT_PATH, json={"action": "reject_all"}) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    kept = log.pending()
    assert 0 < kept < 10
    assert log.overflowed == log.failures == 10 - kept
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 10 - kept
    assert "full" in errors[-1] and f"{10 - kept} refused" in errors[-1]
    assert answers[-1].json()["consent_id"] in errors[-1]

    site.restore()
    assert log.flush(timeout=DEADLINE)
    with TestClient(logging_app(log)) as client:  # room again once shipped
        assert client.post(CONSENT_PATH, json={"action": "reject_all"}).status_code == 200
    assert log.overflowed == 10 - kept


def test_consents_status_reports_pending_records_their_age_and_the_last_error(
    site: Site, logs: list[ConsentLog], capsys: pytest.CaptureFixture[str]
) -> None:
    log = spooled_log(site, logs)
    for _ in range(3):
        log.record(event())
    assert log.flush(timeout=0.2) is False  # the shipper has met the missing database
    assert main(["consents", "status", "--db", site.url, "--spool", str(site.spool)]) == 0
    out = capsys.readouterr().out
    assert "pending             3" in out
    assert "oldest pending age" in out
    assert "unable to open database file" in out

    site.restore()
    assert log.flush(timeout=DEADLINE)
    assert main(["consents", "status", "--db", site.url, "--spool", str(site.spool)]) == 0
    out = capsys.readouterr().out
    assert "pending             0" in out
    assert "stored              3" in out
    error = json.loads((site.spool / "last-error.json").read_text())
    assert datetime.fromisoformat(error["at"].replace("Z", "+00:00")) <= datetime.now(timezone.utc)
