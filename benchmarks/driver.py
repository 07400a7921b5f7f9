"""A minimal in-process driver: the same prepared request for every variant.

The ASGI driver awaits ``app(scope, receive, send)`` in one coroutine with a
copy of a prepared scope; the WSGI driver calls ``app(environ, start_response)``
with a copy of a prepared environ and drains the body. The driver's own cost is
small and identical for all variants, so differences are the middleware's.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.test import EnvironBuilder

from .apps import ASGIApp, Message, WSGIApp


def asgi_scope(
    cookie_header: str | None, *, extra: Iterable[tuple[str, str]] = ()
) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if cookie_header:
        headers.append((b"cookie", cookie_header.encode("latin-1")))
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def wsgi_environ(cookie_header: str | None) -> dict[str, Any]:
    headers = [("User-Agent", "bench"), ("Accept", "*/*")]
    if cookie_header:
        headers.append(("Cookie", cookie_header))
    return EnvironBuilder(path="/", base_url="http://127.0.0.1:8000", headers=headers).get_environ()


_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> Message:
    return _REQUEST


async def _send(message: Message) -> None:
    return None


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return None


def asgi_runner(app: ASGIApp, scope: Mapping[str, Any]) -> Callable[[int], float]:
    """A function running ``n`` requests through ``app``; returns CPU seconds used."""
    loop = asyncio.new_event_loop()

    async def many(n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            await app(dict(scope), _receive, _send)
        return time.process_time() - started

    return lambda n: loop.run_until_complete(many(n))


def wsgi_runner(app: WSGIApp, environ: Mapping[str, Any]) -> Callable[[int], float]:
    def many(n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            body = app(dict(environ), _start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return time.process_time() - started

    return many


@dataclass(frozen=True)
class Timing:
    """Microseconds per request, one sample per round."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        return max(self.samples) - min(self.samples)

    def over(self, base: Timing) -> Timing:
        """Round-by-round difference: the variants ran interleaved, so pairs share conditions."""
        return Timing(tuple(a - b for a, b in zip(self.samples, base.samples, strict=True)))


SLICE = 500


def measure(
    runners: Mapping[str, Callable[[int], float]], n: int, rounds: int
) -> dict[str, Timing]:
    """µs/request for each of ``rounds`` rounds of ``n`` requests per variant.

    Within a round the variants take turns in slices of ``SLICE`` requests, and the
    clock is the process's CPU time: on a busy machine, other processes then slow
    no variant more than another.
    """
    for run in runners.values():  # warm up: imports, caches, first-call paths
        run(max(n // 10, 200))
    samples: dict[str, list[float]] = {name: [] for name in runners}
    slices = [SLICE] * (n // SLICE) + ([n % SLICE] if n % SLICE else [])
    for _ in range(rounds):
        spent = dict.fromkeys(runners, 0.0)
        gc.collect()
        for size in slices:
            for name, run in runners.items():
                spent[name] += run(size)
        for name in runners:
            samples[name].append(spent[name] / n * 1e6)
    return {name: Timing(tuple(values)) for name, values in samples.items()}
