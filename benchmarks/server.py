"""Real server: uvicorn serving the bare and the guarded app on loopback, loaded with wrk."""

from __future__ import annotations

import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

from . import apps

WRK = ("-t2", "-c50")
PAIRS = 2  # bare, guarded, bare, guarded: drift hits both alike


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"uvicorn did not listen on 127.0.0.1:{port} within {timeout} s")


def _requests_per_second(factory: str, duration: int) -> float:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"benchmarks.apps:{factory}",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command)
    try:
        _wait_for(port)
        out = subprocess.run(
            [
                "wrk",
                *WRK,
                f"-d{duration}s",
                "-H",
                f"Cookie: {apps.COOKIE_HEADER}",
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 30,
        ).stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None or "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk output not understood or errors seen:\n{out}")
    return float(match.group(1))


def wrk_ratio(duration: int) -> bool:
    print(
        f"\nReal server: uvicorn (1 worker) on 127.0.0.1, wrk {' '.join(WRK)} -d{duration}s, "
        f"{PAIRS} alternating runs each\n"
    )
    if shutil.which("wrk") is None:
        print("- skipped: wrk is not installed (Debian: apt-get install wrk)")
        return True
    bare: list[float] = []
    guarded: list[float] = []
    for _ in range(PAIRS):
        bare.append(_requests_per_second("bare_starlette", duration))
        guarded.append(_requests_per_second("guarded_starlette", duration))
    print("| app | requests/s (each run) | mean |")
    print("|---|---|---:|")
    for name, runs in (("bare Starlette", bare), ("cookieguard (ASGI)", guarded)):
        print(f"| {name} | {', '.join(f'{r:.0f}' for r in runs)} | {statistics.mean(runs):.0f} |")
    ratio = statistics.mean(guarded) / statistics.mean(bare)
    ok = ratio >= 0.97
    verdict = "met" if ok else "NOT met"
    print(f"- throughput with cookieguard >= 97 % of bare: {ratio:.1%} -> {verdict}")
    return ok
