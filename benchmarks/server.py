"""Real server: uvicorn serving the bare and the guarded app on loopback, loaded with wrk.

On a small shared VM, back-to-back runs of one app differ by tens of percent, because
other load comes and goes between them. So both servers run on the same core (taskset)
and two wrk processes, one per server, load them at the same time from the other core:
whatever else hits that core hits both servers alike, and the fair scheduler gives each
half of it. With both saturated, the ratio of requests/s is then the ratio of per-request
cost. A warm-up round is dropped, several short rounds follow, and the median per-round
ratio is the answer; the spread of the rounds says how far to trust it.
COOKIEGUARD_BENCH_CALIBRATE=1 also runs bare against bare, to check the method itself.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from . import apps

WRK = ("-t1", "-c16")  # per server; both wrk share a core and still outrun half a core each
ROUNDS = 5  # counted rounds, after one warm-up round
BARE = ("bare Starlette", "bare_starlette")
GUARDED = ("cookieguard (ASGI)", "guarded_starlette")
CALIBRATE = "COOKIEGUARD_BENCH_CALIBRATE"


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


def _http_implementation() -> str:
    """What uvicorn's ``--http auto`` would pick; passed explicitly so the label is true."""
    return "h11" if importlib.util.find_spec("httptools") is None else "httptools"


def _cpu_pins() -> tuple[list[str], list[str], str]:
    """taskset prefixes for the servers and for wrk, and how they were placed."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    taskset = shutil.which("taskset")
    if taskset is None or len(cpus) < 2:
        reason = "taskset not found" if taskset is None else f"{len(cpus) or 'unknown'} CPU(s)"
        return [], [], f"unpinned ({reason}: both servers and both wrk share the machine)"
    server_cpu, wrk_cpu = cpus[0], cpus[1]
    return (
        [taskset, "-c", str(server_cpu)],
        [taskset, "-c", str(wrk_cpu)],
        f"both servers on CPU {server_cpu}, both wrk on CPU {wrk_cpu}",
    )


@contextmanager
def _uvicorn(factory: str, http: str, pin: list[str]) -> Iterator[tuple[int, int]]:
    """One server for the whole part: a fresh process per run would measure start-up too."""
    port = _free_port()
    command = [
        *pin,
        sys.executable,
        "-m",
        "uvicorn",
        f"benchmarks.apps:{factory}",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        http,
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command)
    try:
        _wait_for(port)
        yield port, server.pid  # taskset execs, so this is uvicorn's own pid
    finally:
        _stop(server)


def _stop(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """Terminate, then kill if it lingers: no process may outlive the part."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, to see how the servers shared their core."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(port: int, seconds: int, pin: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *pin,
            "wrk",
            *WRK,
            f"-d{seconds}s",
            "-H",
            f"Cookie: {apps.COOKIE_HEADER}",
            f"http://127.0.0.1:{port}/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _requests_per_second(process: subprocess.Popen[str], seconds: int) -> float:
    out, err = process.communicate(timeout=seconds + 30)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if process.returncode or match is None or "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk failed, output not understood or errors seen:\n{out}{err}")
    return float(match.group(1))


@dataclass(frozen=True)
class Round:
    rps: tuple[float, float]  # first app, second app
    cpu: tuple[float, float] | None  # server CPU seconds over the round, if /proc has them
    wall: float

    @property
    def ratio(self) -> float:
        return self.rps[1] / self.rps[0]


def _round(servers: list[tuple[int, int]], seconds: int, pin: list[str], flip: bool) -> Round:
    """Both wrk start together, so both servers see the same interference at the same time."""
    order = [1, 0] if flip else [0, 1]  # alternate which starts first, a few ms ahead
    before = [_cpu_seconds(pid) for _, pid in servers]
    start = time.monotonic()
    loads: dict[int, subprocess.Popen[str]] = {}
    try:
        for i in order:
            loads[i] = _wrk(servers[i][0], seconds, pin)
        first, second = (_requests_per_second(loads[i], seconds) for i in (0, 1))
    finally:
        for load in loads.values():
            _stop(load)
    wall = time.monotonic() - start
    after = [_cpu_seconds(pid) for _, pid in servers]
    cpu = [b - a for a, b in zip(before, after, strict=True) if a is not None and b is not None]
    return Round((first, second), (cpu[0], cpu[1]) if len(cpu) == 2 else None, wall)


def _simultaneous(
    factories: tuple[str, str], seconds: int, http: str, server_pin: list[str], wrk_pin: list[str]
) -> list[Round]:
    """A warm-up round (not counted), then ROUNDS rounds; both servers stopped afterwards."""
    with ExitStack() as stack:
        servers = [stack.enter_context(_uvicorn(f, http, server_pin)) for f in factories]
        _round(servers, 1, wrk_pin, flip=False)
        return [_round(servers, seconds, wrk_pin, flip=bool(i % 2)) for i in range(ROUNDS)]


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.1%}, min–max {min(values):.1%}–{max(values):.1%}"


def _report(names: tuple[str, str], rounds: list[Round]) -> float:
    """Per-round table and spread; returns the median ratio (second app / first app)."""
    print(f"| round | {names[0]} requests/s | {names[1]} requests/s | ratio |")
    print("|---:|---:|---:|---:|")
    for i, r in enumerate(rounds, 1):
        print(f"| {i} | {r.rps[0]:.0f} | {r.rps[1]:.0f} | {r.ratio:.1%} |")
    ratios = [r.ratio for r in rounds]
    print(f"- per-round ratio: {_spread(ratios)}")
    shares = [(r.cpu, r.wall) for r in rounds if r.cpu is not None and r.cpu[0] > 0]
    if shares:
        # The fair scheduler should split the core evenly (about 100 %, give or take a clock
        # tick and the start and end of a round); "together" well under 100 % means other
        # load took the servers' core, which slows both alike but makes rounds noisier.
        split = [cpu[1] / cpu[0] for cpu, _ in shares]
        busy = [sum(cpu) / wall for cpu, wall in shares]
        print(
            f"- server CPU time, {names[1]} / {names[0]}: {_spread(split)}; "
            f"both together: {min(busy):.0%}–{max(busy):.0%} of one core"
        )
    return statistics.median(ratios)


def wrk_ratio(duration: int) -> bool:
    """Guarded vs bare throughput on a real server; ``duration`` sets the length of a round."""
    seconds = max(1, duration // 3)  # wrk takes whole seconds only
    http = _http_implementation()
    server_pin, wrk_pin, placement = _cpu_pins()
    print(
        f"\nReal server: uvicorn (1 worker, {http}) on 127.0.0.1, both apps at once, each "
        f"loaded by its own wrk {' '.join(WRK)}; 1 s warm-up, then {ROUNDS} rounds of "
        f"{seconds} s; {placement}\n"
    )
    if shutil.which("wrk") is None:
        print("- skipped: wrk is not installed (Debian: apt-get install wrk)")
        return True
    names = (BARE[0], GUARDED[0])
    rounds = _simultaneous((BARE[1], GUARDED[1]), seconds, http, server_pin, wrk_pin)
    ratio = _report(names, rounds)
    ok = ratio >= 0.97
    verdict = "met" if ok else "NOT met"
    print(f"- throughput with cookieguard >= 97 % of bare: {ratio:.1%} -> {verdict}")
    if os.environ.get(CALIBRATE) == "1":
        print(f"\nCalibration ({CALIBRATE}=1): the same method, bare against bare\n")
        calibration = _simultaneous((BARE[1], BARE[1]), seconds, http, server_pin, wrk_pin)
        _report((f"{BARE[0]} (1)", f"{BARE[0]} (2)"), calibration)
        print("- a sound method gives about 100 %; the min–max is the noise to expect above")
    return ok
