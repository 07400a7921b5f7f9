"""The in-process tables: each variant's median µs/request and overhead over bare."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from starlette.middleware import Middleware

from cookieguard import Category, Consent, ConsentCodec, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware as AsgiGuard
from cookieguard.wsgi import CookieGuardMiddleware as WsgiGuard

from . import apps
from .driver import Timing, asgi_runner, asgi_scope, measure, wsgi_environ, wsgi_runner


def _table(title: str, timings: Mapping[str, Timing]) -> dict[str, Timing]:
    """Print medians and overheads; return each variant's overhead over the first (bare)."""
    bare = next(iter(timings.values()))
    overheads = {name: t.over(bare) for name, t in timings.items()}
    print(f"\n{title}\n")
    print(f"| {'variant':<44} | µs/req | spread | overhead µs |")
    print(f"|{'-' * 46}|-------:|-------:|------------:|")
    for name, t in timings.items():
        o = overheads[name]
        print(f"| {name:<44} | {t.median:6.1f} | {t.spread:6.1f} | {o.median:+11.2f} |")
    return overheads


def _verdict(label: str, ok: bool, detail: str) -> bool:
    print(f"- {label}: {detail} -> {'met' if ok else 'NOT met'}")
    return ok


def asgi_table(n: int, rounds: int) -> bool:
    scope = asgi_scope(apps.COOKIE_HEADER)
    runners = {name: asgi_runner(app, scope) for name, app in apps.asgi_variants().items()}
    o = _table("ASGI (Starlette), 3 Set-Cookie, valid consent cookie", measure(runners, n, rounds))
    header_cache(n, rounds)
    guard = o["cookieguard (ASGI)"].median
    session = o["Starlette SessionMiddleware"].median
    filt = o["pure-ASGI send filter, no signature check"].median
    print(
        f"\ncookieguard / SessionMiddleware overhead: {guard / session:.0%}; "
        f"cookieguard - bare send filter: {guard - filt:+.2f} µs"
    )
    return _verdict("ASGI overhead <= 3 µs", guard <= 3, f"{guard:.2f} µs") & _verdict(
        "ASGI overhead <= 25 % of SessionMiddleware's",
        guard <= 0.25 * session,
        f"{guard / session:.0%}",
    )


def wsgi_table(n: int, rounds: int) -> bool:
    environ = wsgi_environ(apps.COOKIE_HEADER)
    runners = {name: wsgi_runner(app, environ) for name, app in apps.wsgi_variants().items()}
    o = _table("WSGI (Flask), 3 Set-Cookie, valid consent cookie", measure(runners, n, rounds))
    guard = o["cookieguard (WSGI)"].median
    hook = o["Flask after_request filter"].median
    return _verdict("WSGI overhead <= 5 µs", guard <= 5, f"{guard:.2f} µs") & _verdict(
        "WSGI overhead <= 25 % of the after_request filter's",
        guard <= 0.25 * hook,
        f"{guard / hook:.0%}",
    )


def no_cookie(n: int, rounds: int) -> bool:
    """No cookie in the request, no Set-Cookie in the response: a static file, an API call."""
    scope = asgi_scope(None)
    ok = True
    builders: list[tuple[str, Callable[..., apps.ASGIApp]]] = [
        ("Starlette app", lambda *mw: apps.starlette_app(*mw, set_cookies=False)),
        (
            "raw ASGI app",
            lambda *mw: _wrap(apps.raw_asgi_app([(b"content-type", b"text/plain")]), mw),
        ),
    ]
    for title, app_for in builders:
        runners = {
            "bare": asgi_runner(app_for(), scope),
            "bare send wrapper": asgi_runner(app_for(Middleware(apps.SendWrapper)), scope),
            "cookieguard (ASGI)": asgi_runner(app_for(apps.guard_middleware()), scope),
        }
        o = _table(f"No-cookie path, {title}", measure(runners, n, rounds))
        ok &= _indistinguishable(o["cookieguard (ASGI)"], o["bare send wrapper"])
    environ = wsgi_environ(None)
    raw = apps.raw_wsgi_app([("Content-Type", "text/plain")])
    runners = {
        "bare": wsgi_runner(raw, environ),
        "cookieguard (WSGI)": wsgi_runner(
            WsgiGuard(raw, registry=apps.REGISTRY, secret_key=apps.SECRET), environ
        ),
    }
    _table("No-cookie path, raw WSGI app", measure(runners, n, rounds))
    return ok


def _wrap(app: apps.ASGIApp, middleware: tuple[Middleware, ...]) -> apps.ASGIApp:
    for mw in reversed(middleware):
        cls, args, kwargs = mw
        app = cls(app, *args, **kwargs)
    return app


def _indistinguishable(guard: Timing, wrapper: Timing) -> bool:
    diff = guard.median - wrapper.median
    noise = max(guard.spread, wrapper.spread)
    return _verdict(
        "no-cookie path indistinguishable from a bare send wrapper",
        abs(diff) <= noise,
        f"difference {diff:+.2f} µs, round-to-round spread {noise:.2f} µs",
    )


# -- worst case --------------------------------------------------------------------

WORST_HEADERS = (10, 25, 50)
_CATEGORIES = ("necessary", "preferences", "statistics", "marketing")


def worst_registry() -> Registry:
    """200 glob patterns over four categories (plus the usual exact names)."""
    patterns = [Cookie(f"vendor{i:03d}_*", _CATEGORIES[i % 4]) for i in range(200)]
    return Registry(
        categories=[Category("necessary", required=True), *(Category(c) for c in _CATEGORIES[1:])],
        cookies=[*apps.REGISTRY.cookies, *patterns],
    )


def worst_case(n: int, rounds: int) -> bool:
    registry = worst_registry()
    token = ConsentCodec(apps.SECRET).dumps(Consent(frozenset({"preferences", "statistics"}), 1))
    # 40 request cookies, spread over the patterns (late ones cost the regex most).
    request = [f"vendor{(i * 5) % 200:03d}_r{i}=v{i}" for i in range(39)]
    scope = asgi_scope("; ".join([*request, f"{apps.CONSENT_COOKIE}={token}"]))
    runners: dict[str, Callable[[int], float]] = {}
    for k in WORST_HEADERS:
        headers = [(b"content-type", b"text/plain")] + [
            (b"set-cookie", f"vendor{(j * 199) % 200:03d}_s{j}=v; Path=/; Max-Age=3600".encode())
            for j in range(k)
        ]
        raw = apps.raw_asgi_app(headers)
        runners[f"bare send wrapper, {k} Set-Cookie"] = asgi_runner(apps.SendWrapper(raw), scope)
        runners[f"cookieguard, {k} Set-Cookie"] = asgi_runner(
            AsgiGuard(raw, registry=registry, secret_key=apps.SECRET), scope
        )
    t = measure(runners, n, rounds)
    print(f"\nWorst case: 200 registry patterns, 40 request cookies (median of {rounds} x {n})\n")
    print(
        "| Set-Cookie headers | wrapper µs/req | cookieguard µs/req | overhead µs | per header µs |"
    )
    print("|---:|---:|---:|---:|---:|")
    overhead = {}
    for k in WORST_HEADERS:
        o = t[f"cookieguard, {k} Set-Cookie"].over(t[f"bare send wrapper, {k} Set-Cookie"]).median
        overhead[k] = o
        print(
            f"| {k} | {t[f'bare send wrapper, {k} Set-Cookie'].median:.1f} | "
            f"{t[f'cookieguard, {k} Set-Cookie'].median:.1f} | {o:.1f} | {o / k:.2f} |"
        )
    (a, b, c) = WORST_HEADERS
    slope1 = (overhead[b] - overhead[a]) / (b - a)
    slope2 = (overhead[c] - overhead[b]) / (c - b)
    print(
        f"\nmarginal cost per Set-Cookie: {slope1:.2f} µs ({a}->{b}), {slope2:.2f} µs ({b}->{c}); "
        f"fixed cost (40 request cookies) ~{overhead[a] - a * slope1:.1f} µs"
    )
    # Linear at most: the marginal cost does not grow with the header count (10 % slack).
    return _verdict(
        "worst case grows linearly at most",
        slope2 <= slope1 * 1.1 + 0.05,
        f"{slope1:.2f} then {slope2:.2f} µs per extra header",
    )


def header_cache(n: int, rounds: int) -> None:
    """What the parsed-header memory saves, and what a request pays when it misses."""
    from cookieguard.guard import Guard

    guard = Guard.create(registry=apps.REGISTRY, secret_key=apps.SECRET)
    # Enough distinct headers for every request measured, warm-up included.
    fresh = [f"{apps.COOKIE_HEADER}; _pk_ses.1.abcd={i}" for i in range(n * (rounds + 1))]
    position = 0

    def repeated(count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            guard.read_request(apps.COOKIE_HEADER, None)
        return time.process_time() - started

    def new_each_time(count: int) -> float:
        nonlocal position
        headers = fresh[position : position + count]
        position += count
        started = time.process_time()
        for header in headers:
            guard.read_request(header, None)
        return time.process_time() - started

    t = measure({"repeated": repeated, "new": new_each_time}, n, rounds)
    print(
        f"\nreading the request (Guard.read_request, 4 cookies): {t['repeated'].median:.2f} µs "
        f"when the browser repeats its Cookie header, {t['new'].median:.2f} µs when it "
        "changes on every request (werkzeug parse_cookie; the consent itself stays cached)"
    )
