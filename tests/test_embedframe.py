"""The embed frame page (``<consent_path>/embed``), through raw WSGI, raw ASGI, Flask,
Starlette and Django, and the placeholders that load it.

Under ``csp="enforce"`` a page keeps the policy it loaded with, so "Load video" puts in
place an iframe of the frame page, whose own response carries the policy of the
visitor's consent now. It frames only an ``http(s)`` URL on a host of the named service,
only for a visitor whose consent allows that service, and cannot itself be framed by
another site. The browser's side of it is in ``tests/browser/test_embeds.py``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import override_settings
from flask import Flask, render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.cases import KEY, Response, call_wsgi, consent_cookie, token
from tests.test_csp_contract import ADAPTERS, REGISTRY, Serve, hosts, policies, serve, sources
from tests.test_django import DRIVERS, OURS

from cookieguard import wsgi
from cookieguard.embedframe import frame_url
from cookieguard.flask import CookieGuard

FRAME = "/cookieguard/consent/embed"
PLAYER = "https://www.youtube-nocookie.com/embed/aqz-KE-bpKQ"
YOUTUBE = {"https://www.youtube-nocookie.com", "https://*.youtube.com"}
GRANTED = consent_cookie(token(services=["youtube"]))


@pytest.fixture(params=list(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> Any:
    return ADAPTERS[request.param]


def query(**params: str) -> str:
    defaults = {"service": "youtube", "src": PLAYER, "title": "Our video"}
    return urlencode({**defaults, **params})


def fetch(
    app: Serve, q: str, cookie: str | None = GRANTED, method: str = "GET", **extra: Any
) -> Response:
    headers = [("Host", "testserver")]
    if cookie is not None:
        headers.append(("Cookie", cookie))
    headers += extra.pop("headers", [])
    return app(method=method, path=FRAME, query=q, headers=headers, **extra)


def iframes(response: Response) -> list[str]:
    return re.findall(r"<iframe\b[^>]*>", response.body.decode())


def own_policy(response: Response) -> str:
    """The frame page's own enforced policy (the one that says ``frame-ancestors``)."""
    (found,) = [p for p in policies(response) if "frame-ancestors" in p]
    return found


def assert_protected(response: Response) -> None:
    """What every answer of the frame page carries, whatever its status."""
    assert response.values("cache-control") == ["no-store"]
    assert response.values("x-frame-options") == ["SAMEORIGIN"]
    assert response.values("x-content-type-options") == ["nosniff"]
    assert response.values("referrer-policy") == ["strict-origin-when-cross-origin"]
    assert sources(own_policy(response), "frame-ancestors") == ["'self'"]
    assert response.set_cookies == []


# -- allowed --------------------------------------------------------------------------


def test_a_granted_service_s_player_fills_the_frame_page(adapter: Any) -> None:
    app = serve(adapter)
    response = fetch(app, query(title='Our "launch" <video>', allow="fullscreen; autoplay"))
    assert response.status == 200
    assert response.values("content-type") == ["text/html; charset=utf-8"]
    assert_protected(response)
    (frame,) = iframes(response)
    assert f'src="{PLAYER}"' in frame
    assert 'title="Our &#34;launch&#34; &lt;video&gt;"' in frame  # escaped, as everywhere
    assert 'allow="fullscreen; autoplay"' in frame  # delegated on to the player
    assert "<title>Our &#34;launch&#34; &lt;video&gt;</title>" in response.body.decode()
    assert "<script" not in response.body.decode()
    # Its own policy: this service's hosts only, no script, no form, no base.
    own = own_policy(response)
    assert set(sources(own, "frame-src")) == YOUTUBE
    assert sources(own, "default-src") == ["'none'"]
    assert sources(own, "base-uri") == ["'none'"]
    # And the policy every page gets for this consent, which allows YouTube now.
    (consent_policy,) = [p for p in policies(response) if p != own]
    assert hosts(consent_policy) == {"https://fonts.example.net"} | YOUTUBE


def test_a_category_grant_allows_its_services_frame_page(adapter: Any) -> None:
    response = fetch(serve(adapter), query(), consent_cookie(token(["marketing"])))
    assert response.status == 200 and len(iframes(response)) == 1


def test_a_query_without_allow_delegates_nothing(adapter: Any) -> None:
    (frame,) = iframes(fetch(serve(adapter), query()))
    assert "allow=" not in frame


def test_head_answers_the_headers_alone(adapter: Any) -> None:
    response = fetch(serve(adapter), query(), method="HEAD")
    assert response.status == 200 and response.body == b""
    assert_protected(response)


def test_report_only_still_frames_only_what_the_consent_allows(adapter: Any) -> None:
    app = serve(adapter, csp="report-only")
    response = fetch(app, query())
    assert response.status == 200
    assert_protected(response)  # its own policy is enforced whatever the mode
    (reported,) = policies(response, "content-security-policy-report-only")
    assert YOUTUBE <= hosts(reported)
    assert fetch(app, query(), None).status == 403


def test_without_csp_the_path_is_the_application_s(adapter: Any) -> None:
    response = fetch(serve(adapter, csp="off"), query())
    assert iframes(response) == [] and response.values("x-frame-options") == []


# -- refused: fail closed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "gpc"),
    [
        (None, False),  # no choice yet
        (consent_cookie(token(["statistics"])), False),  # another category
        (consent_cookie(token(services=["doubleclick"])), False),  # another service
        (consent_cookie(token(["marketing"])), True),  # GPC refuses the category
        (consent_cookie(token(services=["youtube"], revision=1)), False),  # an older policy
        (consent_cookie(token(services=["youtube"], key="another-key-entirely")), False),
    ],
    ids=["none", "statistics", "doubleclick", "gpc", "stale", "forged"],
)
def test_no_player_without_the_service_s_consent(
    adapter: Any, cookie: str | None, gpc: bool
) -> None:
    headers = [("Sec-GPC", "1")] if gpc else []
    response = fetch(serve(adapter), query(), cookie, headers=headers)
    assert response.status == 403
    assert iframes(response) == [] and b"youtube" in response.body
    assert response.values("content-type") == ["text/plain; charset=utf-8"]
    assert_protected(response)


def test_gpc_leaves_a_service_granted_one_by_one(adapter: Any) -> None:
    response = fetch(serve(adapter), query(), headers=[("Sec-GPC", "1")])
    assert response.status == 200


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example/embed/x",  # a foreign host
        "https://www.youtube-nocookie.com.evil.example/embed/x",
        "https://youtube.com/embed/x",  # *.youtube.com is not youtube.com itself
        "https://ad.doubleclick.net/embed/x",  # another service's host
        "http://www.youtube-nocookie.com/embed/x",  # declared https only
        "https://www.youtube-nocookie.com:8443/embed/x",  # another port
        "javascript:alert(1)//www.youtube-nocookie.com",  # not http(s)
        "data:text/html,<script>alert(1)</script>",
        "//www.youtube-nocookie.com/embed/x",  # relative
        "/cookieguard/consent",
        "https://evil.example\\@www.youtube-nocookie.com/",  # browsers read "\" as "/"
        "https://user@www.youtube-nocookie.com/embed/x",  # userinfo
        "https://evil.example%2F.youtube.com/",  # a percent-encoded host
        "https://www.youtube-nocookie.com/embed/x y",  # whitespace browsers would drop
        "https://www.youtube-nocookie.com\t.evil.example/",
        "https://[::1]/embed/x",
    ],
)
def test_only_a_url_on_the_service_s_hosts_is_framed(adapter: Any, src: str) -> None:
    everything = consent_cookie(token(["statistics", "marketing"]))
    response = fetch(serve(adapter), query(src=src), everything)
    assert response.status == 400
    assert iframes(response) == []
    assert_protected(response)


@pytest.mark.parametrize(
    "q",
    [
        "",
        urlencode({"src": PLAYER, "title": "t"}),  # no service
        urlencode({"service": "youtube", "title": "t"}),  # no src
        urlencode({"service": "youtube", "src": PLAYER}),  # no title
        query(title=""),
        query(service="vimeo"),  # an undeclared service
        query() + "&service=doubleclick",  # given twice
        query() + "&src=https%3A%2F%2Fevil.example%2F",
    ],
    ids=["empty", "service", "src", "title", "blank-title", "unknown", "two-services", "two-srcs"],
)
def test_a_malformed_query_is_400(adapter: Any, q: str) -> None:
    response = fetch(serve(adapter), q)
    assert response.status == 400 and iframes(response) == []
    assert_protected(response)


def test_an_oversized_query_is_414(adapter: Any) -> None:
    response = fetch(serve(adapter), query(src=PLAYER + "?" + "a" * 9000))
    assert response.status == 414
    assert_protected(response)


def test_only_get_and_head(adapter: Any) -> None:
    response = fetch(serve(adapter), query(), method="POST")
    assert response.status == 405 and response.values("allow") == ["GET, HEAD"]
    assert_protected(response)


# Pieces of URLs, with what parsers read differently: "\\", "@", "%", whitespace, and
# dots browsers map to "." (ideographic, fullwidth).
URL_BITS = st.text(
    st.sampled_from([*"/\\@:.%?#-_ \t\nabyAZ09", "\u3002", "\uff0e", "ß"]), max_size=24
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    src=st.one_of(
        st.builds(lambda tail: "https://www.youtube-nocookie.com" + tail, URL_BITS),
        st.builds(lambda head, tail: f"https://{head}.youtube.com{tail}", URL_BITS, URL_BITS),
        st.builds(lambda head: head + "www.youtube-nocookie.com/embed/x", URL_BITS),
        st.text(max_size=80),
    )
)
def test_whatever_src_is_asked_for_the_player_is_youtube_s_or_none(src: str) -> None:
    response = fetch(PROPERTY_APP, query(src=src))
    assert response.status in (200, 400)
    if response.status == 200:
        (frame,) = iframes(response)
        parts = urlsplit(src)
        assert parts.scheme == "https" and parts.netloc == parts.netloc.strip()
        assert parts.hostname == "www.youtube-nocookie.com" or (parts.hostname or "").endswith(
            ".youtube.com"
        )
        assert not any(c in src for c in "@\\ \t\n\r"), src


def _property_app() -> Serve:
    guarded = wsgi.CookieGuardMiddleware(
        lambda environ, start_response: [], registry=REGISTRY, secret_key=KEY, csp="enforce"
    )
    return lambda **request: call_wsgi(guarded, **request)


PROPERTY_APP = _property_app()


# -- Django: the middleware answers the frame page itself ------------------------------


@pytest.fixture(params=list(DRIVERS))
def django_app(request: pytest.FixtureRequest) -> Any:
    options = {"csp": "enforce"}
    with override_settings(
        MIDDLEWARE=[OURS], COOKIEGUARD={"REGISTRY": REGISTRY, "OPTIONS": options}
    ):
        serve_django = DRIVERS[request.param]()
        if request.param == "client":  # the test client reads the query from the path
            yield lambda path, query, **rest: serve_django(path=f"{path}?{query}", **rest)
        else:
            yield serve_django


def test_django_serves_the_frame_page(django_app: Any) -> None:
    response = fetch(django_app, query())
    assert response.status == 200 and len(iframes(response)) == 1
    assert response.values("x-frame-options") == ["SAMEORIGIN"]
    assert response.values("cache-control") == ["no-store"]
    # Django keeps one value per header: both policies, after a comma, each enforced.
    (value,) = response.values("content-security-policy")
    own, comma, consent_policy = value.partition(", ")
    assert comma and sources(own, "frame-ancestors") == ["'self'"]
    assert YOUTUBE <= hosts(consent_policy)
    refused = fetch(django_app, query(), None)
    assert refused.status == 403 and iframes(refused) == []


# -- the placeholder that loads it -----------------------------------------------------

EMBED_PAGE = """<!doctype html><title>Meet</title>{{ cookieguard.embed("youtube",
    src="https://www.youtube-nocookie.com/embed/x?a=1&b=2", title='Our "launch"',
    width=560, height=315, id="clip") }}"""


def embed_app(csp: str) -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/", "page", lambda: render_template_string(EMBED_PAGE))
    CookieGuard(app, registry=REGISTRY, secret_key=KEY, csp=csp)
    return app


def template_iframe(page: str) -> str:
    match = re.search(r"<template data-cookieguard-embed-frame>(<iframe\b[^>]*>)", page)
    assert match, "no placeholder"
    return match[1]


def test_under_an_enforced_policy_the_placeholder_holds_the_frame_page() -> None:
    app = embed_app("enforce")
    page = call_wsgi(app, headers=[("Host", "testserver")]).body.decode()
    frame = template_iframe(page)
    expected = frame_url(
        "/cookieguard/consent",
        service="youtube",
        src="https://www.youtube-nocookie.com/embed/x?a=1&b=2",
        title='Our "launch"',
        allow="encrypted-media; picture-in-picture; fullscreen",
    )
    assert f'src="{expected.replace("&", "&amp;")}"' in frame
    assert 'title="Our &#34;launch&#34;"' in frame and 'width="560" height="315"' in frame
    assert 'allow="encrypted-media; picture-in-picture; fullscreen"' in frame
    # The frame page it names is the player's, once granted.
    src = expected.partition("?")[2]
    granted = call_wsgi(app, path=FRAME, query=src, headers=[("Cookie", GRANTED)])
    assert granted.status == 200
    assert 'src="https://www.youtube-nocookie.com/embed/x?a=1&amp;b=2"' in granted.body.decode()
    # Once allowed, the page itself shows the player: its policy allows it from the start.
    page = call_wsgi(app, headers=[("Cookie", GRANTED)]).body.decode()
    assert '<iframe class="cookieguard-embed-frame" src="https://www.youtube' in page


@pytest.mark.parametrize("csp", ["off", "report-only"])
def test_otherwise_the_placeholder_holds_the_player_itself(csp: str) -> None:
    page = call_wsgi(embed_app(csp)).body.decode()
    assert 'src="https://www.youtube-nocookie.com/embed/x?a=1&amp;b=2"' in template_iframe(page)
