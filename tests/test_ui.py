"""The visitor-facing consent UI, rendered through real Flask and Starlette apps."""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from flask import Flask, make_response, render_template_string
from flask import Response as FlaskResponse
from playwright.sync_api import Browser, BrowserContext
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.testclient import TestClient
from werkzeug.serving import make_server
from werkzeug.test import Client

from cookieguard import Category, Cookie, Registry, Service
from cookieguard.asgi import CookieGuardMiddleware
from cookieguard.consent_mode import CONSENT_TYPES
from cookieguard.flask import CookieGuard
from cookieguard.starlette import template_context

SECRET = "test-secret-key-that-is-long-enough"
CONSENT = "/cookieguard/consent"

REGISTRY = Registry(
    categories=[
        Category(
            "necessary", required=True, label="Strictly necessary", description="Keeps you in."
        ),
        Category("statistics", label="Statistics", description="Counts visits with Matomo."),
        Category("marketing", label="Marketing", description="YouTube videos.", gpc_opt_out=True),
    ],
    cookies=[
        Cookie("sessionid", "necessary", provider="Example", purpose="Session", duration="Session"),
        Cookie(
            "_pk_id.*",
            "statistics",
            provider="Matomo",
            purpose="Recognise a returning visitor",
            duration="13 months",
        ),
        Cookie("VISITOR_INFO1_LIVE", "marketing", provider="YouTube", purpose="Video preferences"),
    ],
)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Page</title>
{{ cookieguard.consent_mode() }}{{ cookieguard.assets() }}</head><body>
<h1>Welcome</h1>
{% if cookieguard.allows("marketing") %}
<iframe id="video" src="https://www.youtube-nocookie.com/embed/x"></iframe>
{% endif %}
<p id="lang">{{ cookieguard.lang }}</p>
<p id="consent-id">{{ cookieguard.consent_id }}</p>
<script type="text/plain" data-cookieguard-category="statistics" src="/stats.js"></script>
<footer>{{ cookieguard.preferences_link() }}</footer>
{{ cookieguard.banner() }}
</body></html>"""


def flask_app(registry: Registry = REGISTRY, page: str = PAGE) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET

    @app.get("/")
    def home() -> FlaskResponse:
        response = make_response(render_template_string(page))
        response.set_cookie("_pk_id.1.abcd", "visitor", httponly=True)  # statistics
        return response

    @app.get("/stats.js")
    def stats() -> tuple[str, int, dict[str, str]]:
        script = "document.body.setAttribute('data-stats', 'on');"
        return script, 200, {"Content-Type": "text/javascript"}

    CookieGuard(app, registry=registry)
    return app


def starlette_app(tmp_path: Path, registry: Registry = REGISTRY, page: str = PAGE) -> Starlette:
    (tmp_path / "page.html").write_text(page)
    templates = Jinja2Templates(directory=tmp_path, context_processors=[template_context])

    def home(request: Request) -> Response:
        return templates.TemplateResponse(request, "page.html")

    return Starlette(
        routes=[Route("/", home)],
        middleware=[Middleware(CookieGuardMiddleware, registry=registry, secret_key=SECRET)],
    )


class Visitor:
    """One browser's worth of cookies against one app, Flask or Starlette alike."""

    def __init__(self, client: Client | TestClient) -> None:
        self.client = client

    def get(self, path: str = "/", **headers: str) -> str:
        status, _, body = self.fetch(path, **headers)
        assert status == 200
        return body.decode()

    def fetch(
        self, path: str, method: str = "GET", **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        if isinstance(self.client, TestClient):
            sent = self.client.request(method, path, headers=headers)
            return sent.status_code, dict(sent.headers), sent.content
        response = self.client.open(path, method=method, headers=headers)
        return response.status_code, {k.lower(): v for k, v in response.headers}, response.data

    def choose(self, **form: str | list[str]) -> dict[str, object]:
        response = self.client.post(CONSENT, data=form, headers={"Accept": "application/json"})
        assert response.status_code == 200, response.text
        data = json.loads(response.text)
        assert isinstance(data, dict)
        return data


@pytest.fixture(params=["flask", "starlette"])
def visitor(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Visitor]:
    if request.param == "flask":
        yield Visitor(flask_app().test_client())
    else:
        with TestClient(starlette_app(tmp_path), base_url="http://testserver") as client:
            yield Visitor(client)


def banner_shown(page: str) -> bool:
    return 'id="cookieguard-banner"' in page


def dialog_tag(page: str) -> str:
    match = re.search(r'<div id="cookieguard-preferences"[^>]*>', page)
    assert match, "the preferences dialog is always rendered"
    return match.group(0)


SERVICE_REGISTRY = Registry(
    categories=[
        Category("necessary", required=True, label="Strictly necessary"),
        Category("statistics", label="Statistics"),
        Category("marketing", label="Marketing", gpc_opt_out=True),
    ],
    services=[
        Service("youtube", "marketing", label="YouTube", provider="Google", purpose="Videos"),
        Service("vimeo", "marketing", label="Vimeo", provider="Vimeo"),
        Service("matomo", "statistics", label="Matomo", provider="InnoCraft"),
    ],
    cookies=[
        Cookie("sessionid", "necessary"),
        Cookie("VISITOR_INFO1_LIVE", "marketing", provider="YouTube", service="youtube"),
        Cookie("YSC", "marketing", provider="YouTube", service="youtube"),
        Cookie("vuid", "marketing", provider="Vimeo", service="vimeo"),
        Cookie("_pk_id.*", "statistics", provider="Matomo", service="matomo"),
    ],
)

EMBED_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Page</title>
{{ cookieguard.assets() }}</head><body>
{{ cookieguard.banner() }}
{{ cookieguard.embed("youtube", src="https://www.youtube-nocookie.com/embed/x?a=1&b=2",
                     title='Our "launch" video', width=560, height=315, id="clip") }}
{{ cookieguard.embed("vimeo", src="https://player.vimeo.com/video/1", title="Vimeo clip",
                     aspect_ratio="4/3") }}
{% if cookieguard.allows_service("matomo") %}<p id="matomo-on">Matomo</p>{% endif %}
</body></html>"""


@pytest.fixture(params=["flask", "starlette"])
def services_visitor(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Visitor]:
    """A visitor of a page with embeds, against a registry with services."""
    if request.param == "flask":
        yield Visitor(flask_app(SERVICE_REGISTRY, EMBED_PAGE).test_client())
    else:
        app = starlette_app(tmp_path, SERVICE_REGISTRY, EMBED_PAGE)
        with TestClient(app, base_url="http://testserver") as client:
            yield Visitor(client)


def service_box(page: str, name: str) -> str:
    """The dialog's checkbox of service ``name``."""
    match = re.search(rf'<input type="checkbox"[^>]*name="services" value="{name}"[^>]*>', page)
    assert match, f"no checkbox for service {name}"
    return match.group(0)


def category_box(page: str, name: str) -> str:
    match = re.search(rf'<input type="checkbox"[^>]*name="categories" value="{name}"[^>]*>', page)
    assert match, f"no checkbox for category {name}"
    return match.group(0)


def rendered_iframes(page: str) -> list[str]:
    """The iframes a browser loads: not those kept inert in a ``<template>``."""
    outside = re.sub(r"<template\b.*?</template>", "", page, flags=re.S)
    return re.findall(r"<iframe\b[^>]*>", outside)


def placeholder(page: str, anchor: str) -> str:
    match = re.search(
        rf'<div class="cookieguard-embed[^"]*" id="{anchor}".*?</template>', page, re.S
    )
    assert match, f"no placeholder #{anchor}"
    return match.group(0)


# -- services in the dialog ------------------------------------------------------------


def test_the_dialog_nests_each_categorys_services_under_it(services_visitor: Visitor) -> None:
    page = services_visitor.get()
    categories = re.findall(
        r'<div class="cookieguard-category">(.*?)<details class="cookieguard-cookies">', page, re.S
    )
    by_category = {
        re.search(r'name="categories" value="([^"]+)"', block)[1]: block  # type: ignore[index]
        for block in categories
    }
    assert re.findall(r'name="services" value="([^"]+)"', by_category["marketing"]) == [
        "youtube",
        "vimeo",
    ]
    assert re.findall(r'name="services" value="([^"]+)"', by_category["statistics"]) == ["matomo"]
    assert 'name="services"' not in by_category["necessary"]
    marketing = by_category["marketing"]
    assert "<legend" in marketing and "Services in Marketing" in marketing
    assert '<label for="cookieguard-category-3-service-1">YouTube</label>' in marketing
    assert "Provider: Google" in marketing
    assert "Cookies: VISITOR_INFO1_LIVE, YSC" in marketing
    # Each checkbox is described by its service's texts, for screen readers.
    box = service_box(page, "youtube")
    described = re.search(r'aria-describedby="([^"]+)"', box)
    assert described and f'id="{described[1]}"' in marketing


def test_without_consent_every_service_is_off_and_can_be_chosen(services_visitor: Visitor) -> None:
    page = services_visitor.get()
    for name in ("youtube", "vimeo", "matomo"):
        box = service_box(page, name)
        assert " checked" not in box and " disabled" not in box, box
    assert 'data-cookieguard-allowed-services=""' in page


def test_a_granted_category_shows_its_services_on_and_fixed_without_javascript(
    services_visitor: Visitor,
) -> None:
    services_visitor.choose(action="save", categories=["marketing"])
    page = services_visitor.get()
    for name in ("youtube", "vimeo"):
        box = service_box(page, name)
        # Disabled: a form posted without JavaScript cannot say "marketing, but not YouTube".
        assert " checked" in box and " disabled" in box and "data-cookieguard-included" in box
    assert " checked" not in service_box(page, "matomo")
    assert 'data-cookieguard-allowed-services="youtube vimeo"' in page


def test_a_service_granted_one_by_one_is_on_alone(services_visitor: Visitor) -> None:
    services_visitor.choose(action="grant", service="youtube")
    page = services_visitor.get()
    assert " checked" in service_box(page, "youtube")
    assert " disabled" not in service_box(page, "youtube")
    assert " checked" not in service_box(page, "vimeo")
    assert " checked" not in category_box(page, "marketing")


def test_under_gpc_the_category_is_off_but_a_one_by_one_grant_stays_on(
    services_visitor: Visitor,
) -> None:
    services_visitor.choose(action="save", categories=["marketing"])
    page = services_visitor.get("/", **{"Sec-GPC": "1"})
    assert " checked" not in category_box(page, "marketing")
    assert " checked" not in service_box(page, "youtube")
    assert " disabled" not in service_box(page, "youtube")
    services_visitor.choose(action="grant", service="youtube")
    page = services_visitor.get("/", **{"Sec-GPC": "1"})
    assert " checked" in service_box(page, "youtube")
    assert len(rendered_iframes(page)) == 1


def test_allows_service_in_templates(services_visitor: Visitor) -> None:
    assert 'id="matomo-on"' not in services_visitor.get()
    services_visitor.choose(action="grant", service="matomo")
    assert 'id="matomo-on"' in services_visitor.get()
    services_visitor.choose(action="revoke", service="matomo")
    assert 'id="matomo-on"' not in services_visitor.get()
    services_visitor.choose(action="save", categories=["statistics"])
    assert 'id="matomo-on"' in services_visitor.get()


# -- embeds ----------------------------------------------------------------------------


def test_an_embed_without_consent_is_a_placeholder_that_grants_its_service(
    services_visitor: Visitor,
) -> None:
    page = services_visitor.get("/?page=2")
    assert rendered_iframes(page) == []  # YouTube is never contacted
    box = placeholder(page, "clip")
    assert "/embed?service=" not in box  # no enforced policy: the player itself, in place
    assert "<strong>YouTube</strong> · Google" in box  # the service and its provider
    assert "connects your browser to Google" in box  # what loading it means
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', box, re.S)
    assert form and form[1] == CONSENT
    assert '<input type="hidden" name="action" value="grant">' in form[2]
    assert '<input type="hidden" name="service" value="youtube">' in form[2]
    assert '<input type="hidden" name="next" value="/?page=2#clip">' in form[2]
    assert re.search(r"<button type=\"submit\"[^>]*>Load video</button>", form[2])
    # The sizer has the embed's size, so the iframe that replaces the placeholder fits it.
    assert (
        '<svg class="cookieguard-embed-sizer" viewBox="0 0 560 315" width="560" height="315"' in box
    )
    # The iframe waits, inert, for cookieguard.js; its attributes are escaped.
    template = re.search(r"<template data-cookieguard-embed-frame>(.*?)</template>", box, re.S)
    assert template
    assert 'src="https://www.youtube-nocookie.com/embed/x?a=1&amp;b=2"' in template[1]
    assert 'title="Our &#34;launch&#34; video"' in template[1]


def test_an_allowed_embed_is_its_iframe_in_the_same_box(services_visitor: Visitor) -> None:
    services_visitor.choose(action="grant", service="youtube")
    page = services_visitor.get()
    (frame,) = rendered_iframes(page)  # vimeo's is still a placeholder
    assert 'src="https://www.youtube-nocookie.com/embed/x?a=1&amp;b=2"' in frame
    assert 'title="Our &#34;launch&#34; video"' in frame
    assert 'width="560" height="315"' in frame
    box = re.search(r'<div class="cookieguard-embed" id="clip".*?</div>', page, re.S)
    assert box and "data-cookieguard-embed-loaded" in box[0] and "<form" not in box[0]
    assert 'viewBox="0 0 560 315"' in box[0]


def test_an_embed_without_a_size_keeps_its_aspect_ratio(services_visitor: Visitor) -> None:
    page = services_visitor.get()
    vimeo = re.search(r'<div class="cookieguard-embed cookieguard-embed-fluid" id="([^"]+)"', page)
    assert vimeo and vimeo[1].startswith("cookieguard-embed-vimeo-")
    assert '<svg class="cookieguard-embed-sizer" viewBox="0 0 4 3" aria-hidden="true"' in page


def test_load_video_without_javascript_comes_back_at_the_embed() -> None:
    client = flask_app(SERVICE_REGISTRY, EMBED_PAGE).test_client()
    page = client.get("/?page=2").text
    form = re.search(
        r'<form method="post" action="[^"]+" class="cookieguard-embed-form".*?</form>', page, re.S
    )
    assert form
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[0]))
    response = client.post(CONSENT, data={k: html.unescape(v) for k, v in fields.items()})
    assert response.status_code == 303
    assert response.headers["Location"] == "/?page=2#clip"
    assert len(rendered_iframes(client.get("/?page=2").text)) == 1


@pytest.mark.parametrize(
    ("language", "button", "text"),
    [
        ("en", "Load video", "It allows YouTube on the whole site"),
        ("fr", "Charger la vidéo", "Cela autorise YouTube sur tout le site"),
        ("de", "Video laden", "YouTube ist damit auf der ganzen Website erlaubt"),
    ],
)
def test_the_placeholder_speaks_the_visitors_language(
    services_visitor: Visitor, language: str, button: str, text: str
) -> None:
    box = placeholder(services_visitor.get("/", **{"Accept-Language": language}), "clip")
    assert f">{button}</button>" in box
    assert text in box


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'embed("dailymotion", src="https://x.test/", title="t")',
            "undeclared service 'dailymotion'",
        ),
        ('embed("youtube", src="https://x.test/", title="t", width=560)', "width and height"),
        ('embed("youtube", src="https://x.test/", title="t", aspect_ratio="wide")', "aspect_ratio"),
        ('embed("youtube", src="https://x.test/", title="t", aspect_ratio="16/0")', "aspect_ratio"),
    ],
)
def test_a_mistaken_embed_is_an_error_naming_it(call: str, message: str) -> None:
    app = flask_app(SERVICE_REGISTRY, "{{ cookieguard." + call + " }}")
    app.testing = True
    with pytest.raises(ValueError, match=re.escape(message)):
        app.test_client().get("/")


# -- the banner ---------------------------------------------------------------------


def test_banner_is_shown_until_the_visitor_chooses_and_the_dialog_stays(visitor: Visitor) -> None:
    first = visitor.get()
    assert banner_shown(first)
    assert " hidden" in dialog_tag(first)
    visitor.choose(action="reject_all")
    after = visitor.get()
    assert not banner_shown(after)
    assert 'id="cookieguard-preferences"' in after  # so the footer link can re-open it


def test_a_consent_for_an_older_revision_shows_the_banner_again(tmp_path: Path) -> None:
    old = flask_app(REGISTRY).test_client()
    old.post(CONSENT, data={"action": "accept_all"})
    token = old.get_cookie("cookies_preferences")
    assert token is not None
    bumped = Registry(REGISTRY.categories, REGISTRY.cookies, revision=2)
    new = flask_app(bumped).test_client()
    new.set_cookie("cookies_preferences", token.value)
    assert banner_shown(new.get("/").text)


def test_a_forged_consent_cookie_still_shows_the_banner(visitor: Visitor) -> None:
    page = visitor.get(Cookie="cookies_preferences=forged.value.here")
    assert banner_shown(page)


def test_banner_forms_work_without_javascript(visitor: Visitor) -> None:
    page = visitor.get("/?page=2")
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    assert len(forms) == 2  # the banner's and the dialog's
    for action, body in forms:
        assert action == CONSENT
        assert '<input type="hidden" name="next" value="/?page=2">' in body
        for choice in ("reject_all", "accept_all"):
            assert f'name="action" value="{choice}"' in body
            assert f'data-cookieguard-action="{choice}"' in body
    assert 'value="save"' in forms[1][1]


def test_the_no_javascript_form_post_returns_to_the_page_with_the_banner_gone() -> None:
    client = flask_app().test_client()
    response = client.post(CONSENT, data={"action": "accept_all", "next": "/?page=2"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/?page=2"
    assert not banner_shown(client.get("/?page=2").text)


def test_reject_all_is_exactly_as_prominent_as_accept_all(visitor: Visitor) -> None:
    page = visitor.get()
    for where in ("banner", "preferences"):
        reject = re.search(
            rf'<button[^>]*?class="([^"]*)"\s+id="cookieguard-{where}-reject-all"', page
        )
        accept = re.search(
            rf'<button[^>]*?class="([^"]*)"\s+id="cookieguard-{where}-accept-all"', page
        )
        assert reject and accept
        assert reject.group(1) == accept.group(1) == "cookieguard-button"


def test_banner_and_dialog_carry_aria_roles_and_labels(visitor: Visitor) -> None:
    page = visitor.get()
    assert re.search(r'id="cookieguard-banner"[^>]*role="region"', page)
    assert 'aria-labelledby="cookieguard-banner-title"' in page
    assert 'id="cookieguard-banner-title"' in page
    dialog = dialog_tag(page)
    assert 'role="dialog"' in dialog and 'aria-modal="true"' in dialog
    assert 'aria-labelledby="cookieguard-preferences-title"' in dialog
    assert 'id="cookieguard-preferences-title"' in page
    for box in re.findall(r'<input type="checkbox" id="([^"]+)"', page):
        assert f'<label for="{box}">' in page


# -- the preferences dialog ----------------------------------------------------------


def test_dialog_lists_every_category_and_cookie(visitor: Visitor) -> None:
    page = visitor.get()
    for category in REGISTRY.categories:
        assert f'value="{category.name}"' in page
        assert f">{category.title}</label>" in page
        assert f"<p>{category.description}</p>" in page
    for cookie in REGISTRY.cookies:
        row = re.search(
            rf"<tr[^>]*><th scope=\"row\"[^>]*><code>{re.escape(cookie.name)}</code></th>.*?</tr>",
            page,
            re.DOTALL,
        )
        assert row, cookie.name
        for text in (cookie.provider, cookie.purpose, cookie.duration):
            assert re.search(rf"<td[^>]*>{re.escape(text)}</td>", row.group(0)), text


def test_required_categories_are_checked_and_cannot_be_unchecked(visitor: Visitor) -> None:
    page = visitor.get()
    boxes = dict(re.findall(r'<input type="checkbox"[^>]*value="(\w+)"([^>]*)>', page, re.S))
    assert "checked" in boxes["necessary"] and "disabled" in boxes["necessary"]
    assert "checked" not in boxes["statistics"] and "disabled" not in boxes["statistics"]


def test_dialog_shows_the_visitors_choice_and_consent_id(visitor: Visitor) -> None:
    assert "data-cookieguard-consent-id-row hidden" in visitor.get()
    saved = visitor.choose(action="save", categories=["statistics"])
    page = visitor.get()
    boxes = dict(re.findall(r'<input type="checkbox"[^>]*value="(\w+)"([^>]*)>', page, re.S))
    assert "checked" in boxes["statistics"]
    assert "checked" not in boxes["marketing"]
    assert f"<code data-cookieguard-consent-id>{saved['consent_id']}</code>" in page
    assert f'<p id="consent-id">{saved["consent_id"]}</p>' in page


def test_preferences_link_reopens_the_dialog_without_javascript(visitor: Visitor) -> None:
    visitor.choose(action="reject_all")
    page = visitor.get("/?page=2")
    link = re.search(r'<a href="([^"]+)" class="cookieguard-preferences-link"', page)
    assert link
    href = html.unescape(link.group(1))
    assert href == "/?page=2&cookieguard=preferences#cookieguard-preferences"
    opened = visitor.get(href.partition("#")[0])
    assert " hidden" not in dialog_tag(opened)
    assert '<input type="hidden" name="next" value="/?page=2">' in opened
    assert 'href="/?page=2" class="cookieguard-close"' in opened


def test_preferences_link_takes_a_custom_text() -> None:
    app = flask_app()

    @app.get("/custom")
    def custom() -> str:
        return render_template_string("{{ cookieguard.preferences_link('Privacy & cookies') }}")

    assert ">Privacy &amp; cookies</a>" in app.test_client().get("/custom").text


def test_gpc_blocked_category_is_explained_in_the_dialog(visitor: Visitor) -> None:
    visitor.choose(action="accept_all")
    page = visitor.get(**{"Sec-GPC": "1"})
    assert "Global Privacy Control" in page
    boxes = dict(re.findall(r'<input type="checkbox"[^>]*value="(\w+)"([^>]*)>', page, re.S))
    assert "checked" not in boxes["marketing"]


def gpc_notices(page: str) -> list[str]:
    return re.findall(r'class="cookieguard-gpc-notice"[^>]*>([^<]*)<', page)


@pytest.mark.parametrize(
    ("language", "notice"),
    [
        ("en", "Opt-out preference signal honoured"),
        ("fr", "Signal de préférence d’opposition respecté"),
        ("de", "Opt-out-Präferenzsignal berücksichtigt"),
    ],
)
def test_a_gpc_request_is_told_in_the_page_that_its_signal_is_honoured(
    visitor: Visitor, language: str, notice: str
) -> None:
    # In the HTML itself: no script is needed to see it.
    first = visitor.get(**{"Sec-GPC": "1", "Accept-Language": language})
    # The link, the banner and the dialog.
    assert sorted(gpc_notices(first)) == sorted([f"({notice})", notice, notice])
    assert visitor.get(**{"Accept-Language": language}).count("cookieguard-gpc-notice") == 0
    visitor.choose(action="accept_all")
    after = visitor.get(**{"Sec-GPC": "1", "Accept-Language": language})
    assert sorted(gpc_notices(after)) == sorted([f"({notice})", notice])  # no banner now


def test_no_gpc_notice_when_the_middleware_does_not_honour_the_signal() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    CookieGuard(app, registry=REGISTRY, honor_gpc=False)

    @app.get("/")
    def home() -> str:
        return render_template_string(
            "{{ cookieguard.banner() }}{{ cookieguard.preferences_link() }}"
        )

    page = app.test_client().get("/", headers={"Sec-GPC": "1"}).text
    assert "cookieguard-gpc-notice" not in page


def test_search_engines_are_told_not_to_quote_the_banner(visitor: Visitor) -> None:
    assert re.search(r'<div id="cookieguard"[^>]* data-nosnippet[\s>]', visitor.get())


def test_the_policy_helper_lists_the_consent_cookie_with_the_middlewares_lifetime() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    CookieGuard(app, registry=REGISTRY, cookie_name="consent", max_age=30 * 86_400)

    @app.get("/policy")
    def policy_page() -> str:
        return render_template_string("{{ cookieguard.policy() }}")

    french = app.test_client().get("/policy", headers={"Accept-Language": "fr"}).text
    row = re.search(r"<code>consent</code>.*?</tr>", french, re.S)
    assert row and ">30 jours</td>" in row.group(0)
    assert "Matomo" in french


# -- escaping, languages -------------------------------------------------------------


def test_registry_text_is_escaped(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    registry = Registry(
        [
            Category("necessary", required=True, label=f"Needed {evil}", description=evil),
            Category('x"><img src=x onerror=alert(1)>', label=evil),
        ],
        [Cookie("a<b>", "necessary", provider=evil, purpose=evil, duration=evil)],
    )
    for page in (
        flask_app(registry).test_client().get("/").text,
        TestClient(starlette_app(tmp_path, registry)).get("/").text,
    ):
        assert evil not in page
        assert "<img" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "a&lt;b&gt;" in page


@pytest.mark.parametrize(
    ("accept_language", "lang", "reject"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Tout refuser"),
        ("de-DE,de;q=0.9", "de", "Alle ablehnen"),
        ("es-ES,es;q=0.9", "en", "Reject all"),
        ("", "en", "Reject all"),
    ],
)
def test_language_follows_accept_language(
    visitor: Visitor, accept_language: str, lang: str, reject: str
) -> None:
    page = visitor.get(**{"Accept-Language": accept_language})
    assert f'<p id="lang">{lang}</p>' in page
    assert f'<div id="cookieguard" class="cookieguard" lang="{lang}"' in page
    assert f'data-cookieguard-action="reject_all">{reject}</button>' in page


# -- gating and assets ---------------------------------------------------------------


def test_gated_content_is_absent_without_consent(visitor: Visitor) -> None:
    assert 'id="video"' not in visitor.get()
    visitor.choose(action="save", categories=["statistics"])
    assert 'id="video"' not in visitor.get()
    visitor.choose(action="accept_all")
    assert 'id="video"' in visitor.get()
    assert 'id="video"' not in visitor.get(**{"Sec-GPC": "1"})  # marketing is GPC opt-out


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("cookieguard.css", "text/css; charset=utf-8"),
        ("cookieguard.js", "text/javascript; charset=utf-8"),
        ("consent-mode.js", "text/javascript; charset=utf-8"),
    ],
)
def test_assets_are_served_by_the_middleware(
    visitor: Visitor, name: str, content_type: str
) -> None:
    found = re.search(rf'"({CONSENT}/{re.escape(name)}\?v=\w+)"', visitor.get())
    assert found
    url = html.unescape(found.group(1))
    status, headers, body = visitor.fetch(url)
    assert status == 200
    assert headers["content-type"] == content_type
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "set-cookie" not in headers
    assert body == (files("cookieguard") / "static" / name).read_bytes()
    _, unversioned, _ = visitor.fetch(f"{CONSENT}/{name}")
    assert unversioned["cache-control"] == "public, max-age=3600"
    status, _, body = visitor.fetch(url, **{"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert visitor.fetch(url, "POST")[0] == 405
    assert visitor.fetch(f"{CONSENT}/other.js")[0] == 404


def test_assets_tags_point_at_the_served_files(visitor: Visitor) -> None:
    page = visitor.get()
    assert re.search(rf'<link rel="stylesheet" href="{CONSENT}/cookieguard.css\?v=\w+">', page)
    assert re.search(rf'<script src="{CONSENT}/cookieguard.js\?v=\w+" defer></script>', page)
    # No inline script anywhere in what cookieguard renders: CSP script-src 'self' works.
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"text/plain\")[^>]*>", page)
    assert inline == []


def test_template_helper_needs_the_middleware() -> None:
    app = Flask(__name__)
    app.secret_key = SECRET
    CookieGuard(app, registry=REGISTRY)
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="middleware"):
        render_template_string("{{ cookieguard.banner() }}")


def test_mounted_under_a_prefix_the_forms_post_to_the_prefixed_endpoint() -> None:
    app = flask_app()
    page = app.test_client().get("/", base_url="http://localhost/site/").text
    assert f'action="/site{CONSENT}"' in page
    assert f'href="/site{CONSENT}/cookieguard.css?v=' in page
    assert '<input type="hidden" name="next" value="/site/">' in page


# -- the real thing, in Chromium -----------------------------------------------------

# The page's Content Security Policy: no inline script, no inline style, nothing foreign.
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; frame-src 'self'"


def jar(context: BrowserContext) -> set[str]:
    return {cookie["name"] for cookie in context.cookies()}


@pytest.fixture
def chromium(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh Chromium visitor of :func:`flask_app` served on loopback, under a strict CSP."""
    app = flask_app()
    app.after_request(lambda response: _with_csp(response))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        context = browser.new_context(base_url=f"http://127.0.0.1:{server.server_port}")
        context.route(re.compile(r"^(?!http://127\.0\.0\.1)"), lambda route: route.abort())
        yield context
        context.close()
    finally:
        server.shutdown()
        thread.join()


def _with_csp(response: FlaskResponse) -> FlaskResponse:
    response.headers["Content-Security-Policy"] = CSP
    return response


@pytest.mark.browser
def test_javascript_saves_consent_without_a_reload_and_activates_gated_scripts(
    chromium: BrowserContext,
) -> None:
    page = chromium.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto("/")
    page.evaluate("window.marker = 'same page'")
    page.locator("#cookieguard-banner-customize").click()
    dialog = page.locator("#cookieguard-preferences")
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.value") == "statistics"
    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    assert page.evaluate("document.activeElement.id") == "cookieguard-banner-customize"
    page.keyboard.press("Enter")
    page.locator('input[value="statistics"]').check()
    page.locator("#cookieguard-preferences-save").click()
    page.locator("body[data-stats='on']").wait_for()  # the gated script ran
    assert page.locator("#cookieguard-banner").count() == 0
    assert dialog.is_hidden()
    assert page.evaluate("window.marker") == "same page"  # no reload
    assert jar(chromium) == {"cookies_preferences"}
    assert [text for text in violations if "Content Security Policy" in text] == []

    page.reload()  # the server may now set the statistics cookie
    assert jar(chromium) == {"cookies_preferences", "_pk_id.1.abcd"}
    consent_id = page.locator("#consent-id").inner_text()
    page.locator(".cookieguard-preferences-link").click()
    assert dialog.is_visible()
    assert page.locator("[data-cookieguard-consent-id]").inner_text() == consent_id
    assert page.locator('input[value="statistics"]').is_checked()
    page.keyboard.press("Escape")
    assert dialog.is_hidden()

    page.goto("/?cookieguard=preferences#cookieguard-preferences")  # a bookmarked link
    assert dialog.is_visible()
    # A withdrawal reloads the page. Not expect_navigation(): the script first drops the
    # opening from the address with history.replaceState, which Playwright counts as a
    # navigation of its own, so that would return before the reload.
    page.evaluate("window.marker = 'before the withdrawal'")
    with page.expect_event("load"):
        page.locator("#cookieguard-preferences-reject-all").click()
    assert page.evaluate("window.marker") is None  # a new document
    assert "cookieguard" not in page.url
    assert dialog.is_hidden()  # the reload does not open the dialog again
    assert jar(chromium) == {"cookies_preferences"}  # HttpOnly, and still deleted
    assert page.locator("body[data-stats]").count() == 0
    assert page.locator("#cookieguard-banner").count() == 0


@pytest.mark.browser
def test_consent_mode_defaults_then_updates_after_a_choice_on_the_page(
    chromium: BrowserContext,
) -> None:
    page = chromium.new_page()
    page.goto("/")
    read = "Array.from(window.dataLayer, (entry) => Array.from(entry))"
    nothing = {**dict.fromkeys(CONSENT_TYPES, "denied"), "security_storage": "granted"}
    # The registry has no preferences category: nothing grants the functionality types.
    everything = {
        **dict.fromkeys(CONSENT_TYPES, "granted"),
        "functionality_storage": "denied",
        "personalization_storage": "denied",
    }
    assert page.evaluate(read) == [["consent", "default", nothing]]
    page.locator("#cookieguard-banner-accept-all").click()
    page.locator("#cookieguard-banner").wait_for(state="detached")
    assert page.evaluate(read) == [
        ["consent", "default", nothing],
        ["consent", "update", everything],
    ]
    page.reload()
    assert page.evaluate(read) == [["consent", "default", everything]]
