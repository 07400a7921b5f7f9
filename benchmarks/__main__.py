"""``python -m benchmarks``: every benchmark, side by side with its peers, in one run.

Parts: ``asgi``, ``wsgi`` (hello-world with three Set-Cookie headers and a valid
consent cookie), ``nocookie`` (no cookies either way), ``worst`` (50 Set-Cookie,
200 patterns, 40 request cookies), ``hotpath`` and ``instructions`` (the
middleware's overhead now and before the second security round, side by side:
CPU time, and instructions counted by callgrind), ``csp`` (an HTML response with the ``csp`` option
off and on), ``server`` (uvicorn + wrk on loopback) and
``memory`` (1 GiB streamed through each adapter), ``attack`` (the slowest request an
attacker can build within an 8 KiB Cookie header against a 200-glob registry, and
resident memory after 10,000 distinct 4 KiB Cookie headers), ``consentlog`` (consent
POST latency with and without the spool), ``django`` (cookieguard's Django middleware
beside django-cookie-consent's on one view).
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import time

from . import attack, consentlog, csp, django, hotpath, memory, micro, server

PARTS = (
    "asgi",
    "wsgi",
    "nocookie",
    "worst",
    "hotpath",
    "instructions",
    "csp",
    "attack",
    "server",
    "memory",
    "consentlog",
    "django",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "parts",
        nargs="*",
        choices=[*PARTS, []],
        metavar="PART",
        help=f"which parts to run (default: all): {', '.join(PARTS)}",
    )
    parser.add_argument(
        "-n", "--requests", type=int, default=20_000, help="requests per round (default 20000)"
    )
    parser.add_argument(
        "-r", "--rounds", type=int, default=5, help="rounds; the median is kept (default 5)"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 2000 requests x 3 rounds, 2 s wrk runs, 64 MiB streamed",
    )
    parser.add_argument(
        "--baseline",
        default=hotpath.BASELINE,
        metavar="REV",
        help=f"the commit hotpath and instructions compare with (default {hotpath.BASELINE})",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=hotpath.TARGET,
        metavar="RATIO",
        help=f"the largest overhead ratio against the baseline (default {hotpath.TARGET})",
    )
    args = parser.parse_args(argv)
    parts = args.parts or list(PARTS)
    n, rounds, duration, gib = args.requests, args.rounds, args.duration, 1.0
    if args.quick:
        n, rounds, duration, gib = 2_000, 3, 2, 1 / 16
    logging.getLogger("cookieguard").setLevel(logging.CRITICAL)  # undeclared names are the point

    print(
        f"cookieguard benchmarks: {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}; median of {rounds} x {n} requests"
    )
    ok = True
    if "asgi" in parts:
        ok &= micro.asgi_table(n, rounds)
    if "wsgi" in parts:
        ok &= micro.wsgi_table(n, rounds)
    if "nocookie" in parts:
        ok &= micro.no_cookie(n, rounds)
    if "worst" in parts:
        ok &= micro.worst_case(n // 4, rounds)
    if "hotpath" in parts:
        ok &= hotpath.hotpath(n // 2, max(rounds, 5), args.baseline, args.target)
    if "instructions" in parts:
        ok &= hotpath.instructions(200, args.baseline, args.target)
    if "csp" in parts:
        ok &= csp.html_response(n, rounds)
    if "attack" in parts:
        ok &= attack.attack(max(100, n // 20))
    if "server" in parts:
        ok &= server.wrk_ratio(duration)
    if "memory" in parts:
        ok &= memory.streamed(gib)
    if "consentlog" in parts:
        ok &= consentlog.latency(n // 40)
    if "django" in parts:
        ok &= django.compare(n // 4, rounds)
    print(f"\nall targets met: {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
