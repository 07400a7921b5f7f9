"""Consent POST latency through uvicorn: no log, a direct log, a spooled log; SQLite, PostgreSQL.

One uvicorn server (in a thread, on a loopback port) serves a guarded Starlette app
whose ``on_consent`` is each variant's log; clients post ``accept_all`` as JSON over
keep-alive connections, first one request at a time (what a visitor waits for on a
quiet site), then from 16 concurrent clients (a busy one). Median and p99 of the time to the answer.
PostgreSQL rows need the server of ``COOKIEGUARD_TEST_POSTGRES_URL`` (the tests'
one); without it they are left out. Every variant writes under its own tables and
spool, removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware

from cookieguard import Category, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware
from cookieguard.consentlog import ConsentLog

CONCURRENCY = 16
POSTGRES_URL = os.environ.get(
    "COOKIEGUARD_TEST_POSTGRES_URL",
    "postgresql+psycopg://cookieguard:cookieguard@127.0.0.1:5432/cookieguard_test",
)
REGISTRY = Registry(
    [Category("necessary", required=True), Category("statistics")],
    [Cookie("_pk_id.*", "statistics")],
)


@contextmanager
def _served(on_consent: Callable[..., Any] | None) -> Iterator[str]:
    app = Starlette(
        middleware=[
            Middleware(
                CookieGuardMiddleware, registry=REGISTRY, secret_key="bench", on_consent=on_consent
            )
        ]
    )
    sock = socket.socket()
    # Accepted sockets inherit it: the answer's head and body are two writes, and Nagle
    # would hold the second for the client's delayed ACK (40 ms on Linux).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="error", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/cookieguard/consent").raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


_BODY = b'{"action":"accept_all"}'
_REQUEST = (
    b"POST /cookieguard/consent HTTP/1.1\r\nhost: 127.0.0.1\r\n"
    b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(_BODY), _BODY)
)


def _latencies(base: str, n: int, clients: int) -> list[float]:
    """Each client a keep-alive connection, one write per request (no Nagle delay)."""
    host, port = base.removeprefix("http://").split(":")

    async def run() -> list[float]:
        times: list[float] = []
        left = iter(range(n))

        async def visitor() -> None:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in left:
                start = time.perf_counter()
                writer.write(_REQUEST)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                times.append(time.perf_counter() - start)
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(head.decode("latin-1"))
            writer.close()

        await asyncio.gather(*(visitor() for _ in range(clients)))
        return times

    return asyncio.run(run())


def _postgres_up() -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _drop(url: str, prefix: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=lambda name, _: name.startswith(prefix))
    metadata.drop_all(engine)
    engine.dispose()


def latency(n: int) -> bool:
    """Print the table; always true (there is no target, the figures are the result)."""
    print(
        f"\nConsent POST through uvicorn, ms: median / p99 of {n} sequential requests, "
        f"and of {n} from {CONCURRENCY} concurrent clients\n"
    )
    print("| consent log | sequential median | p99 | concurrent median | p99 | spooled left |")
    print("|---|---:|---:|---:|---:|---:|")
    databases = {"SQLite": "sqlite"}
    if _postgres_up():
        databases["PostgreSQL"] = POSTGRES_URL
    with tempfile.TemporaryDirectory() as tmp:
        variants: list[tuple[str, str | None, bool]] = [("none", None, False)]
        for name, url in databases.items():
            variants += [(f"{name}, direct", url, False), (f"{name}, spool", url, True)]
        for label, url, spooled in variants:
            prefix = f"bench{uuid.uuid4().hex[:8]}_"
            if url == "sqlite":
                url = f"sqlite:///{Path(tmp) / (prefix + '.db')}"
            spool = Path(tmp) / (prefix + "spool") if spooled else None
            log = None
            if url is not None:
                log = ConsentLog(url, registry=REGISTRY, table_prefix=prefix, spool=spool)
            try:
                with _served(log) as base:
                    _latencies(base, max(20, n // 10), 1)  # warm-up
                    one = sorted(_latencies(base, n, 1))
                    many = sorted(_latencies(base, n, CONCURRENCY))
                    left = log.pending() if log is not None else 0
                if log is not None:
                    log.flush(60)
            finally:
                if log is not None:
                    log.close()
                    if url is not None and not url.startswith("sqlite"):
                        _drop(url, prefix)
            cells = [_ms(one), _ms(many)]
            print(f"| {label} | {' | '.join(cells)} | {left} |")
    return True


def _ms(times: list[float]) -> str:
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return f"{statistics.median(times) * 1000:.2f} | {p99 * 1000:.2f}"
