"""Both policies in Debian's Chromium: the site's (SECURE_CSP, django-csp) and cookieguard's.

The page has a nonce'd inline script, an inline script without the nonce, and a
YouTube iframe. The site's policy runs the first and refuses the second;
cookieguard's refuses the frame until the visitor grants YouTube, then lets it
load; the site's nonce keeps working throughout. The frame's host is answered by
``route``: nothing leaves loopback.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.core.handlers.wsgi import WSGIHandler
from playwright.sync_api import Browser, Page, Route, expect
from tests.browser.chromium import new_context

from .test_django_csp import VIDEO, Provider, provider, site  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

# Every violation the page sees: (blocked URL, directive, the policy that refused it).
WATCH = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
    window.violations.push([e.blockedURI, e.effectiveDirective, e.originalPolicy]));
"""


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the request log
        pass


@contextmanager
def serving(theirs: Provider) -> Iterator[str]:
    """The test site under ``WSGIHandler`` on a free loopback port; its base URL."""
    with site(theirs):
        server = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def violations(page: Page) -> list[tuple[str, str, str]]:
    return [tuple(v) for v in page.evaluate("window.violations")]


def test_the_site_s_nonce_works_and_cookieguard_holds_the_frame_until_granted(
    browser: Browser,  # noqa: F811
    provider: Provider,  # noqa: F811
) -> None:
    with serving(provider) as base_url:
        context = new_context(browser, base_url)
        requested: list[str] = []

        def video(route: Route) -> None:
            requested.append(route.request.url)
            route.fulfill(content_type="text/html", body="<p id=player>the video</p>")

        context.route("https://www.youtube-nocookie.com/**", video)
        context.add_init_script(WATCH)
        try:
            page = context.new_page()
            page.goto("/page")
            html = page.locator("html")
            expect(html).to_have_attribute("data-nonced", "ran")  # the site's nonce
            page.wait_for_function("window.violations.some(v => v[1] === 'frame-src')")
            assert html.get_attribute("data-plain") is None  # the site's policy refused it
            by_directive = {directive: policy for _, directive, policy in violations(page)}
            assert "'nonce-" in by_directive["script-src-elem"]  # refused by the site's policy
            assert "/cookieguard/consent/csp-report" in by_directive["frame-src"]  # by ours
            assert requested == []  # the frame's request never left the browser

            answer = page.evaluate(
                """() => fetch("/cookieguard/consent", {method: "POST",
                    headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({action: "grant", service: "youtube"})})
                    .then((r) => r.status)"""
            )
            assert answer == 200
            page.reload()
            expect(page.frame_locator("#video").locator("#player")).to_have_text("the video")
            assert requested == [VIDEO]
            expect(html).to_have_attribute("data-nonced", "ran")
            assert html.get_attribute("data-plain") is None  # still the site's to refuse
            assert [d for _, d, _ in violations(page)] == ["script-src-elem"]
        finally:
            context.close()
