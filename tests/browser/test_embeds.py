"""Services and embeds in a real browser, on the Flask example (issue 17's acceptance).

The Kopano Meet page embeds YouTube through ``cookieguard.embed``. YouTube itself is
answered locally: every request to ``https://www.youtube-nocookie.com`` gets a stub
player whose response sets YouTube's cookies as YouTube does (``SameSite=None;
Secure``, which a third-party iframe needs for the browser to keep them). The jar
(``context.cookies()``, HttpOnly included) then shows them under YouTube's domain.

What "revoking deletes them" can mean: the site can delete the cookies of its own
domain (rule 6 withdraws every cookie declared with ``service="youtube"``), and it
stops loading the player, so YouTube's own cookies are never sent to YouTube from this
site again; cookies of YouTube's domain are YouTube's, out of any site's reach, and
stay in the jar until they expire or the visitor clears them. The tests check each of
these, including the last.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from examples.flask_app.app import registry
from playwright.sync_api import Browser, BrowserContext, Frame, Page, Route, expect
from tests.browser.chromium import NOT_LOOPBACK, new_context
from tests.browser.servers import serve_wsgi
from tests.browser.test_consent_flow import CONSENT_PATH, consent_saved, dialog, footer_link
from tests.browser.test_visitors import PHONE

pytestmark = pytest.mark.browser

YOUTUBE = "https://www.youtube-nocookie.com"
YOUTUBE_DOMAIN = "www.youtube-nocookie.com"
FRAME_PAGE = re.escape(f"{CONSENT_PATH}/embed")
YOUTUBE_COOKIES = frozenset(c.name for c in registry.cookies_of("youtube"))
COMMERCIAL = frozenset(c.name for c in registry.cookies_in("commercial"))
STUB_PLAYER = "<!doctype html><title>YouTube</title><body>stub player</body>"
# What YouTube's player answers with, as far as cookies go (third party: None; Secure).
STUB_COOKIES = "\n".join(
    f"{name}=stub; Path=/; Max-Age=3600; SameSite=None; Secure; HttpOnly"
    for name in sorted(YOUTUBE_COOKIES)
)


class YouTube:
    """The stub of YouTube's servers for one visitor: every request it answered."""

    def __init__(self, context: BrowserContext) -> None:
        self.requests: list[str] = []
        # Registered after the context's catch-all abort, so it is tried first.
        context.route(f"{YOUTUBE}/**", self.answer)

    def answer(self, route: Route) -> None:
        self.requests.append(route.request.url)
        route.fulfill(
            status=200,
            content_type="text/html",
            body=STUB_PLAYER,
            headers={"Set-Cookie": STUB_COOKIES},
        )


def visitor(browser: Browser, base_urls: dict[str, str], javascript: bool) -> BrowserContext:
    return new_context(browser, base_urls["flask"], javascript=javascript)


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def javascript(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def flask_context(
    browser: Browser, base_urls: dict[str, str], javascript: bool
) -> Iterator[BrowserContext]:
    context = visitor(browser, base_urls, javascript)
    yield context
    context.close()


def cookies_by_domain(context: BrowserContext) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for cookie in context.cookies():
        found.setdefault(cookie["domain"], set()).add(cookie["name"])
    return found


def site_cookies(context: BrowserContext) -> set[str]:
    return cookies_by_domain(context).get("127.0.0.1", set())


def consent_state(page: Page) -> dict[str, list[str]]:
    response = page.request.get(CONSENT_PATH)
    assert response.ok
    state = response.json()
    assert isinstance(state, dict)
    return state


def player_frame(page: Page) -> Frame:
    """The frame of YouTube's (stub) player, however deep in the page it is."""
    (frame,) = [f for f in page.frames if f.url.startswith(f"{YOUTUBE}/embed/")]
    return frame


def load_video(page: Page, javascript: bool, youtube: YouTube) -> None:
    """On /meet, press the placeholder's "Load video" and wait for the player.

    The example enforces its Content-Security-Policy (``csp="enforce"``), and a page keeps
    the policy it loaded with, which refused YouTube. With JavaScript the player still
    loads in place: inside an iframe of the frame page (``frame-src 'self'``), whose own
    response's policy allows YouTube now. Without it, the ``303`` back to the player.
    """
    page.goto("/meet")
    embed = page.locator("#video")
    expect(embed.locator("iframe")).to_have_count(0)
    assert youtube.requests == []  # nothing from YouTube before the visitor's choice
    before = embed.bounding_box()
    assert before is not None
    assert (before["width"], before["height"]) == (560, 315)  # the player's size
    expect(embed.get_by_text("YouTube", exact=True)).to_be_visible()  # the service
    expect(embed.get_by_text("· Google")).to_be_visible()  # and its provider
    page.evaluate("window.cookieguardTestMarker = 'still here'")
    button = embed.get_by_role("button", name="Load video")
    with consent_saved(page):
        button.click()
    frame = embed.locator("iframe")
    if javascript:
        expect(frame).to_have_attribute("src", re.compile(rf"^{FRAME_PAGE}\?service=youtube&"))
        player = page.frame_locator("#video iframe").frame_locator("iframe")
    else:
        expect(frame).to_have_attribute("src", f"{YOUTUBE}/embed/aqz-KE-bpKQ")
        player = page.frame_locator("#video iframe")
    expect(player.get_by_text("stub player")).to_be_visible()
    after = embed.bounding_box()
    assert after is not None
    assert (after["width"], after["height"]) == (560, 315)  # the page did not jump
    assert frame.bounding_box() == after  # the player fills the placeholder's box
    inside = player_frame(page)
    assert inside.evaluate("[innerWidth, innerHeight]") == [560, 315]  # to the edges
    # Full screen, picture-in-picture, encrypted media: delegated to the player.
    for feature in ("fullscreen", "picture-in-picture", "encrypted-media"):
        assert inside.evaluate(f"document.featurePolicy.allowsFeature('{feature}')"), feature
    marker = page.evaluate("window.cookieguardTestMarker || null")
    if javascript:
        assert marker == "still here"  # the same page: no reload, in place
        assert page.url.endswith("/meet")
        expect(frame).to_be_focused()  # where the button was
    else:
        assert marker is None  # a new page: the 303 back to the player
        assert page.url.endswith("/meet#video")
    assert [url.partition("?")[0] for url in youtube.requests] == [f"{YOUTUBE}/embed/aqz-KE-bpKQ"]


def test_load_video_loads_the_player_and_allows_youtube_alone(
    flask_context: BrowserContext, javascript: bool
) -> None:
    youtube = YouTube(flask_context)
    page = flask_context.new_page()

    load_video(page, javascript, youtube)

    # YouTube's own cookies, set by the player from YouTube's domain.
    assert cookies_by_domain(flask_context)[YOUTUBE_DOMAIN] == YOUTUBE_COOKIES
    state = consent_state(page)
    assert state["services"] == ["youtube"]
    assert "commercial" not in state["granted"]
    # The site's own YouTube cookies pass now, no other commercial cookie does.
    page.goto("/set-cookies")
    jar = {name for names in cookies_by_domain(flask_context).values() for name in names}
    assert jar & COMMERCIAL == YOUTUBE_COOKIES
    assert site_cookies(flask_context) & COMMERCIAL == YOUTUBE_COOKIES
    # Another page with the same embed shows the player at once.
    page.goto("/meet")
    expect(page.locator("#video iframe")).to_have_count(1)


def test_revoking_youtube_in_the_dialog_withdraws_it(
    flask_context: BrowserContext, javascript: bool
) -> None:
    youtube = YouTube(flask_context)
    page = flask_context.new_page()
    load_video(page, javascript, youtube)
    page.goto("/set-cookies")
    assert site_cookies(flask_context) & COMMERCIAL == YOUTUBE_COOKIES
    page.goto("/meet")
    expect(page.locator("#video iframe")).to_have_count(1)

    footer_link(page).click()  # without JavaScript, a new page: the player loads once more
    expect(dialog(page)).to_be_visible()
    box = dialog(page).get_by_role("checkbox", name="YouTube")
    expect(box).to_be_checked()
    expect(box).to_be_enabled()  # granted one by one: it can be turned off
    box.uncheck()
    with consent_saved(page):
        dialog(page).get_by_role("button", name="Save my choices").click()

    # The page shows the placeholder again (with JavaScript: reloaded after the withdrawal).
    expect(page.locator("#video").get_by_role("button", name="Load video")).to_be_visible()
    expect(page.locator("#video iframe")).to_have_count(0)
    loads = len(youtube.requests)
    state = consent_state(page)
    assert state["services"] == []
    assert "youtube" not in state["allowed_services"]
    # The site's own YouTube cookies are deleted; nothing else commercial came meanwhile.
    assert site_cookies(flask_context) & COMMERCIAL == set()
    # YouTube is not contacted again, so its cookies no longer reach it from this site;
    # they are YouTube's domain's, which no site can delete: they stay in the jar.
    page.goto("/meet")
    expect(page.locator("#video iframe")).to_have_count(0)
    assert len(youtube.requests) == loads
    assert cookies_by_domain(flask_context)[YOUTUBE_DOMAIN] == YOUTUBE_COOKIES
    # The frame page the placeholder would load in place frames YouTube no more.
    refused = page.request.get(frame_page_src(page))
    assert refused.status == 403 and b"<iframe" not in refused.body()
    assert len(youtube.requests) == loads


def frame_page_src(page: Page) -> str:
    """The frame page's URL that /meet's placeholder holds (inert, in its <template>)."""
    template = page.locator("#video template[data-cookieguard-embed-frame]")
    src = template.evaluate("t => t.content.querySelector('iframe').getAttribute('src')")
    assert isinstance(src, str) and src.startswith(f"{CONSENT_PATH}/embed?")
    return src


def test_accept_all_loads_the_player_in_place_too(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context = visitor(browser, base_urls, javascript=True)
    youtube = YouTube(context)
    try:
        page = context.new_page()
        page.goto("/meet")
        page.evaluate("window.cookieguardTestMarker = 'still here'")
        with consent_saved(page):
            page.locator("#cookieguard-banner").get_by_role("button", name="Accept all").click()
        player = page.frame_locator("#video iframe").frame_locator("iframe")
        expect(player.get_by_text("stub player")).to_be_visible()
        assert page.evaluate("window.cookieguardTestMarker || null") == "still here"
        assert [url.partition("?")[0] for url in youtube.requests] == [
            f"{YOUTUBE}/embed/aqz-KE-bpKQ"
        ]
    finally:
        context.close()


def test_another_origin_cannot_frame_the_frame_page(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context = visitor(browser, base_urls, javascript=True)
    youtube = YouTube(context)
    try:
        page = context.new_page()
        page.goto("/meet")
        src = frame_page_src(page)
        load_video(page, True, youtube)
        assert page.request.get(src).status == 200  # the visitor allows YouTube now
        # Another origin: a server of its own on another port (on the loopback too: a
        # public page may not frame a local server at all). The consent cookie goes along.
        framing = f'<iframe src="{html.escape(base_urls["flask"] + src)}"></iframe>'.encode()

        def elsewhere(environ: Any, start_response: Any) -> list[bytes]:
            start_response("200 OK", [("Content-Type", "text/html")])
            return [framing]

        with serve_wsgi(elsewhere, probe="/") as other:
            page.goto(other)  # "load" waits for its iframe too
        (child,) = page.main_frame.child_frames
        assert not child.url.startswith(base_urls["flask"])  # refused: an error page
        assert len(youtube.requests) == 1  # the player was not framed from there
    finally:
        context.close()


def test_a_category_and_its_services_stay_in_step_from_the_keyboard(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context = visitor(browser, base_urls, javascript=True)
    try:
        page = context.new_page()
        page.goto("/?cookieguard=preferences")
        expect(dialog(page)).to_be_visible()
        commercial = dialog(page).get_by_role("checkbox", name="Commercial", exact=True)
        services = {
            name: dialog(page).get_by_role("checkbox", name=label, exact=True)
            for name, label in (
                ("youtube", "YouTube"),
                ("doubleclick", "Google DoubleClick"),
                ("recaptcha", "Google reCAPTCHA"),
            )
        }
        commercial.focus()
        page.keyboard.press("Space")  # the whole category: its services follow
        expect(commercial).to_be_checked()
        for box in services.values():
            expect(box).to_be_checked()
        page.keyboard.press("Tab")  # the first service comes right after its category
        expect(services["youtube"]).to_be_focused()
        page.keyboard.press("Space")  # all of commercial but YouTube
        expect(services["youtube"]).not_to_be_checked()
        expect(commercial).not_to_be_checked()
        assert commercial.evaluate("box => box.indeterminate")  # shown as mixed
        expect(services["doubleclick"]).to_be_checked()
        expect(services["recaptcha"]).to_be_checked()
        with consent_saved(page):
            dialog(page).get_by_role("button", name="Save my choices").click()
        state = consent_state(page)
        assert "commercial" not in state["granted"]
        assert state["services"] == ["doubleclick", "recaptcha"]

        page.goto("/?cookieguard=preferences")
        expect(commercial).not_to_be_checked()
        expect(services["youtube"]).not_to_be_checked()
        expect(services["doubleclick"]).to_be_checked()
        commercial.check()  # the whole category again: no one-by-one grant left
        with consent_saved(page):
            dialog(page).get_by_role("button", name="Save my choices").click()
        state = consent_state(page)
        assert "commercial" in state["granted"]
        assert state["services"] == []
    finally:
        context.close()


def test_without_javascript_a_granted_category_fixes_its_services(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context = visitor(browser, base_urls, javascript=False)
    try:
        page = context.new_page()
        page.goto("/?cookieguard=preferences")
        dialog(page).get_by_role("checkbox", name="Commercial", exact=True).check()
        with consent_saved(page):
            dialog(page).get_by_role("button", name="Save my choices").click()
        page.goto("/?cookieguard=preferences")
        youtube = dialog(page).get_by_role("checkbox", name="YouTube", exact=True)
        expect(youtube).to_be_checked()
        expect(youtube).to_be_disabled()  # no form can say "commercial, but not YouTube"
        assert consent_state(page)["services"] == []  # and none is granted one by one
    finally:
        context.close()


def test_on_a_phone_the_placeholder_has_the_players_size_too(
    browser: Browser, base_urls: dict[str, str]
) -> None:
    context = browser.new_context(base_url=base_urls["flask"], **PHONE)
    context.route(NOT_LOOPBACK, lambda route: route.abort())
    youtube = YouTube(context)
    try:
        page = context.new_page()
        page.goto("/meet")
        embed = page.locator("#video")
        before = embed.bounding_box()
        assert before is not None
        assert before["width"] == 375 - 2 * 16  # the page's width, within its margins
        assert abs(before["height"] - before["width"] * 315 / 560) < 0.5  # 16:9, as the player
        with consent_saved(page):
            embed.get_by_role("button", name="Load video").tap()
        expect(embed.locator("iframe")).to_have_count(1)
        # The player inside the frame page loads after the frame page itself.
        player = page.frame_locator("#video iframe").frame_locator("iframe")
        expect(player.get_by_text("stub player")).to_be_visible()
        after = embed.bounding_box()
        assert after is not None
        assert (after["width"], after["height"]) == (before["width"], before["height"])
        assert youtube.requests
    finally:
        context.close()
