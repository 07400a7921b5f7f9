"""Third parties refused by Chromium itself: the ``csp`` option in a real browser.

The third parties (YouTube, DoubleClick, reCAPTCHA) are answered locally with
``page.route``, which also records every request the browser makes to them: a
request the policy refuses never reaches the network, so it is never recorded.
Reports arrive through the policy's ``report-uri``, posted as soon as Chromium
meets a violation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from examples.flask_app.app import registry as kopano
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Route, expect
from tests.browser.servers import serve_wsgi

from cookieguard import Category, Registry
from cookieguard.csp import CspViolation
from cookieguard.flask import CookieGuard

pytestmark = pytest.mark.browser

THIRD_PARTIES = {
    "youtube.com": re.compile(r"^https://([a-z0-9-]+\.)*youtube\.com/"),
    "doubleclick.net": re.compile(r"^https://([a-z0-9-]+\.)*doubleclick\.net/"),
    "google.com/recaptcha": re.compile(r"^https://www\.google\.com/recaptcha/"),
}
# A 1x1 transparent GIF, for the pixel.
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
PNG_DATA_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


# What the page itself hears of the policy's refusals (the securitypolicyviolation event).
COLLECT_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations.push(e.effectiveDirective + " " + e.blockedURI);
});
"""


class ThirdParties:
    """Answers every request off loopback with a stub, and records it."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def handle(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        if "doubleclick" in url:
            route.fulfill(status=200, content_type="image/gif", body=GIF)
        elif "recaptcha" in url:
            route.fulfill(status=200, content_type="text/javascript", body="window.stub = 1;")
        else:
            route.fulfill(status=200, content_type="text/html", body="<p>player</p>")

    def to(self, name: str) -> list[str]:
        return [url for url in self.requests if THIRD_PARTIES[name].match(url)]


def visitor(browser: Browser, base_url: str) -> tuple[BrowserContext, ThirdParties]:
    context = browser.new_context(base_url=base_url)
    stubs = ThirdParties()
    context.route(re.compile(r"^(?!https?://127\.0\.0\.1(:\d+)?(/|$))"), stubs.handle)
    return context, stubs


def grant(context: BrowserContext, *services: str) -> None:
    for service in services:
        answer = context.request.post(
            "/cookieguard/consent",
            form={"action": "grant", "service": service},
            headers={"Accept": "application/json"},
        )
        assert answer.ok, answer.text()


def test_before_consent_the_browser_refuses_every_third_party_even_ungated(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context, stubs = visitor(browser, base_urls["flask"])
    try:
        page = context.new_page()
        page.add_init_script(COLLECT_VIOLATIONS)
        page.goto("/ungated", wait_until="load")
        # The page asks for the frame, and Chromium refuses it before any request.
        expect(page.locator("iframe.ungated-video")).to_have_count(1)
        page.wait_for_function("window.violations.some(v => v.includes('youtube.com'))")
        assert page.evaluate("window.violations") == ["frame-src https://www.youtube.com"]
        page.goto("/meet", wait_until="load")
        for name in THIRD_PARTIES:
            assert stubs.to(name) == [], name
    finally:
        context.close()


def test_after_granting_the_services_the_browser_loads_them(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context, stubs = visitor(browser, base_urls["flask"])
    try:
        grant(context, "youtube", "doubleclick", "recaptcha")
        page = context.new_page()
        with page.expect_request(THIRD_PARTIES["google.com/recaptcha"]):
            page.goto("/ungated", wait_until="load")
        expect(page.locator("img.pixel")).to_have_js_property("complete", True)
        assert page.frame_locator("iframe.ungated-video").locator("p").inner_text() == "player"
        for name in THIRD_PARTIES:
            assert stubs.to(name), name
    finally:
        context.close()


def test_one_service_granted_lets_only_that_one_in(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context, stubs = visitor(browser, base_urls["flask"])
    try:
        grant(context, "youtube")
        page = context.new_page()
        page.goto("/ungated", wait_until="load")
        assert page.frame_locator("iframe.ungated-video").locator("p").inner_text() == "player"
        assert stubs.to("youtube.com")
        assert stubs.to("doubleclick.net") == [] and stubs.to("google.com/recaptcha") == []
    finally:
        context.close()


UNGATED_PAGE = """<!doctype html>
<title>ungated</title>
<iframe src="https://www.youtube.com/embed/x" width="200" height="100"></iframe>
<img class="pixel" src="https://ad.doubleclick.net/ddm/activity/src=1" width="1" height="1" alt="">
<script src="https://www.google.com/recaptcha/api.js"></script>
"""


@pytest.fixture(scope="module")
def report_only_site() -> Iterator[tuple[str, list[CspViolation], threading.Event]]:
    """A Flask site with ungated third parties, behind csp="report-only"."""
    app = Flask(__name__)
    heard: list[CspViolation] = []
    reported = threading.Event()

    def hear(violation: CspViolation) -> None:
        heard.append(violation)
        if {v.blocked_host for v in heard} >= {"www.youtube.com", "ad.doubleclick.net"}:
            reported.set()

    @app.get("/")
    def index() -> Any:
        return UNGATED_PAGE

    CookieGuard(app, registry=kopano, secret_key="k", csp="report-only", on_csp_violation=hear)
    with serve_wsgi(app) as url:
        yield url, heard, reported


def test_report_only_loads_everything_and_reports_what_it_would_refuse(
    browser: Browser, report_only_site: tuple[str, list[CspViolation], threading.Event]
) -> None:
    url, heard, reported = report_only_site
    context, stubs = visitor(browser, url)
    try:
        page = context.new_page()
        with page.expect_request(THIRD_PARTIES["google.com/recaptcha"]):
            page.goto("/", wait_until="load")
        expect(page.locator("img.pixel")).to_have_js_property("complete", True)
        for name in THIRD_PARTIES:
            assert stubs.to(name), name
        assert reported.wait(10), heard  # posted as Chromium meets each violation
        blocked = {(v.blocked_host, v.directive, v.disposition) for v in heard}
        assert ("www.youtube.com", "frame-src", "report") in blocked
        assert ("ad.doubleclick.net", "img-src", "report") in blocked
    finally:
        context.close()


OWN_PAGE = f"""<!doctype html>
<html><head><title>own</title>
<link rel="stylesheet" href="/static/site.css">
<style>#inline-style {{ color: rgb(0, 128, 0); }}</style>
</head><body>
<p id="inline-style">styled inline</p>
<p id="attribute-style" style="color: rgb(0, 0, 255)">styled by an attribute</p>
<p id="sheet">styled by the site's sheet</p>
<p id="inline-script">waiting</p>
<p id="external-script">waiting</p>
<p id="eval">waiting</p>
<button id="handler" onclick="this.textContent = 'clicked'">click</button>
<img id="data-image" src="{PNG_DATA_URL}" alt="">
<img id="blob-image" alt="">
<script>document.getElementById("inline-script").textContent = "ran";</script>
<script src="/static/site.js"></script>
<script>
  document.getElementById("eval").textContent = eval("'ev' + 'aled'");
  fetch("{PNG_DATA_URL}").then(r => r.blob()).then(b => {{
    document.getElementById("blob-image").src = URL.createObjectURL(b);
  }});
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def first_party_site() -> Iterator[str]:
    """A site with no third party: its own scripts, styles, inline code, data: and blob:."""
    app = Flask(__name__, static_folder=None)
    registry = Registry([Category("necessary", required=True), Category("statistics")], [])

    @app.get("/")
    def index() -> Any:
        return OWN_PAGE

    @app.get("/static/site.css")
    def css() -> Any:
        return "#sheet { color: rgb(255, 0, 0); }", 200, {"Content-Type": "text/css"}

    @app.get("/static/site.js")
    def js() -> Any:
        script = 'document.getElementById("external-script").textContent = "ran";'
        return script, 200, {"Content-Type": "text/javascript"}

    CookieGuard(app, registry=registry, secret_key="k", csp="enforce")
    with serve_wsgi(app) as url:
        yield url


def test_a_site_with_no_third_party_works_unchanged(
    browser: Browser, first_party_site: str
) -> None:
    context, stubs = visitor(browser, first_party_site)
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Refused" in m.text else None)
        response = page.goto("/", wait_until="load")
        assert response is not None
        assert "content-security-policy" in response.headers  # the policy is there...
        expect(page.locator("#inline-script")).to_have_text("ran")  # ...and stands aside
        expect(page.locator("#external-script")).to_have_text("ran")
        expect(page.locator("#eval")).to_have_text("evaled")
        expect(page.locator("#inline-style")).to_have_css("color", "rgb(0, 128, 0)")
        expect(page.locator("#attribute-style")).to_have_css("color", "rgb(0, 0, 255)")
        expect(page.locator("#sheet")).to_have_css("color", "rgb(255, 0, 0)")
        page.click("#handler")
        expect(page.locator("#handler")).to_have_text("clicked")
        for image in ("#data-image", "#blob-image"):
            expect(page.locator(image)).to_have_js_property("naturalWidth", 1)
        assert violations == []
        assert stubs.requests == []
    finally:
        context.close()


def test_the_example_s_banner_works_under_its_policy(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context, _ = visitor(browser, base_urls["flask"])
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Refused" in m.text else None)
        page.goto("/", wait_until="load")
        page.locator("#cookieguard-banner").get_by_role("button", name="Accept all").click()
        expect(page.locator("#cookieguard-banner")).to_have_count(0)
        assert any(c["name"] == "cookies_preferences" for c in context.cookies())
        assert violations == []
    finally:
        context.close()
