"""The example apps, served for real: every page answers, and cookies obey consent.

Each app runs on a free loopback port (uvicorn for Starlette, werkzeug for Flask)
and is driven by an HTTP client that keeps cookies like a browser does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx
import pytest
from examples.flask_app.app import app as flask_app
from examples.starlette_app.app import app as starlette_app
from starlette.routing import Route
from tests.browser.servers import serve_asgi, serve_wsgi


@dataclass(frozen=True)
class Expected:
    """What one example must do with the cookies of its ``/set-cookies`` page."""

    necessary: frozenset[str]  # set without any consent
    declared: frozenset[str]  # every declared cookie: all set after "accept all"
    undeclared: str  # never set
    statistics: str  # the category of the Matomo cookies
    matomo_id: str
    gpc_category: str  # refused under Global Privacy Control
    gpc_cookies: frozenset[str]


STARLETTE_NECESSARY = frozenset({"sessionid", "csrftoken"})
STARLETTE_MARKETING = frozenset({"_gcl_au", "_fbp"})
FLASK_NECESSARY = frozenset(
    {
        "PHPSESSID",
        "__cfduid",
        "cookielawinfo-checkbox-kopano-cookies",
        "cookielawinfo-checkbox-commercial",
        "cookielawinfo-checkbox-not-required",
        "cookielawinfo-checkbox-necessary",
        "cookielawinfo-checkbox-non-necessary",
        "viewed_cookie_policy",
    }
)
FLASK_COMMERCIAL = frozenset({"IDE", "NID", "GPS", "VISITOR_INFO1_LIVE", "YSC"})

EXPECTED = {
    "starlette": Expected(
        necessary=STARLETTE_NECESSARY,
        declared=STARLETTE_NECESSARY
        | STARLETTE_MARKETING
        | {"django_language", "_pk_id.1.7c3e", "_pk_ses.1.7c3e"},
        undeclared="_hjSessionUser_123456",
        statistics="statistics",
        matomo_id="_pk_id.1.7c3e",
        gpc_category="marketing",
        gpc_cookies=STARLETTE_MARKETING,
    ),
    "flask": Expected(
        necessary=FLASK_NECESSARY,
        declared=FLASK_NECESSARY
        | FLASK_COMMERCIAL
        | {"wp_kopano_shop_id", "atlassian.xsrf.token", "_pk_id.3.b2f1", "_pk_ses.3.b2f1"}
        | {"bm_sz", "_abck", "test_cookie"},
        undeclared="_ga",
        statistics="not_required",
        matomo_id="_pk_id.3.b2f1",
        gpc_category="commercial",
        gpc_cookies=FLASK_COMMERCIAL,
    ),
}


class LinkParser(HTMLParser):
    """Collects the ``href`` of every ``<a>`` in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def same_site_links(html: str) -> set[str]:
    parser = LinkParser()
    parser.feed(html)
    return {href.partition("#")[0] for href in parser.links if href.startswith("/")}


def is_deletion(set_cookie: str) -> bool:
    return re.search(r";\s*max-age=0\b", set_cookie, re.IGNORECASE) is not None


def set_names(response: httpx.Response) -> set[str]:
    """The cookies a response sets (deletions aside)."""
    headers = response.headers.get_list("set-cookie")
    return {h.partition("=")[0].strip() for h in headers if not is_deletion(h)}


def deleted_names(response: httpx.Response) -> set[str]:
    headers = response.headers.get_list("set-cookie")
    return {h.partition("=")[0].strip() for h in headers if is_deletion(h)}


def page_patterns(name: str) -> list[re.Pattern[str]]:
    """A pattern for every page the app routes (static files aside)."""
    if name == "starlette":
        return [route.path_regex for route in starlette_app.routes if isinstance(route, Route)]
    return [
        re.compile("^" + re.sub(r"<[^>]+>", "[^/]+", rule.rule) + "$")
        for rule in flask_app.url_map.iter_rules()
        if rule.endpoint != "static"
    ]


@pytest.fixture(scope="module")
def base_urls() -> Iterator[dict[str, str]]:
    with serve_asgi(starlette_app) as starlette_url, serve_wsgi(flask_app) as flask_url:
        yield {"starlette": starlette_url, "flask": flask_url}


@pytest.fixture(params=["starlette", "flask"])
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(name: str, base_urls: dict[str, str]) -> Iterator[httpx.Client]:
    """A fresh visitor: an empty cookie jar."""
    with httpx.Client(base_url=base_urls[name], timeout=10) as client:
        yield client


def choose(client: httpx.Client, **form: str | list[str]) -> httpx.Response:
    """Submit the consent form as a browser without JavaScript would."""
    response = client.post("/cookieguard/consent", data=form)
    assert response.status_code == 303, response.text
    return response


def test_home_page_links_every_page_and_every_link_answers(name: str, client: httpx.Client) -> None:
    home = client.get("/")
    assert home.status_code == 200
    links = same_site_links(home.text)
    for pattern in page_patterns(name):
        assert any(pattern.match(link) for link in links), f"{pattern.pattern} is not linked"
    for link in sorted(links):
        assert client.get(link).status_code == 200, link


def test_without_consent_only_necessary_cookies_are_set(
    name: str, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    expected = EXPECTED[name]
    caplog.set_level(logging.WARNING, logger="cookieguard")

    response = client.get("/set-cookies")

    assert response.status_code == 200
    assert set_names(response) == expected.necessary
    assert expected.undeclared in response.text  # the page shows what it asked for
    assert set(client.cookies.keys()) == expected.necessary


def test_accept_all_lets_every_declared_cookie_through_but_no_undeclared_one(
    name: str, client: httpx.Client
) -> None:
    expected = EXPECTED[name]
    choose(client, action="accept_all", next="/cookies")

    response = client.get("/set-cookies")

    assert set_names(response) == expected.declared
    assert expected.undeclared not in client.cookies


def test_withdrawing_statistics_deletes_the_httponly_matomo_cookie(
    name: str, client: httpx.Client
) -> None:
    expected = EXPECTED[name]
    choose(client, action="save", categories=[expected.statistics])
    client.get("/set-cookies")
    assert expected.matomo_id in client.get("/cookies").text

    withdrawal = choose(client, action="reject_all")

    assert expected.matomo_id in deleted_names(withdrawal)
    assert expected.matomo_id not in client.get("/cookies").text


def test_global_privacy_control_refuses_its_category_despite_accept_all(
    name: str, client: httpx.Client
) -> None:
    expected = EXPECTED[name]
    choose(client, action="accept_all")

    response = client.get("/set-cookies", headers={"Sec-GPC": "1"})

    assert set_names(response) == expected.declared - expected.gpc_cookies


def test_cookies_page_shows_the_consent_and_its_id(name: str, client: httpx.Client) -> None:
    before = client.get("/cookies").text
    assert "not made a choice" in before

    choose(client, action="accept_all")
    consent_id = client.get("/cookieguard/consent").json()["consent_id"]

    assert consent_id in client.get("/cookies").text


def rendered_iframes(page: str) -> list[str]:
    """The iframes a browser would load: those outside ``<template>`` (the placeholder's)."""
    return re.findall(
        r"<iframe\b[^>]*>", re.sub(r"<template\b.*?</template>", "", page, flags=re.S)
    )


def test_the_youtube_player_is_a_placeholder_until_youtube_is_allowed(
    base_urls: dict[str, str],
) -> None:
    with httpx.Client(base_url=base_urls["flask"]) as client:
        page = client.get("/meet").text
        assert rendered_iframes(page) == []
        assert '<input type="hidden" name="service" value="youtube">' in page
        assert '<input type="hidden" name="next" value="/meet#video">' in page
        # Under the example's enforced policy, with JS the player loads in place inside
        # the frame page, whose own policy allows YouTube once granted.
        template = re.search(r"<template data-cookieguard-embed-frame>(<iframe[^>]*>)", page)
        assert template and 'src="/cookieguard/consent/embed?service=youtube&amp;' in template[1]

        choose(client, action="save", categories=["commercial"])

        (frame,) = rendered_iframes(client.get("/meet").text)
        assert 'src="https://www.youtube-nocookie.com/embed/' in frame


def test_load_video_allows_youtube_alone_and_returns_to_the_player(
    base_urls: dict[str, str],
) -> None:
    with httpx.Client(base_url=base_urls["flask"]) as client:
        answer = client.post(
            "/cookieguard/consent",
            data={"action": "grant", "service": "youtube", "next": "/meet#video"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/meet#video"
        assert len(rendered_iframes(client.get("/meet").text)) == 1

        set_now = set_names(client.get("/set-cookies"))

        assert {"GPS", "VISITOR_INFO1_LIVE", "YSC"} <= set_now
        assert set_now & FLASK_COMMERCIAL == {"GPS", "VISITOR_INFO1_LIVE", "YSC"}  # no IDE, NID

        revoked = client.post(
            "/cookieguard/consent", data={"action": "revoke", "service": "youtube"}
        )

        assert deleted_names(revoked) >= {"GPS", "VISITOR_INFO1_LIVE", "YSC"}
        assert rendered_iframes(client.get("/meet").text) == []


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_the_banner_names_the_link_the_footer_shows(
    name: str, client: httpx.Client, language: str
) -> None:
    page = client.get("/", headers={"Accept-Language": language}).text
    footer = page.split('<footer class="', 1)[1]
    (link,) = re.findall(r'<a [^>]*class="cookieguard-preferences-link"[^>]*>([^<]+)</a>', footer)
    text = re.search(r'<p id="cookieguard-banner-text"[^>]*>(.*?)</p>', page, re.S)
    assert text and link.strip() in text.group(1).replace("&#8220;", "“")


def test_the_banner_comes_first_in_the_document(name: str, client: httpx.Client) -> None:
    body = client.get("/").text.split("<body>", 1)[1]
    first_link_or_button = re.search(r"<(a|button)\b[^>]*>", body)
    assert first_link_or_button and 'id="cookieguard-banner-reject-all"' in first_link_or_button[0]


def test_the_flask_policy_page_shows_the_consent_cookies_lifetime(
    base_urls: dict[str, str],
) -> None:
    with httpx.Client(base_url=base_urls["flask"], timeout=10) as client:
        for language, lifetime in (("en", "182 days"), ("fr", "182 jours"), ("de", "182 Tage")):
            page = client.get("/cookie-policy", headers={"Accept-Language": language}).text
            row = re.search(r"<code>cookies_preferences</code>.*?</tr>", page, re.S)
            assert row, language
            assert f">{lifetime}</td>" in row[0]
