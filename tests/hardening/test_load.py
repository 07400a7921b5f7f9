"""Load: the two examples under real servers on loopback, 200 connections at once.

The Starlette example runs under uvicorn, the Flask example under Werkzeug's
threaded server, each in a process of its own (so its memory can be read). An
asyncio client opens 200 keep-alive connections, each with its own consent state
(none, everything, one category, forged, everything with ``Sec-GPC: 1``), and asks
every connection's ``/set-cookies`` page, which sets every declared cookie and one
undeclared, over and over. Every response is checked: status 200, and exactly the
cookies the connection's consent allows (the independent oracle), no more, no less.

The run is bounded by a request count per connection and a time budget. Memory:
the server's RSS after a warm-up round and after the measured run must stay within
``RSS_GROWTH_LIMIT``; the middleware's only per-visitor state (the decode cache) is
bounded, so a per-request leak of even a few hundred bytes would exceed it.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.hardening import FIGURES, Oracle

from cookieguard import Registry
from cookieguard.consent import Consent, ConsentCodec

pytestmark = pytest.mark.load

ROOT = Path(__file__).resolve().parents[2]
SECRET = "load-test-secret"
CONNECTIONS = 200
#: Requests per connection in the measured run (and in the warm-up round).
REQUESTS = 50 if os.environ.get("CI") else 10
WARM_UP = 5
#: Wall-clock budget of one measured run; connections stop asking when it is spent.
TIME_BUDGET = 60.0
#: Allowed RSS growth between the end of the warm-up and the end of the run.
RSS_GROWTH_LIMIT = 8 * 1024 * 1024
IO_TIMEOUT = 30.0
EXAMPLES = {"asgi": "examples.starlette_app.app", "wsgi": "examples.flask_app.app"}


@dataclass
class Tally:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(params=["asgi", "wsgi"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, int, Registry, set[str]]]:
    kind = request.param
    env = {**os.environ, "COOKIEGUARD_EXAMPLE_SECRET": SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.hardening.serve", kind],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        example = importlib.import_module(EXAMPLES[kind])
        names = {cookie.name for cookie in example.DEMO_COOKIES}
        yield kind, port, process.pid, example.registry, names
    finally:
        process.terminate()
        process.wait(IO_TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()


@dataclass(frozen=True)
class Visitor:
    """One connection's consent: the Cookie and Sec-GPC headers, and what may be set."""

    label: str
    headers: bytes
    expected: frozenset[str]


def visitors(registry: Registry, names: set[str]) -> list[Visitor]:
    codec = ConsentCodec(SECRET)
    forger = ConsentCodec("not-the-secret")
    oracle = Oracle(registry.categories, registry.cookies, registry.revision, "cookies_preferences")
    optional = [c.name for c in registry.categories if not c.required]
    states: list[tuple[str, str | None, frozenset[str] | None, bool]] = []
    for i in range(CONNECTIONS):
        one = frozenset({optional[i % len(optional)]})
        granted = frozenset(optional) if i % 5 in (1, 4) else one
        consent = Consent(granted, registry.revision, f"load-{i}")
        states.append(
            [
                ("none", None, None, False),
                ("everything", codec.dumps(consent), granted, False),
                ("one category", codec.dumps(consent), granted, False),
                ("forged", forger.dumps(consent), None, False),
                ("everything, GPC", codec.dumps(consent), granted, True),
            ][i % 5]
        )
    result = []
    for label, token, granted, gpc in states:
        allowed = oracle.allowed_categories(granted, gpc)
        expected = frozenset(n for n in names if oracle.may_set(n, allowed))
        headers = b""
        if token is not None:
            headers += b"Cookie: cookies_preferences=" + token.encode() + b"\r\n"
        if gpc:
            headers += b"Sec-GPC: 1\r\n"
        result.append(Visitor(label, headers, expected))
    return result


async def read_response(reader: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [(k.strip().lower(), v.strip()) for k, _, v in (x.partition(":") for x in lines if x)]
    fields = dict(headers)
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    return int(status_line.split()[1]), headers


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), IO_TIMEOUT)


async def connection(
    port: int, visitor: Visitor, count: int, deadline: float, tally: Tally
) -> None:
    """One keep-alive connection asking ``count`` pages (reconnecting when told to close)."""
    request = b"GET /set-cookies HTTP/1.1\r\nHost: 127.0.0.1\r\n" + visitor.headers + b"\r\n"
    writer = None
    try:
        reader, writer = await connect(port)
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            writer.write(request)
            status, headers = await asyncio.wait_for(read_response(reader), IO_TIMEOUT)
            tally.requests += 1
            if status != 200:
                tally.errors.append(f"{visitor.label}: status {status}")
            set_now = {
                v.partition("=")[0].strip()
                for k, v in headers
                if k == "set-cookie" and "max-age=0" not in v.lower().replace(" ", "")
            }
            if set_now - visitor.expected:
                tally.leaks.append(f"{visitor.label}: {sorted(set_now - visitor.expected)}")
            if visitor.expected - set_now:
                dropped = sorted(visitor.expected - set_now)
                tally.errors.append(f"{visitor.label}: dropped {dropped}")
            if ("connection", "close") in headers:  # Werkzeug's server closes after each response
                writer.close()
                reader, writer = await connect(port)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as failed:
        tally.errors.append(f"{visitor.label}: {failed!r}")
    finally:
        if writer is not None:
            writer.close()


async def run(port: int, crowd: list[Visitor], count: int) -> tuple[Tally, float]:
    tally = Tally()
    started = time.monotonic()
    deadline = started + TIME_BUDGET
    await asyncio.gather(*(connection(port, v, count, deadline, tally) for v in crowd))
    return tally, time.monotonic() - started


def test_200_connections_no_error_no_leak_flat_memory(
    server: tuple[str, int, int, Registry, set[str]],
) -> None:
    kind, port, pid, registry, names = server
    crowd = visitors(registry, names)
    assert {v.label for v in crowd} == {
        "none",
        "everything",
        "one category",
        "forged",
        "everything, GPC",
    }

    warm, _ = asyncio.run(run(port, crowd, WARM_UP))
    assert warm.errors == [] and warm.leaks == []
    before = rss(pid)
    tally, seconds = asyncio.run(run(port, crowd, REQUESTS))
    after = rss(pid)

    FIGURES[f"load {kind}: requests"] += warm.requests + tally.requests
    FIGURES[f"load {kind}: connections"] += CONNECTIONS
    FIGURES[f"load {kind}: errors"] += len(warm.errors) + len(tally.errors)
    FIGURES[f"load {kind}: leaked cookies"] += len(warm.leaks) + len(tally.leaks)
    FIGURES[f"load {kind}: RSS growth KiB"] += (after - before) // 1024
    FIGURES[f"load {kind}: seconds (measured run)"] += round(seconds)

    assert tally.errors == [], tally.errors[:5]
    assert tally.leaks == [], tally.leaks[:5]
    assert tally.requests >= CONNECTIONS  # every connection was served at least once
    assert after - before <= RSS_GROWTH_LIMIT
