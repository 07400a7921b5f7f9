"""Google Consent Mode v2 defaults, computed from the consent the server knows."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask import Flask, render_template_string

from cookieguard import Category, Cookie, Registry
from cookieguard.consent_mode import (
    CONSENT_TYPES,
    consent_defaults,
    consent_requirements,
    consent_script,
)
from cookieguard.flask import CookieGuard
from cookieguard.guard import RequestConsent

REGISTRY = Registry(
    [
        Category("necessary", required=True),
        Category("preferences"),
        Category("statistics"),
        Category("marketing", gpc_opt_out=True),
    ],
    [Cookie("_pk_id.*", "statistics")],
)
ADS = ("ad_storage", "ad_user_data", "ad_personalization")


def consent(*allowed: str, gpc_blocked: tuple[str, ...] = ()) -> RequestConsent:
    return RequestConsent(
        frozenset({"necessary", *allowed}),
        gpc=bool(gpc_blocked),
        gpc_blocked=frozenset(gpc_blocked),
    )


def granted(state: dict[str, str]) -> set[str]:
    assert set(state) == set(CONSENT_TYPES)
    assert set(state.values()) <= {"granted", "denied"}
    return {t for t, value in state.items() if value == "granted"}


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        ((), {"security_storage"}),
        (("statistics",), {"security_storage", "analytics_storage"}),
        (
            ("preferences",),
            {"security_storage", "functionality_storage", "personalization_storage"},
        ),
        (("marketing",), {"security_storage", *ADS}),
        (("preferences", "statistics", "marketing"), set(CONSENT_TYPES)),
    ],
)
def test_default_mapping(allowed: tuple[str, ...], expected: set[str]) -> None:
    assert granted(consent_defaults(consent(*allowed), REGISTRY)) == expected


def test_gpc_denies_what_it_blocks() -> None:
    state = consent_defaults(consent("statistics", gpc_blocked=("marketing",)), REGISTRY)
    assert granted(state) == {"security_storage", "analytics_storage"}


def test_a_type_no_category_maps_to_is_denied_even_with_everything_allowed() -> None:
    registry = Registry([Category("necessary", required=True), Category("video")], [])
    everything = consent("video")
    assert granted(consent_defaults(everything, registry)) == {"security_storage"}
    mapped = consent_defaults(everything, registry, {"video": ADS})
    assert granted(mapped) == {"security_storage", *ADS}


def test_a_type_needs_every_category_that_maps_to_it() -> None:
    mapping = {"statistics": ["analytics_storage"], "marketing": ["analytics_storage"]}
    assert consent_requirements(REGISTRY, mapping)["analytics_storage"] == [
        "statistics",
        "marketing",
    ]
    assert "analytics_storage" not in granted(
        consent_defaults(consent("statistics"), REGISTRY, mapping)
    )
    both = consent_defaults(consent("statistics", "marketing"), REGISTRY, mapping)
    assert "analytics_storage" in granted(both)


def test_security_storage_claimed_by_a_consent_category_needs_that_consent() -> None:
    mapping = {"preferences": ["security_storage"]}
    assert "security_storage" not in granted(consent_defaults(consent(), REGISTRY, mapping))
    assert "security_storage" in granted(
        consent_defaults(consent("preferences"), REGISTRY, mapping)
    )


def test_an_unknown_consent_type_is_an_error_that_names_it() -> None:
    with pytest.raises(ValueError, match="'analytics'"):
        consent_defaults(consent(), REGISTRY, {"statistics": ["analytics"]})


def test_external_script_carries_its_configuration_as_data() -> None:
    tag = consent_script(consent("statistics"), REGISTRY, src="/cg/consent-mode.js?v=1")
    found = re.fullmatch(
        r'<script src="/cg/consent-mode.js\?v=1" data-cookieguard-consent-mode="([^"]+)"></script>',
        str(tag),
    )
    assert found
    config = json.loads(html.unescape(found.group(1)))
    assert config["default"]["analytics_storage"] == "granted"
    assert config["default"]["ad_storage"] == "denied"
    assert config["requires"]["ad_storage"] == ["marketing"]


def test_nonce_script_calls_gtag_inline() -> None:
    tag = str(consent_script(consent(), REGISTRY, src="/x.js", nonce="r4nd0m"))
    assert tag.startswith('<script nonce="r4nd0m" data-cookieguard-consent-mode="')
    code = tag[tag.index(">") + 1 : -len("</script>")]
    call = re.search(r"window\.gtag\('consent','default',(\{.*\})\);$", code)
    assert call
    assert json.loads(call.group(1)) == consent_defaults(consent(), REGISTRY)
    assert "src=" not in tag


def test_nonce_is_escaped() -> None:
    tag = str(consent_script(consent(), REGISTRY, src="/x.js", nonce='"><script>'))
    assert '"><script>' not in tag


def test_category_names_cannot_break_out_of_the_script() -> None:
    registry = Registry(
        [Category("necessary", required=True), Category("</script><script>alert(1)//")], []
    )
    mapping = {"</script><script>alert(1)//": ["ad_storage"]}
    for nonce in (None, "n"):
        tag = str(consent_script(consent(), registry, mapping, src="/x.js", nonce=nonce))
        assert tag.count("<script") == 1
        assert tag.count("</script>") == 1


def test_template_helper_follows_the_visitors_consent() -> None:
    app = Flask(__name__)
    app.secret_key = "test-secret-key-that-is-long-enough"
    CookieGuard(app, registry=REGISTRY)

    @app.get("/")
    def home() -> str:
        return render_template_string(
            "{{ cookieguard.consent_mode() }}\n{{ cookieguard.consent_mode(nonce='abc') }}"
        )

    client = app.test_client()

    def defaults() -> dict[str, str]:
        external, inline = client.get("/").text.split("\n")
        assert re.match(r'<script src="/cookieguard/consent/consent-mode\.js\?v=\w+" ', external)
        assert inline.startswith('<script nonce="abc" ')
        found = re.search(r'data-cookieguard-consent-mode="([^"]+)"', external)
        assert found
        state: dict[str, str] = json.loads(html.unescape(found.group(1)))["default"]
        return state

    assert granted(defaults()) == {"security_storage"}
    client.post("/cookieguard/consent", data={"action": "save", "categories": "statistics"})
    assert granted(defaults()) == {"security_storage", "analytics_storage"}
    client.post("/cookieguard/consent", data={"action": "accept_all"})
    assert granted(defaults()) == set(CONSENT_TYPES)
