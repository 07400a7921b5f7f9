"""``cookieguard audit`` and the third parties pages load: undeclared hosts, unused ones."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse
from starlette.routing import Route

from cookieguard import Category, Registry, Service, asgi
from cookieguard.audit import audit_app
from cookieguard.audit.hosts import declares, loaded_urls, third_parties
from cookieguard.flask import CookieGuard

REGISTRY = Registry(
    categories=[Category("necessary", required=True), Category("marketing")],
    services=[
        Service("youtube", "marketing", hosts=["https://*.youtube.com"]),
        Service("recaptcha", "marketing", hosts=["https://www.google.com/recaptcha/"]),
        Service("pixel", "marketing", hosts=["https://ad.doubleclick.net"]),
    ],
    cookies=[],
)
PAGE = """<!doctype html>
<link rel="stylesheet" href="/static/site.css">
<link rel="Preload Stylesheet" href="https://cdn.example.org/fonts.css">
<link rel="icon" href="https://icons.example.org/favicon.ico">
<script src="/static/site.js"></script>
<script src="https://www.google.com/recaptcha/api.js"></script>
<script src="https://www.google.com/maps/api.js"></script>
<iframe src="https://www.youtube.com/embed/x"></iframe>
<img src="data:image/png;base64,AAAA">
<img src="//tracker.example.net/p.gif">
<video><source src="https://media.example.org/v.mp4"></video>
<a href="https://elsewhere.example.org/">a link loads nothing</a>
"""


def flask_app(page: str, **options: Any) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return page

    CookieGuard(app, registry=REGISTRY, secret_key="k", **options)
    return app


def test_the_urls_a_browser_loads_from_a_page() -> None:
    assert third_parties(loaded_urls(PAGE)) == [
        "https://cdn.example.org/fonts.css",
        "https://www.google.com/recaptcha/api.js",
        "https://www.google.com/maps/api.js",
        "https://www.youtube.com/embed/x",
        "http://tracker.example.net/p.gif",
        "https://media.example.org/v.mp4",
    ]


@pytest.mark.parametrize(
    ("source", "url", "match"),
    [
        ("https://*.youtube.com", "https://www.youtube.com/embed/x", True),
        ("https://*.youtube.com", "https://youtube.com/embed/x", False),
        ("https://www.google.com/recaptcha/", "https://www.google.com/recaptcha/api.js", True),
        ("https://www.google.com/recaptcha/", "https://www.google.com/maps/api.js", False),
        ("https://www.google.com/recaptcha", "https://www.google.com/recaptcha/api.js", False),
        ("stats.example.org", "https://stats.example.org/m.js", True),
        ("http://stats.example.org", "https://stats.example.org/m.js", True),
        ("https://stats.example.org", "http://stats.example.org/m.js", False),
        ("https://cdn.example.org:8443", "https://cdn.example.org/a.js", False),
        ("https://cdn.example.org:*", "https://cdn.example.org:8443/a.js", True),
    ],
)
def test_host_sources_match_as_csp_matches_them(source: str, url: str, match: bool) -> None:
    assert declares(source, url) is match


def test_undeclared_third_parties_fail_the_audit_and_unused_hosts_warn() -> None:
    sources = {"style-src": ["cdn.example.org"]}
    report = audit_app(flask_app(PAGE, csp="enforce", csp_sources=sources))
    assert not report.clean and report.exit_code() == 1
    hosts = {f.name: f for f in report.third_parties}
    # The CDN is the site's own csp_sources; the rest no service declares.
    assert set(hosts) == {"www.google.com", "tracker.example.net", "media.example.org"}
    assert hosts["www.google.com"].path == "/" and "maps" not in hosts["www.google.com"].message
    assert len(hosts["tracker.example.net"].states) == len(report.states)
    assert [f.name for f in report.unused_hosts] == ["https://ad.doubleclick.net"]
    assert "third-party" in report.to_text() and "unused-host" in report.to_text()


def test_a_page_loading_only_declared_hosts_is_clean_and_asgi_audits_too() -> None:
    page = '<iframe src="https://www.youtube.com/embed/x"></iframe>'

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse(page)

    app = Starlette(
        routes=[Route("/", index)],
        middleware=[Middleware(asgi.CookieGuardMiddleware, registry=REGISTRY, secret_key="k")],
    )
    report = audit_app(app)
    assert report.clean, report.to_text()
    assert {f.name for f in report.unused_hosts} == {
        "https://www.google.com/recaptcha/",
        "https://ad.doubleclick.net",
    }


def test_a_third_party_gated_by_consent_is_seen_in_the_states_that_load_it() -> None:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        from cookieguard.flask import current_consent

        if current_consent().allows("marketing"):
            return '<script src="https://ads.example.com/a.js"></script>'
        return "<p>nothing</p>"

    CookieGuard(app, registry=REGISTRY, secret_key="k")
    (finding,) = audit_app(app).third_parties
    assert finding.name == "ads.example.com"
    assert set(finding.states) == {"only:marketing", "all"}


def test_the_cli_fails_on_an_undeclared_third_party(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys
    import types

    from cookieguard.cli import main

    module = types.ModuleType("csp_audit_app")
    module.app = flask_app('<img src="https://tracker.example.net/p.gif">')  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "csp_audit_app", module)
    assert main(["audit", "csp_audit_app:app"]) == 1
    assert "tracker.example.net, which no service declares" in capsys.readouterr().out
