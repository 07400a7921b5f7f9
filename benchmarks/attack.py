"""Worst case an attacker can build: CPU per request, and memory over many Cookie headers.

``attack`` part: the slowest request within an 8 KiB ``Cookie`` header against a
200-glob registry (each shape sent with a fresh header every time, so no memory
of an earlier request helps), CPU time per request through the ASGI middleware;
target < 2 ms. ``python -m benchmarks.attack memory`` (run in a fresh process by
the ``attack`` part) sends 10,000 distinct 4 KiB Cookie headers and prints the
growth of resident memory in KiB; target < 32 MiB.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from cookieguard import Category, Consent, ConsentCodec, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware

from . import apps
from .driver import asgi_scope

LIMIT = 8 * 1024  # the Cookie header size most servers accept
CPU_TARGET_MS = 2.0
MEMORY_TARGET_KIB = 32 * 1024
_CATEGORIES = ("necessary", "preferences", "statistics", "marketing")


def glob_registry() -> Registry:
    """200 globs of the usual shape (``vendor042_*``) over four categories."""
    return Registry(
        categories=[Category("necessary", required=True), *(Category(c) for c in _CATEGORIES[1:])],
        cookies=[
            *apps.REGISTRY.cookies,
            *(Cookie(f"vendor{i:03d}_*", _CATEGORIES[i % 4]) for i in range(200)),
        ],
    )


def star_registry() -> Registry:
    """200 globs with many stars, the shape that made a backtracking regex explode."""
    return Registry(
        categories=[Category("necessary", required=True), Category("statistics")],
        cookies=[Cookie(f"a*a*a*a*{i:03d}b", "statistics") for i in range(200)],
    )


def _fill(piece: Callable[[int], str], salt: int) -> str:
    """As many ``piece(i)`` as fit in :data:`LIMIT` bytes, joined as a browser joins them."""
    parts: list[str] = []
    size = 0
    i = 0
    while True:
        text = piece(i).replace("@", f"{salt:x}")
        if size + len(text) + 2 > LIMIT:
            return "; ".join(parts)
        parts.append(text)
        size += len(text) + 2
        i += 1


def shapes() -> dict[str, tuple[Registry, Callable[[int], str]]]:
    """Attack name -> (registry, a function of a salt giving a fresh 8 KiB header)."""
    consent = ConsentCodec(apps.SECRET).dumps(Consent(frozenset({"statistics"}), 1))
    globs, stars = glob_registry(), star_registry()
    return {
        "shortest names, each matching a glob (refused: withdrawn)": (
            globs,
            lambda s: _fill(lambda i: f"vendor{(i * 4 + 3) % 200:03d}_@{i}=", s),
        ),
        "names matching no glob": (globs, lambda s: _fill(lambda i: f"@x{i}=", s)),
        "UTF-8 names, each matching a glob": (
            globs,
            lambda s: _fill(lambda i: f"vendor{i % 200:03d}_@\xc3\xa9{i}=", s),
        ),
        "one 8 KiB name": (globs, lambda s: f"vendor001_{s}" + "x" * (LIMIT - 20) + "=1"),
        "a*a*a*a* names against many-star globs": (
            stars,
            lambda s: _fill(lambda i: "@" + "a" * 60 + f"{i}=", s),
        ),
        "one 8 KiB a*a*a* name": (stars, lambda s: f"{s}" + "a" * (LIMIT - 20) + "=1"),
        "valid consent, then names": (
            globs,
            lambda s: (
                f"{apps.CONSENT_COOKIE}={consent}; "
                + _fill(lambda i: f"vendor{i % 200:03d}_@{i}=v", s)[: LIMIT - 200]
            ),
        ),
    }


def _app() -> apps.ASGIApp:
    headers = [(b"content-type", b"text/plain")] + [
        (b"set-cookie", f"vendor{j:03d}_s=v; Path=/; Max-Age=3600".encode()) for j in range(20)
    ]
    return apps.raw_asgi_app(headers)


def cpu_per_request(registry: Registry, header: Callable[[int], str], n: int) -> float:
    """Median CPU milliseconds of one request with a header never seen before."""
    guard = CookieGuardMiddleware(_app(), registry=registry, secret_key=apps.SECRET)
    scopes = [asgi_scope(header(salt)) for salt in range(n)]
    loop = asyncio.new_event_loop()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    timings = []
    try:
        for scope in scopes:
            started = time.process_time()
            loop.run_until_complete(guard(scope, receive, send))
            timings.append(time.process_time() - started)
    finally:
        loop.close()
    timings.sort()
    return timings[len(timings) // 2] * 1000


def worst_request(n: int) -> bool:
    print(f"\nWorst request within an {LIMIT // 1024} KiB Cookie header (CPU ms, median of {n})\n")
    print("| attack | header bytes | CPU ms/request |")
    print("|---|---:|---:|")
    worst = 0.0
    for name, (registry, header) in shapes().items():
        ms = cpu_per_request(registry, header, n)
        worst = max(worst, ms)
        print(f"| {name} | {len(header(0))} | {ms:.3f} |")
    ok = worst < CPU_TARGET_MS
    print(
        f"- worst request < {CPU_TARGET_MS} ms CPU: {worst:.3f} ms -> {'met' if ok else 'NOT met'}"
    )
    return ok


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def memory_growth(count: int = 10_000) -> int:
    """RSS growth (KiB) after ``count`` distinct 4 KiB Cookie headers, in this process."""
    registry = glob_registry()
    guard = CookieGuardMiddleware(_app(), registry=registry, secret_key=apps.SECRET)
    consent = ConsentCodec(apps.SECRET).dumps(Consent(frozenset({"statistics"}), 1))
    loop = asyncio.new_event_loop()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    def header(salt: int) -> str:
        names = "; ".join(f"vendor{(salt + i) % 200:03d}_{salt}_{i}=v{i}" for i in range(120))
        return f"{apps.CONSENT_COOKIE}={consent}; {names}"[:4096]

    for salt in range(200):  # warm up: imports, first tables
        loop.run_until_complete(guard(asgi_scope(header(-salt - 1)), receive, send))
    before = _rss_kib()
    for salt in range(count):
        loop.run_until_complete(guard(asgi_scope(header(salt)), receive, send))
    loop.close()
    return _rss_kib() - before


def memory() -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.attack", "memory"],
        capture_output=True,
        text=True,
        check=True,
    )
    kib = int(result.stdout.split()[-1])
    ok = kib < MEMORY_TARGET_KIB
    print(
        f"- resident memory after 10,000 distinct 4 KiB Cookie headers grows < 32 MiB: "
        f"{kib / 1024:.1f} MiB -> {'met' if ok else 'NOT met'}"
    )
    return ok


def attack(n: int) -> bool:
    return worst_request(n) & memory()


if __name__ == "__main__":
    if sys.argv[1:] == ["memory"]:
        print(memory_growth())
