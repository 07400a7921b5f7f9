"""Memory: a large streamed response through each adapter, RSS measured in a fresh process.

``python -m benchmarks.memory KIND BYTES`` streams BYTES through one adapter and
prints the RSS growth in KiB; :func:`streamed` runs it once per adapter.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from . import apps

CHUNK = 64 * 1024
KINDS = {
    "asgi": "raw ASGI app, cookieguard ASGI",
    "starlette": "Starlette StreamingResponse, cookieguard ASGI",
    "wsgi": "raw WSGI generator, cookieguard WSGI",
    "flask": "Flask streamed response, CookieGuard",
}
HEADERS = [("content-type", "application/octet-stream")] + [
    ("set-cookie", f"{name}={value}; Path=/") for name, value, _ in apps.SET_COOKIES
]


def _kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    try:  # Linux >= 4.0: writing 5 resets VmHWM to the current RSS
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // CHUNK):
        yield b"x" * CHUNK  # a fresh chunk each time, as a real stream would produce


def _asgi_app(kind: str, total: int) -> apps.ASGIApp:
    from starlette.responses import StreamingResponse

    from cookieguard.asgi import CookieGuardMiddleware

    async def raw(scope: Any, receive: Any, send: Any) -> None:
        headers = [(k.encode(), v.encode()) for k, v in HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in _chunks(total):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        response = StreamingResponse(_chunks(total), headers=None)
        response.raw_headers += [(k.encode(), v.encode()) for k, v in HEADERS]
        await response(scope, receive, send)

    app = raw if kind == "asgi" else streaming
    return CookieGuardMiddleware(app, registry=apps.REGISTRY, secret_key=apps.SECRET)


def _run_asgi(kind: str, total: int) -> int:
    from .driver import asgi_scope

    app = _asgi_app(kind, total)
    received = 0

    async def receive() -> Any:
        await asyncio.Event().wait()  # the client never disconnects

    async def send(message: Any) -> None:
        nonlocal received
        received += len(message.get("body", b""))

    async def main() -> None:
        await app(asgi_scope(apps.COOKIE_HEADER), receive, send)

    asyncio.run(main())
    return received


def _run_wsgi(kind: str, total: int) -> int:
    from flask import Flask, Response

    from cookieguard.flask import CookieGuard
    from cookieguard.wsgi import CookieGuardMiddleware

    from .driver import wsgi_environ

    def raw(environ: Any, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", list(HEADERS))
        yield from _chunks(total)

    if kind == "wsgi":
        app: Any = CookieGuardMiddleware(raw, registry=apps.REGISTRY, secret_key=apps.SECRET)
    else:
        app = Flask("memory")
        app.secret_key = apps.SECRET
        app.add_url_rule("/", "stream", lambda: Response(_chunks(total), headers=HEADERS))
        CookieGuard(app, registry=apps.REGISTRY)
    body = app(wsgi_environ(apps.COOKIE_HEADER), lambda status, headers, exc_info=None: None)
    received = sum(len(chunk) for chunk in body)
    getattr(body, "close", lambda: None)()
    return received


def child(kind: str, total: int) -> None:
    run = _run_asgi if kind in ("asgi", "starlette") else _run_wsgi
    run(kind, 64 * CHUNK)  # warm up: imports and first-call allocations
    before = _kib("VmRSS")
    _reset_peak()
    received = run(kind, total)
    assert received == total // CHUNK * CHUNK, received
    print(before, _kib("VmHWM"), _kib("VmRSS"))


def streamed(gib: float) -> bool:
    total = int(gib * 1024**3) // CHUNK * CHUNK
    print(
        f"\nMemory: {total / 1024**2:.0f} MiB streamed in {CHUNK // 1024} KiB chunks, "
        "one fresh process per adapter\n"
    )
    print("| adapter | RSS before MiB | peak MiB | growth MiB |")
    print("|---|---:|---:|---:|")
    worst = 0.0
    for kind, label in KINDS.items():
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", kind, str(total)],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        ).stdout
        before, peak, _after = (int(x) for x in out.split())
        growth = (peak - before) / 1024
        worst = max(worst, growth)
        print(f"| {label} | {before / 1024:.1f} | {peak / 1024:.1f} | {growth:.2f} |")
    ok = worst < 5
    print(f"- RSS growth < 5 MiB: worst {worst:.2f} MiB -> {'met' if ok else 'NOT met'}")
    return ok


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))
