"""The spool against a real PostgreSQL and real uvicorn processes: outages, kills, workers.

Each test serves ``tests.support.consentlog:spool_app`` with ``uvicorn`` in a process
of its own on a loopback port, posts 2,000 consents from 50 concurrent clients, and
counts what reached the database: exactly one record per consent id answered.

One test stops the shared PostgreSQL server for a few seconds (``pg_ctlcluster``,
as root); it is started again however the test ends, and a detached watchdog
starts it in any case should this process die meanwhile. Without a server these
tests skip; with ``COOKIEGUARD_REQUIRE_POSTGRES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from tests.support.consentlog import CONSENT_PATH, SPOOL_APP_ENV, drop_tables, fresh_prefix
from tests.support.consentlog import postgres_url as find_postgres

from cookieguard.consentlog import ConsentStore, spool_status

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
CONSENTS, CLIENTS = 2_000, 50
DEADLINE = 120.0  # seconds any one phase may take before the test fails
CLUSTER = ("15", "main")


@pytest.fixture(scope="module")
def pg_url() -> str:
    return find_postgres()


@dataclass
class Site:
    url: str
    prefix: str
    spool: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            **dict(zip(SPOOL_APP_ENV, self.values, strict=True)),
        }

    @property
    def values(self) -> tuple[str, str, str]:
        return self.url, self.prefix, str(self.spool)

    def stored(self) -> tuple[int, set[str]]:
        """How many records the table holds, and their distinct consent ids."""
        with ConsentStore(self.url, table_prefix=self.prefix) as store:
            return store.count(), {r.consent_id for r in store.records()}


@pytest.fixture
def site(pg_url: str, tmp_path: Path) -> Iterator[Site]:
    prefix = fresh_prefix()
    yield Site(pg_url, prefix, tmp_path / "spool")
    drop_tables(pg_url, prefix)


def until(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline} s: {what}")
        time.sleep(0.02)


@contextmanager
def uvicorn(site: Site, *, workers: int = 1) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``uvicorn --factory tests.support.consentlog:spool_app`` on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.support.consentlog:spool_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=site.env, cwd=ROOT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert server.poll() is None, "uvicorn exited"
        try:
            return httpx.get(base_url + CONSENT_PATH, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        until(answers, "uvicorn answers")
        yield server, base_url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(30)


@dataclass
class Load:
    """Consents posted so far: the answers' statuses and the ids the endpoint gave."""

    statuses: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def post_consents(base_url: str, count: int, load: Load) -> None:
    """``count`` consents from CLIENTS concurrent clients, each answer noted in ``load``."""

    async def run() -> None:
        limits = httpx.Limits(max_connections=CLIENTS)
        left = iter(range(count))
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

            async def visitor() -> None:
                for n in left:
                    answer = await client.post(
                        CONSENT_PATH,
                        json={"action": "accept_all" if n % 2 else "reject_all"},
                        headers={"user-agent": f"visitor {n}"},
                    )
                    load.statuses.append(answer.status_code)
                    load.ids.append(answer.json()["consent_id"])

            await asyncio.gather(*(visitor() for _ in range(CLIENTS)))

    asyncio.run(run())


def flush(base_url: str) -> dict[str, object]:
    answer = httpx.post(f"{base_url}/flush", params={"timeout": DEADLINE}, timeout=DEADLINE + 10)
    result: dict[str, object] = answer.json()
    return result


def assert_stored_once(site: Site, load: Load) -> None:
    assert set(load.statuses) == {200}
    assert len(load.ids) == len(set(load.ids)) == CONSENTS
    count, ids = site.stored()
    assert count == CONSENTS
    assert ids == set(load.ids)


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", *CLUSTER, action, *(["-m", "fast"] * (action == "stop"))],
        check=True,
        timeout=60,
        capture_output=True,
    )


def pg_is_up() -> bool:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    return any(
        line.split()[:2] == list(CLUSTER) and "online" in line for line in out.stdout.splitlines()
    )


@contextmanager
def postgres_stopped() -> Iterator[None]:
    """PostgreSQL down for the ``with`` body; started again however the body ends."""
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        pytest.skip("stopping PostgreSQL needs pg_ctlcluster and root")
    watchdog = subprocess.Popen(  # should this process die with the server down
        ["sh", "-c", f"sleep 120; pg_ctlcluster {' '.join(CLUSTER)} start"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pg_ctl("stop")
        yield
    finally:
        if not pg_is_up():
            pg_ctl("start")
        watchdog.kill()
        watchdog.wait()


def test_a_postgresql_outage_under_load_loses_and_doubles_nothing(site: Site) -> None:
    load = Load()
    with uvicorn(site) as (_, base_url):
        poster = threading.Thread(target=post_consents, args=(base_url, CONSENTS, load))
        poster.start()
        try:
            until(lambda: len(load.ids) >= 300, "300 consents answered before the outage")
            with postgres_stopped():
                stopped_at, answered = time.monotonic(), len(load.ids)

                def outage_felt() -> bool:  # several seconds, under load, and seen failing
                    error = spool_status(site.spool).last_error
                    return (
                        time.monotonic() - stopped_at >= 3
                        and len(load.ids) >= answered + 100
                        and error is not None
                    )

                until(outage_felt, "3 s and 100 consents into the outage, shipping failing")
                pending_in_outage = spool_status(site.spool).pending
        finally:
            poster.join(DEADLINE)
        assert pending_in_outage > 0
        assert flush(base_url) == {"flushed": True, "pending": 0}
    assert_stored_once(site, load)


def test_a_killed_process_restarted_on_its_spool_loses_and_doubles_nothing(site: Site) -> None:
    with ConsentStore(site.url, table_prefix=site.prefix) as store:
        store.open()
    engine = sa.create_engine(site.url)
    load = Load()
    try:
        with engine.connect() as blocker:  # every insert waits: records stay pending
            blocker.exec_driver_sql(f"LOCK TABLE {site.prefix}consents IN ACCESS EXCLUSIVE MODE")
            with uvicorn(site) as (server, base_url):
                post_consents(base_url, CONSENTS // 2, load)
                until(lambda: spool_status(site.spool).pending == CONSENTS // 2, "all spooled")
                os.killpg(server.pid, signal.SIGKILL)  # mid-batch: its insert is waiting
                server.wait(DEADLINE)
            blocker.rollback()
    finally:
        engine.dispose()
    assert spool_status(site.spool).pending == CONSENTS // 2
    assert site.stored()[0] == 0

    with uvicorn(site) as (_, base_url):  # the next process on the spool ships the leftovers
        post_consents(base_url, CONSENTS // 2, load)
        assert flush(base_url) == {"flushed": True, "pending": 0}
    assert_stored_once(site, load)


def test_four_workers_on_one_spool_lose_and_double_nothing(site: Site) -> None:
    load = Load()
    with uvicorn(site, workers=4) as (_, base_url):
        post_consents(base_url, CONSENTS, load)
        segments = len(list(site.spool.glob("*.seg")))
        assert flush(base_url) == {"flushed": True, "pending": 0}
    assert segments >= 2  # more than one worker took consents
    assert_stored_once(site, load)
    assert spool_status(site.spool).pending == 0
