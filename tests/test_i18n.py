"""Banner languages: shipped catalogues, negotiation, and a site's own texts."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from flask import Flask, render_template_string

from cookieguard import Category, Cookie, Registry, i18n
from cookieguard.flask import CookieGuard


@pytest.fixture(autouse=True)
def no_added_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Languages a test adds do not leak into other tests."""
    monkeypatch.setattr(i18n, "_added", {})
    monkeypatch.setattr(i18n, "_by_registry", {})


def banner_catalogue(lang: str) -> dict[str, str]:
    text = (files("cookieguard") / "locales" / f"banner.{lang}.json").read_text("utf-8")
    catalogue: dict[str, str] = json.loads(text)
    return catalogue


REGISTRY = Registry(
    [
        Category("necessary", required=True, label="Strictly necessary"),
        Category("statistics", label="Statistics", description="Counts visits."),
    ],
    [
        Cookie("_pk_id.*", "statistics", provider="Matomo", purpose="Recognise", duration="1 year"),
    ],
)


def page(accept_language: str, registry: Registry = REGISTRY, **options: Any) -> str:
    app = Flask(__name__)
    app.secret_key = "test-secret-key-that-is-long-enough"
    CookieGuard(app, registry=registry, **options)

    @app.get("/")
    def home() -> str:
        return render_template_string("{{ cookieguard.banner() }}")

    return app.test_client().get("/", headers={"Accept-Language": accept_language}).text


def test_english_french_and_german_are_shipped_first_english() -> None:
    assert i18n.languages()[0] == "en"
    assert {"en", "fr", "de"} <= set(i18n.languages())


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_shipped_translations_are_complete(lang: str) -> None:
    english = banner_catalogue("en")
    translated = banner_catalogue(lang)
    assert set(translated) == set(english)
    assert all(value.strip() for value in translated.values())
    assert translated["button.reject_all"] != english["button.reject_all"]


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("de-AT", "de"),
        ("en-GB,de;q=0.5", "en"),
        ("es, de;q=0.3", "de"),
        ("es, it", "en"),
        ("de;q=0.5, fr", "fr"),
        ("fr;q=0, de;q=0.1", "de"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        (";;;q=nonsense,,", "en"),
    ],
)
def test_negotiate_picks_the_best_shipped_language(header: str | None, lang: str) -> None:
    assert i18n.negotiate(header) == lang


def test_the_banner_speaks_the_negotiated_language() -> None:
    assert "Tout refuser" in page("fr")
    assert "Alle ablehnen" in page("de-DE")
    assert "Reject all" in page("ja")


def test_a_site_adds_a_language_that_falls_back_to_english_key_by_key() -> None:
    i18n.add_language("nl", {"button.reject_all": "Alles weigeren"})
    assert "nl" in i18n.languages()
    assert i18n.negotiate("nl-BE, en;q=0.5") == "nl"
    dutch = page("nl")
    assert 'lang="nl"' in dutch
    assert "Alles weigeren" in dutch
    assert "Accept all" in dutch  # not translated yet: English


def test_a_regional_language_falls_back_to_its_primary_language() -> None:
    i18n.add_language("fr-CA", {"button.accept_all": "Tout accepter, s’il vous plaît"})
    assert i18n.negotiate("fr-CA") == "fr-ca"
    messages = i18n.messages("fr-ca")
    assert messages["button.accept_all"] == "Tout accepter, s’il vous plaît"
    assert messages["button.reject_all"] == "Tout refuser"


def test_category_texts_are_translated_by_catalogue_keys() -> None:
    i18n.add_language(
        "fr",
        {
            "category.statistics.label": "Mesure d’audience",
            "category.statistics.description": "Compte les visites.",
        },
    )
    french = page("fr")
    assert "Mesure d’audience</label>" in french
    assert "<p>Compte les visites.</p>" in french
    english = page("en")
    assert "Statistics</label>" in english  # the Category's own label
    assert "<p>Counts visits.</p>" in english


def test_english_category_keys_override_the_registry_everywhere_untranslated() -> None:
    i18n.add_language("en", {"category.necessary.label": "Essential"})
    assert "Essential</label>" in page("en")
    assert "Essential</label>" in page("de")  # German has no text of its own for it


def test_translated_text_is_escaped() -> None:
    i18n.add_language("fr", {"banner.title": "<img src=x onerror=alert(1)>"})
    french = page("fr")
    assert "<img" not in french
    assert "&lt;img src=x onerror=alert(1)&gt;" in french


@pytest.mark.parametrize("code", ["", "fr_FR", "../en", "fr fr"])
def test_add_language_refuses_what_is_not_a_language_code(code: str) -> None:
    with pytest.raises(ValueError, match="language code"):
        i18n.add_language(code, {})


def test_cookie_purposes_and_durations_are_translated_by_catalogue_keys() -> None:
    i18n.add_language(
        "de", {"cookie._pk_id.*.purpose": "Wiedererkennen", "cookie._pk_id.*.duration": "1 Jahr"}
    )
    german = page("de")
    assert ">Wiedererkennen</td>" in german
    assert ">1 Jahr</td>" in german
    english = page("en")
    assert ">Recognise</td>" in english
    assert ">1 year</td>" in english


def test_a_catalogue_for_one_registry_leaves_other_registries_alone() -> None:
    other = Registry([Category("necessary", required=True, label="Necessary")], [])
    i18n.add_language("fr", {"category.necessary.label": "Essentiels"}, registry=REGISTRY)
    i18n.add_language("fr", {"category.necessary.label": "Nécessaires"}, registry=other)
    assert "Essentiels</label>" in page("fr")
    assert "Nécessaires</label>" in page("fr", other)
    assert "Strictly necessary</label>" in page("en")
    # The middleware works on its own copy of the registry (another consent cookie name here):
    # the catalogue still applies to it.
    assert "Essentiels</label>" in page("fr", cookie_name="consent")
    assert "Essentiels" not in i18n.messages("fr").get("category.necessary.label", "")


def test_a_catalogue_for_one_registry_wins_over_one_for_every_registry() -> None:
    i18n.add_language("fr", {"category.statistics.label": "Statistiques"})
    i18n.add_language("fr", {"category.statistics.label": "Mesure d’audience"}, registry=REGISTRY)
    assert i18n.messages("fr", REGISTRY)["category.statistics.label"] == "Mesure d’audience"
    assert i18n.messages("fr")["category.statistics.label"] == "Statistiques"
