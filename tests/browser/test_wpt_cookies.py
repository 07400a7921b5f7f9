"""web-platform-tests' cookie cases through the middleware, judged by Chromium's jar (issue 21).

Every header-driven case of WPT ``cookies/`` (tests/data/wpt_cookies.json, see
tests/data/README.md) is one response carrying that case's ``Set-Cookie`` lines,
served by a real server (uvicorn for raw ASGI, Werkzeug's for raw WSGI) behind
the middleware, over http and https. Every name the cases use is declared in a
category the visitor refused. Afterwards Chromium's jar must hold none of them:

- for a new visitor (an empty jar), nothing the response set may have landed;
- for a returning visitor, who already holds every name of the case at the
  declared path ``/`` (and a consent cookie refusing the category), every one of
  them must be gone, whatever the application sent for that name (rule 6).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright
from tests.browser.chromium import launch
from tests.browser.jar import (
    CASE_PATH,
    HTTP_WS,
    RESOLVE_TEST_HOSTS,
    SECRET,
    Outcome,
    case_index,
    consent_cookie,
    refusing_registry,
    run_cases,
    seed_app,
    self_signed_cert,
    set_cookie_name,
)
from tests.browser.servers import serve_asgi, serve_wsgi

from cookieguard.asgi import CookieGuardMiddleware as AsgiGuard
from cookieguard.wsgi import CookieGuardMiddleware as WsgiGuard

pytestmark = pytest.mark.browser

DATA = Path(__file__).parent.parent / "data" / "wpt_cookies.json"
CASES: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))["cases"]
# Servers refuse (h11) or browsers strip header whitespace at either end: send it stripped.
LINES: list[list[str]] = [[line.strip(HTTP_WS) for line in c["set_cookie"]] for c in CASES]
REGISTRY = refusing_registry(set_cookie_name(line) for lines in LINES for line in lines)
# At most 66 names in any 50 cases in a row: seeded, then possibly set again, under 180.
GROUP_SIZE = 50
#: Where to write every failing case as JSON lines, for a closer look (optional).
REPORT = os.environ.get("COOKIEGUARD_JAR_REPORT")


def lines_for(index: int, hostname: str) -> list[str]:
    """A case's lines, with the WPT host (``{{host}}``, here 127.0.0.1) made the case's own."""
    return [line.replace("127.0.0.1", hostname) for line in LINES[index]]


def case_asgi(errors: set[int]) -> Callable[..., Any]:
    """Raw ASGI: answers each case with its lines as ``Set-Cookie`` headers (UTF-8 bytes)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"text/plain")]
        if scope["path"] == CASE_PATH:
            host = dict(scope["headers"])[b"host"].decode()
            lines = lines_for(case_index(host), host.rsplit(":", 1)[0])
            headers += [(b"set-cookie", line.encode()) for line in lines]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"case"})

    guarded = AsgiGuard(app, registry=REGISTRY, secret_key=SECRET)

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await guarded(scope, receive, send)
        except Exception:  # the server refused a header: the response is lost
            errors.add(case_index(dict(scope["headers"])[b"host"].decode()))
            raise

    return recording


def case_wsgi(errors: set[int]) -> Any:
    """Raw WSGI: the same, header values as latin-1 text of their UTF-8 bytes (PEP 3333)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        headers = [("Content-Type", "text/plain")]
        if environ["PATH_INFO"] == CASE_PATH:
            host = environ["HTTP_HOST"]
            lines = lines_for(case_index(host), host.rsplit(":", 1)[0])
            headers += [("Set-Cookie", line.encode().decode("latin-1")) for line in lines]
        start_response("200 OK", headers)
        return [b"case"]

    guarded = WsgiGuard(app, registry=REGISTRY, secret_key=SECRET)

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return guarded(environ, start_response)
        except Exception:
            errors.add(case_index(environ["HTTP_HOST"]))
            raise

    return recording


@pytest.fixture(scope="module")
def jar_browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright, RESOLVE_TEST_HOSTS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def describe(index: int, outcome: Outcome, errors: set[int]) -> dict[str, Any]:
    case = CASES[index]
    return {
        "id": case["id"],
        "set_cookie": LINES[index],
        "held_before": sorted(outcome.before),
        "held_after": sorted(outcome.after),
        "fetch": outcome.fetch,
        "server_error": index in errors,
    }


@pytest.mark.parametrize("visitor", ["new", "returning"])
@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
def test_no_refused_cookie_left_in_the_jar(
    jar_browser: Browser, tls: tuple[Path, Path], adapter: str, scheme: str, visitor: str
) -> None:
    errors: set[int] = set()
    cert = tls if scheme == "https" else None
    serve = (
        serve_asgi(case_asgi(errors), tls=cert, log_level="critical")
        if adapter == "asgi"
        else serve_wsgi(case_wsgi(errors), tls=cert)
    )
    seeds: dict[int, Sequence[str]] | None = None
    if visitor == "returning":
        seeds = {i: [n for n in map(set_cookie_name, lines) if n] for i, lines in enumerate(LINES)}
    with serve as case_url, serve_asgi(seed_app, tls=cert, probe="/") as seed_url:
        outcomes = run_cases(
            jar_browser,
            scheme=scheme,
            case_port=port(case_url),
            seed_port=port(seed_url),
            count=len(CASES),
            seeds=seeds,
            consent=consent_cookie() if visitor == "returning" else None,
            group_size=GROUP_SIZE,
        )
    left = {i: o for i, o in outcomes.items() if o.after}
    if seeds is not None:  # the seeding itself must have worked, or the test proves nothing
        planted = sum(1 for o in outcomes.values() if o.before)
        assert planted > len(CASES) * 0.9, f"only {planted} cases were seeded"
    report = [describe(i, o, errors) for i, o in sorted(left.items())]
    if REPORT and report:
        with open(REPORT, "a", encoding="utf-8") as out:
            for entry in report:
                out.write(json.dumps({"run": f"{adapter}-{scheme}-{visitor}", **entry}) + "\n")
    shown = "\n".join(
        f"  {e['id']}: {e['set_cookie']!r:.160} -> jar {e['held_after']!r:.120}"
        + (" (server error)" if e["server_error"] else "")
        for e in report[:40]
    )
    assert not left, (
        f"{len(left)} of {len(CASES)} WPT cases leave a refused cookie in Chromium's jar "
        f"({adapter}, {scheme}, {visitor} visitor):\n{shown}"
    )
