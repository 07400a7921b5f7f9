"""What the consent log tests share: a registry, an app that logs, a real PostgreSQL.

The PostgreSQL server is the one ``.ci/run`` starts on loopback; its URL comes
from ``COOKIEGUARD_TEST_POSTGRES_URL``. Without a server the tests skip, unless
``COOKIEGUARD_REQUIRE_POSTGRES=1`` (as in CI), where they fail.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from cookieguard import Category, Consent, Cookie, Registry, RequestConsent
from cookieguard.asgi import CookieGuardMiddleware
from cookieguard.consentlog import ConsentLog
from cookieguard.endpoint import ConsentEvent, EndpointRequest

SECRET_KEY = "consent-log-tests"
CONSENT_PATH = "/cookieguard/consent"
DEFAULT_POSTGRES_URL = (
    "postgresql+psycopg://cookieguard:cookieguard@127.0.0.1:5432/cookieguard_test"
)

CATEGORIES = (
    Category("necessary", required=True, label="Strictly necessary"),
    Category("statistics", label="Statistics", description="Counting visits"),
    Category("marketing", label="Marketing", gpc_opt_out=True),
)
COOKIES = (
    Cookie("sessionid", "necessary", provider="Us", purpose="Remember the session"),
    Cookie("_pk_id.*", "statistics", provider="Matomo", purpose="Returning visitors"),
    Cookie("_fbp", "marketing", provider="Meta", purpose="Advertising"),
)
REGISTRY = Registry(CATEGORIES, COOKIES, revision=3)


def logging_app(log: ConsentLog, registry: Registry = REGISTRY) -> Starlette:
    """A one-page Starlette site behind the middleware, recording into ``log``."""

    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse("home")

    async def flush(request: Request) -> JSONResponse:
        flushed = await run_in_threadpool(log.flush, float(request.query_params["timeout"]))
        return JSONResponse({"flushed": flushed, "pending": log.pending()})

    return Starlette(
        routes=[Route("/", home), Route("/flush", flush, methods=["POST"])],
        middleware=[
            Middleware(
                CookieGuardMiddleware, registry=registry, secret_key=SECRET_KEY, on_consent=log
            )
        ],
    )


#: The environment :func:`spool_app` reads: the log's URL, table prefix and spool.
SPOOL_APP_ENV = (
    "COOKIEGUARD_TEST_LOG_URL",
    "COOKIEGUARD_TEST_LOG_PREFIX",
    "COOKIEGUARD_TEST_SPOOL",
)


def spool_app() -> Starlette:
    """``uvicorn --factory tests.support.consentlog:spool_app``: a site logging through a spool.

    ``POST /flush?timeout=S`` answers whether the spool emptied within ``S`` seconds.
    """
    url, prefix, spool = (os.environ[name] for name in SPOOL_APP_ENV)
    return logging_app(ConsentLog(url, registry=REGISTRY, table_prefix=prefix, spool=spool))


def event(
    *,
    granted: frozenset[str] = frozenset({"necessary"}),
    action: str = "save",
    given_at: datetime | None = None,
    client: str | None = "203.0.113.77",
    headers: dict[str, str] | None = None,
    gpc: bool = False,
    previous: Consent | None = None,
    consent_id: str | None = None,
) -> ConsentEvent:
    """A consent event as the endpoint builds it, for records at chosen times."""
    consent = Consent(
        granted=granted,
        revision=REGISTRY.revision,
        consent_id=consent_id or str(uuid.uuid4()),
        given_at=given_at or datetime.now(timezone.utc),
    )
    request = EndpointRequest(
        method="POST", path=CONSENT_PATH, scheme="https", headers=headers or {}, client=client
    )
    return ConsentEvent(consent, action, request, RequestConsent(granted, consent, gpc), previous)


async def post_concurrently(base_url: str, count: int) -> list[str]:
    """``count`` visitors accept at once; the consent ids the endpoint answered."""
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:

        async def accept(n: int) -> str:
            answer = await client.post(
                CONSENT_PATH, json={"action": "accept_all"}, headers={"user-agent": f"visitor {n}"}
            )
            answer.raise_for_status()
            consent_id: str = answer.json()["consent_id"]
            return consent_id

        return list(await asyncio.gather(*(accept(n) for n in range(count))))


def postgres_url() -> str:
    """The test server's URL, once it answers; skip (or fail in CI) when it does not."""
    url = os.environ.get("COOKIEGUARD_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = f"no PostgreSQL server at {engine.url!r}: {exc.orig}"
        if os.environ.get("COOKIEGUARD_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (COOKIEGUARD_REQUIRE_POSTGRES=1: .ci/run starts one)")
        pytest.skip(reason + " (run .ci/run's PostgreSQL section to start one)")
    finally:
        engine.dispose()
    return url


def drop_tables(url: str, prefix: str) -> None:
    """Drop the tables a test created under ``prefix``."""
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine, only=lambda name, _: name.startswith(prefix))
        metadata.drop_all(engine)
    finally:
        engine.dispose()


OpenLog = Callable[..., ConsentLog]


@contextmanager
def log_opener(url: str, **defaults: Any) -> Iterator[OpenLog]:
    """Open logs on ``url`` (or a URL given to the opener); every one is closed at the end."""
    opened: list[ConsentLog] = []

    def open_(other_url: str | None = None, **options: Any) -> ConsentLog:
        log = ConsentLog(other_url or url, **{"registry": REGISTRY, **defaults, **options})
        opened.append(log)
        return log

    try:
        yield open_
    finally:
        for log in opened:
            log.close()


def fresh_prefix() -> str:
    """A table prefix of its own for one test, so tests never see each other's rows."""
    return f"t{uuid.uuid4().hex[:10]}_"


#: The databases every consent-log behaviour is checked on.
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@dataclass(frozen=True)
class Database:
    """Where one test logs: a URL and a table prefix of its own."""

    url: str
    prefix: str

    @property
    def cli(self) -> list[str]:
        """The ``cookieguard consents`` options that name this log."""
        return ["--db", self.url, "--table-prefix", self.prefix]

    def execute(self, sql: str) -> list[Any]:
        """Run one statement (``{prefix}`` is replaced) and return its rows, if any."""
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(sql.replace("{prefix}", self.prefix)))
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite file, or fresh tables on the test PostgreSQL server (dropped after)."""
    if kind == "sqlite":
        yield Database(f"sqlite:///{tmp_path / 'consent.db'}", "cookieguard_")
        return
    url, prefix = postgres_url(), fresh_prefix()
    try:
        yield Database(url, prefix)
    finally:
        drop_tables(url, prefix)


def open_at_once(url: str, count: int, **options: object) -> list[ConsentLog]:
    """``count`` workers open the same new log at the same moment, as a deployment does."""
    barrier = threading.Barrier(count)
    logs: list[ConsentLog] = []

    def start() -> None:
        barrier.wait()
        logs.append(ConsentLog(url, registry=REGISTRY, **options))  # type: ignore[arg-type]

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return logs
