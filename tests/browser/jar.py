"""Many responses judged by Chromium's cookie jar at once, each on a host of its own.

Every case (one response of the application under test) is fetched from a host
of its own, ``c<i>.g<g>.test``, which Chromium resolves to loopback
(``--host-resolver-rules``), so that each case has a cookie jar of its own
inside one browser context: host-only cookies never cross hosts. A group of
cases shares one registrable domain, ``g<g>.test``: a page of that domain
fetches all of them at once, and the fetches are same-site, so Chromium stores
what they set exactly as it would for the site's own pages (``SameSite=Lax``
included). Groups stay small because Chromium keeps at most 180 cookies per
registrable domain.

A returning visitor first gets every name "seeded" at ``Path=/`` by a bare
server (no middleware) on the same hosts, then the case runs; what the jar held
before and after is read with ``context.cookies()`` (HttpOnly ones included).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, quote

from playwright.sync_api import Browser, BrowserContext

from cookieguard import Category, Consent, ConsentCodec, Cookie, Registry

#: Chromium resolves every ``*.test`` host to loopback: nothing else is reachable.
RESOLVE_TEST_HOSTS = "--host-resolver-rules=MAP *.test 127.0.0.1"
NOT_TEST_HOST = re.compile(r"^(?!https?://([a-z0-9-]+\.)*test(:\d+)?(/|$))")
#: Cookies Chromium keeps per registrable domain before it evicts some: a group's
#: cases together (seeds, what they set, the consent cookie) must stay well below.
DOMAIN_COOKIE_LIMIT = 180
#: Where every case is fetched, so that a cookie without ``Path`` lands where WPT's do.
CASE_PATH = "/cookies/resources/cookie.py"
SECRET = "jar-test-secret"
CONSENT_COOKIE = "cookies_preferences"
HTTP_WS = " \t"
# What a cookie name may hold for Chromium to store it (no control character but tab).
_STORABLE_NAME = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f;=]+")


def set_cookie_name(line: str) -> str:
    """The name Chromium gives the cookie of a ``Set-Cookie`` line ("" when it has no ``=``)."""
    pair = line.split(";", 1)[0]
    return pair.split("=", 1)[0].strip(HTTP_WS) if "=" in pair else ""


def refusing_registry(names: Iterable[str]) -> Registry:
    """Every name in ``names`` declared in ``marketing``, a category the visitor refused."""
    declared = sorted({name for name in names if name and name != CONSENT_COOKIE})
    return Registry(
        categories=[Category("necessary", required=True), Category("marketing")],
        cookies=[Cookie(name, "marketing") for name in declared],
    )


def consent_cookie(*granted: str) -> str:
    """A consent cookie value granting ``granted`` and nothing else (required ones aside)."""
    consent = Consent(granted=frozenset(granted), revision=1, given_at=datetime.now(timezone.utc))
    return ConsentCodec(SECRET).dumps(consent)


def case_host(index: int, group: int) -> str:
    """The host of case ``index`` when ``group`` cases share a registrable domain."""
    return f"c{index}.g{index // group}.test"


def case_index(host_header: str) -> int:
    """The case a request is for, from its ``Host`` header (``c<i>.g<g>.test:<port>``)."""
    return int(host_header.split(".", 1)[0][1:])


def query_names(query_string: str) -> list[str]:
    """The names a seeding request asks for (``?names=<json list>``)."""
    return list(json.loads(parse_qs(query_string).get("names", ["[]"])[0]))


def seed_headers(entries: Iterable[str], *, secure: bool) -> list[tuple[bytes, bytes]]:
    """``Set-Cookie`` headers for a returning visitor's jar.

    An entry with ``=`` is a whole ``Set-Cookie`` line; any other is a name,
    planted at ``Path=/`` (names Chromium could never store are left out).
    """
    attributes = "; Path=/; Max-Age=3600" + ("; Secure" if secure else "")
    return [
        (b"set-cookie", (entry if "=" in entry else f"{entry}=seed{attributes}").encode())
        for entry in entries
        if "=" in entry or (_STORABLE_NAME.fullmatch(entry) and entry.strip(HTTP_WS) == entry)
    ]


async def seed_app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    """A bare ASGI app: ``/`` is an empty page, ``/seed?names=[...]`` plants cookies."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")]
    if scope["path"] == "/seed":
        names = query_names(scope["query_string"].decode())
        headers += seed_headers(names, secure=scope["scheme"] == "https")
    await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"<!doctype html><title>jar</title>"})  # type: ignore[operator]


def new_jar_context(browser: Browser) -> BrowserContext:
    """A fresh visitor that can reach only the ``*.test`` loopback hosts (https: any cert)."""
    context = browser.new_context(ignore_https_errors=True, java_script_enabled=True)
    context.route(NOT_TEST_HOST, lambda route: route.abort())
    return context


@dataclass(frozen=True)
class Outcome:
    """What Chromium's jar held for one case host, before the case and after it."""

    before: frozenset[tuple[str, str]]  # (name, path)
    after: frozenset[tuple[str, str]]
    fetch: str  # "ok", or the browser's error
    after_values: Mapping[tuple[str, str], str] = field(default_factory=dict)


def _jar_by_host(context: BrowserContext) -> dict[str, dict[tuple[str, str], str]]:
    jar: dict[str, dict[tuple[str, str], str]] = {}
    for cookie in context.cookies():
        if cookie["name"] == CONSENT_COOKIE:
            continue
        host = cookie["domain"].lstrip(".")
        jar.setdefault(host, {})[(cookie["name"], cookie["path"])] = cookie["value"]
    return jar


# Fetch every URL at once (a ws:// one opens a WebSocket); each settles as "ok" or an error.
_FETCH_ALL = """
async (urls) => Promise.all(urls.map((url) => Promise.race([
  new Promise((resolve) => setTimeout(() => resolve("no answer in 10 s"), 10000)),
  url.startsWith("ws")
    ? new Promise((resolve) => {
        const socket = new WebSocket(url);
        socket.onopen = () => { socket.close(); resolve("ok"); };
        socket.onerror = () => resolve("websocket error");
      })
    : fetch(url, {mode: "no-cors", credentials: "include", cache: "no-store"})
        .then((response) => response.text()).then(() => "ok", (error) => String(error)),
])))
"""


def run_cases(
    browser: Browser,
    *,
    scheme: str,
    case_port: int,
    seed_port: int,
    count: int,
    seeds: Mapping[int, Sequence[str]] | None = None,
    consent: str | None = None,
    url_for: Callable[[str, int], str] | None = None,
    group_size: int = 25,
) -> dict[int, Outcome]:
    """Fetch cases ``0 .. count-1`` from the server at ``case_port``; return each one's jar.

    With ``seeds`` (case -> names or lines, see :func:`seed_headers`), the visitor
    returns: those are planted
    first by the bare server at ``seed_port``. ``consent`` is the consent cookie
    the visitor holds on every group domain. ``url_for(origin, i)`` names what
    to fetch for case ``i`` (default: ``CASE_PATH?case=i`` at that origin).
    ``group_size`` cases share a registrable domain and are fetched at once: keep
    their cookies together well below DOMAIN_COOKIE_LIMIT.
    """
    outcomes: dict[int, Outcome] = {}
    context = new_jar_context(browser)
    try:
        page = context.new_page()
        for start in range(0, count, group_size):
            group = range(start, min(start + group_size, count))
            domain = f"g{start // group_size}.test"
            if consent is not None:
                context.add_cookies(
                    [
                        {
                            "name": CONSENT_COOKIE,
                            "value": consent,
                            "domain": "." + domain,
                            "path": "/",
                            "secure": scheme == "https",
                        }
                    ]
                )
            page.goto(f"{scheme}://{domain}:{seed_port}/")
            if seeds:
                seed_urls = [
                    f"{scheme}://{case_host(i, group_size)}:{seed_port}/seed?names="
                    + quote(json.dumps(list(seeds.get(i, ()))))
                    for i in group
                ]
                page.evaluate(_FETCH_ALL, seed_urls)
            before = _jar_by_host(context)
            urls = [
                url_for(f"{scheme}://{case_host(i, group_size)}:{case_port}", i)
                if url_for
                else f"{scheme}://{case_host(i, group_size)}:{case_port}{CASE_PATH}?case={i}"
                for i in group
            ]
            results = page.evaluate(_FETCH_ALL, urls)
            after = _jar_by_host(context)
            held = sum(len(c) for h, c in after.items() if h.endswith("." + domain)) + 1
            assert held < DOMAIN_COOKIE_LIMIT - 30, f"{held} cookies in {domain}"
            for i, result in zip(group, results, strict=True):
                host = case_host(i, group_size)
                outcomes[i] = Outcome(
                    before=frozenset(before.get(host, {})),
                    after=frozenset(after.get(host, {})),
                    fetch=result,
                    after_values=after.get(host, {}),
                )
            stray = set(after) - {case_host(i, group_size) for i in group} - set(before)
            for host in stray:  # a cookie on the group's domain or elsewhere: blame them all
                for i in group:
                    outcomes[i] = Outcome(
                        before=outcomes[i].before,
                        after=outcomes[i].after | {(f"{n}@{host}", p) for n, p in after[host]},
                        fetch=outcomes[i].fetch,
                    )
    finally:
        context.close()
    return outcomes


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for ``*.test`` made with the ``openssl`` CLI: (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=cookieguard.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
