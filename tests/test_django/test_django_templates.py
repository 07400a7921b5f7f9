"""``{% load cookieguard %}``, the Jinja2 backend's ``cookieguard``, and the banner's language."""

from __future__ import annotations

import pytest
from django.template import TemplateSyntaxError
from django.test import Client, override_settings
from django.utils import translation
from tests.support.cases import SERVICES, consent_cookie, token

from . import SITE_MIDDLEWARE

FRENCH = "Tout accepter"
GERMAN = "Alle akzeptieren"
ENGLISH = "Accept all"


@pytest.mark.parametrize("page", ["/page", "/jinja"])
def test_the_page_has_the_banner_its_assets_and_the_consent(page: str) -> None:
    html = Client().get(page).content.decode()
    assert '<link rel="stylesheet" href="/cookieguard/consent/cookieguard.css' in html
    assert "<p>statistics: False</p>" in html
    assert 'id="cookieguard-banner"' in html
    assert ENGLISH in html
    assert 'class="cookieguard-preferences-link"' in html


@pytest.mark.parametrize("page", ["/page", "/jinja"])
def test_after_a_choice_the_banner_is_gone_and_the_consent_shows(page: str) -> None:
    client = Client(headers={"Cookie": consent_cookie(token(["statistics"]))})
    html = client.get(page).content.decode()
    assert "<p>statistics: True</p>" in html
    assert 'id="cookieguard-banner"' not in html
    assert 'id="cookieguard-preferences"' in html  # the dialog stays, to change the choice


@pytest.mark.parametrize("page", ["/page", "/jinja"])
def test_the_banner_speaks_the_active_django_language(page: str) -> None:
    with override_settings(MIDDLEWARE=SITE_MIDDLEWARE):
        # LocaleMiddleware activates the language cookie's choice over Accept-Language.
        client = Client(headers={"Accept-Language": "fr"})
        client.cookies["django_language"] = "de"
        html = client.get(page).content.decode()
    assert GERMAN in html and FRENCH not in html
    assert 'lang="de"' in html


def test_the_banner_follows_translation_override() -> None:
    client = Client(headers={"Accept-Language": "de"})
    with translation.override("fr"):
        html = client.get("/page").content.decode()
    assert FRENCH in html and GERMAN not in html


def test_a_language_cookieguard_lacks_falls_back_to_english() -> None:
    with translation.override("pt-br"):
        html = Client().get("/page").content.decode()
    assert ENGLISH in html


def test_the_tags_say_what_they_need_without_the_request() -> None:
    with pytest.raises(TemplateSyntaxError, match="context_processors.request"):
        Client().get("/no-request")


@override_settings(COOKIEGUARD={"REGISTRY": SERVICES})
def test_an_embed_is_a_placeholder_until_its_service_is_granted() -> None:
    client = Client()
    html = client.get("/embed").content.decode()
    assert "<p>youtube: False</p>" in html
    assert "cookieguard-embed-placeholder" in html  # inert until granted, with a one-click grant
    assert "data-cookieguard-embed-loaded" not in html
    assert 'name="action" value="grant"' in html and 'name="service" value="youtube"' in html
    assert 'value="/embed#video"' in html  # back to this page, at the embed
    granted = client.post(
        "/cookieguard/consent", {"action": "grant", "service": "youtube", "next": "/embed#video"}
    )
    assert granted.status_code == 303 and granted["Location"] == "/embed#video"
    html = client.get("/embed").content.decode()
    assert "<p>youtube: True</p>" in html
    assert "<iframe" in html and 'src="https://www.youtube-nocookie.com/embed/x"' in html


@override_settings(COOKIEGUARD={"REGISTRY": SERVICES})
def test_an_embed_without_its_src_says_so_where_templates_do() -> None:
    with pytest.raises(TemplateSyntaxError, match="cookieguard_embed 'youtube'"):
        Client().get("/embed?template=embed-mistake.html")
