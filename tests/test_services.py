"""Services: their declaration, construction errors, and the consent that carries them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from tests.support.cases import CONSENT_COOKIE, KEY, OLD_STYLE_TOKEN, SERVICES, Seen, sc, token
from tests.test_contract import ADAPTERS

from cookieguard import Category, Consent, ConsentCodec, Cookie, Registry, Service
from cookieguard.guard import Guard

ENDPOINT = "/cookieguard/consent"
NECESSARY = Category("necessary", required=True)
MARKETING = Category("marketing", gpc_opt_out=True)
YOUTUBE = Service(
    "youtube",
    "marketing",
    label="YouTube",
    provider="Google",
    hosts=["https://www.youtube-nocookie.com", "https://*.youtube.com"],
)


def test_contract_example() -> None:
    registry = Registry(
        categories=[NECESSARY, MARKETING],
        services=[YOUTUBE],
        cookies=[Cookie("VISITOR_INFO1_LIVE", "marketing", service="youtube")],
    )
    assert registry.service_of("VISITOR_INFO1_LIVE") == "youtube"
    assert registry.service_of("sessionid") is None
    assert registry.category_of("VISITOR_INFO1_LIVE") == "marketing"
    assert registry.services == (YOUTUBE,)
    assert registry.service("youtube") is YOUTUBE
    assert registry.services_in("marketing") == (YOUTUBE,)
    assert registry.services_in("necessary") == ()
    assert YOUTUBE.hosts == ("https://www.youtube-nocookie.com", "https://*.youtube.com")
    assert YOUTUBE.title == "YouTube"
    assert Service("matomo", "statistics").title == "Matomo"


def test_a_cookie_without_a_service_and_the_consent_cookie_have_none() -> None:
    assert SERVICES.service_of("sessionid") is None
    assert SERVICES.service_of("ads") is None
    assert SERVICES.service_of("nope") is None
    assert SERVICES.service_of("cookies_preferences") is None
    assert SERVICES.service_of("_pk_id.1.abcd") == "matomo"  # through a glob


def test_services_survive_another_consent_cookie_name() -> None:
    guard = Guard.create(registry=SERVICES, secret_key=KEY, cookie_name="consent")
    assert guard.registry.services == SERVICES.services
    assert guard.registry.service_of("YSC") == "youtube"


def test_the_service_lookup_of_an_undeclared_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        SERVICES.service("vimeo")


def build(*, services: Any = (YOUTUBE,), cookies: Any = ()) -> Registry:
    return Registry([NECESSARY, MARKETING, Category("statistics")], cookies, services=services)


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: build(services=[Service("youtube", "video")]), r"'youtube'.*'video'"),
        (lambda: build(services=[YOUTUBE, Service("youtube", "statistics")]), "'youtube'"),
        (lambda: build(services=[Service("marketing", "marketing")]), "'marketing'"),
        (lambda: build(services=[Service("statistics", "marketing")]), "'statistics'"),
        (
            lambda: build(cookies=[Cookie("YSC", "marketing", service="vimeo")]),
            r"'YSC'.*'vimeo'",
        ),
        (
            lambda: build(cookies=[Cookie("YSC", "statistics", service="youtube")]),
            r"'YSC'.*'statistics'.*'youtube'",
        ),
        (lambda: build(services=["youtube"]), "'youtube'"),
        (lambda: Service("", "marketing"), "''"),
        (lambda: Cookie("YSC", "marketing", service=""), "'YSC'"),
    ],
    ids=[
        "undeclared-category",
        "duplicate-service",
        "named-like-its-category",
        "named-like-another-category",
        "cookie-of-undeclared-service",
        "cookie-of-a-service-of-another-category",
        "not-a-service",
        "empty-name",
        "empty-service-of-a-cookie",
    ],
)
def test_construction_errors_name_the_culprit(make: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        make()


GOOD_HOSTS = [
    "https://www.youtube.com",
    "https://*.doubleclick.net",
    "stats.example.org",
    "*.example.org",
    "https://stats.example.org:8443",
    "https://cdn.example.org:*",
    "https://cdn.example.org/js/",
    "wss://live.example.org",
    "localhost",
]
BAD_HOSTS = [
    "",
    "*",
    "https://*",
    "'self'",
    "'none'",
    "'unsafe-inline'",
    '"https://www.youtube.com"',
    "https://www.youtube.com https://evil.example",
    "https://www.youtube.com;script-src *",
    "https://a.example,https://b.example",
    "www.youtube.com\t",
    " www.youtube.com",
    "https://www.youtube.com\n",
    "https:",
    "data:",
    "https://exa mple.org",
    "https://*.",
    "https://example.org/'x'",
]


@pytest.mark.parametrize("host", GOOD_HOSTS)
def test_host_sources_are_accepted(host: str) -> None:
    assert Service("s", "marketing", hosts=[host]).hosts == (host,)


@pytest.mark.parametrize("host", BAD_HOSTS, ids=repr)
def test_a_host_that_is_not_a_host_source_is_named(host: str) -> None:
    with pytest.raises(ValueError) as refused:
        Service("s", "marketing", hosts=[host])
    assert f"service 's': host {host!r} is not a CSP host source" in str(refused.value)


@pytest.mark.parametrize("hosts", ["https://www.youtube.com", [5], [None]], ids=repr)
def test_hosts_must_be_a_list_of_strings(hosts: Any) -> None:
    with pytest.raises(ValueError, match="'s'"):
        Service("s", "marketing", hosts=hosts)


def test_services_are_immutable_and_hashable() -> None:
    with pytest.raises(AttributeError):
        YOUTUBE.name = "vimeo"  # type: ignore[misc]
    assert {YOUTUBE: 1}[
        Service(
            "youtube",
            "marketing",
            label="YouTube",
            provider="Google",
            hosts=("https://www.youtube-nocookie.com", "https://*.youtube.com"),
        )
    ] == 1


# -- the consent ----------------------------------------------------------------------


def test_consent_services_default_to_empty() -> None:
    assert Consent(frozenset({"statistics"}), 2).services == frozenset()


def test_services_round_trip_in_the_signed_cookie() -> None:
    codec = ConsentCodec(KEY)
    consent = Consent(frozenset(), 2, "id-1", services={"youtube", "matomo"})
    assert isinstance(consent.services, frozenset)
    loaded = codec.loads(codec.dumps(consent))
    assert loaded is not None
    assert loaded.services == {"youtube", "matomo"}
    assert loaded.granted == frozenset() and loaded.consent_id == "id-1"


def test_a_consent_without_services_signs_as_before() -> None:
    """The token of a consent without services is the one earlier versions wrote."""
    old = URLSafeTimedSerializer(
        [KEY], salt="cookieguard.consent", serializer_kwargs={"separators": (",", ":")}
    )
    minted = old.dumps([["statistics"], 2, "id-2"])
    loaded = ConsentCodec(KEY).loads(minted)
    assert loaded is not None
    assert loaded.granted == {"statistics"} and loaded.services == frozenset()
    assert old.loads(ConsentCodec(KEY).dumps(Consent(frozenset({"statistics"}), 2, "x"))) == [
        ["statistics"],
        2,
        "x",
    ]


@pytest.mark.parametrize(
    "payload",
    [
        [["statistics"], 2, "id", "youtube"],
        [["statistics"], 2, "id", [1]],
        [["statistics"], 2, "id", None],
        [["statistics"], 2, "id", ["youtube"], "extra"],
    ],
    ids=repr,
)
def test_malformed_services_are_no_consent(payload: Any) -> None:
    signed = URLSafeTimedSerializer([KEY], salt="cookieguard.consent").dumps(payload)
    assert ConsentCodec(KEY).loads(signed) is None


def test_the_token_helper_writes_services() -> None:
    loaded = ConsentCodec(KEY).loads(token(["statistics"], services=["youtube"]))
    assert loaded is not None and loaded.services == {"youtube"}


# -- the effective consent ------------------------------------------------------------


def effective(
    granted: Any = (), services: Any = (), *, gpc: bool = False, revision: int = 2
) -> Any:
    guard = Guard.create(registry=SERVICES, secret_key=KEY)
    consent = Consent(frozenset(granted), revision, services=frozenset(services))
    return guard.consent_from(consent, gpc)


def test_a_service_follows_its_category() -> None:
    consent = effective(["marketing"])
    assert consent.allows_service("youtube") and consent.allows_service("doubleclick")
    assert not consent.allows_service("matomo")


def test_a_service_granted_one_by_one_without_its_category() -> None:
    consent = effective(services=["youtube"])
    assert consent.allows_service("youtube")
    assert not consent.allows_service("doubleclick")
    assert not consent.allows("marketing")


def test_gpc_undoes_a_category_grant_but_not_a_service_granted_one_by_one() -> None:
    by_category = effective(["marketing", "statistics"], gpc=True)
    assert not by_category.allows_service("youtube")
    assert by_category.allows_service("matomo")  # statistics has no gpc_opt_out
    one_by_one = effective(["marketing"], ["youtube"], gpc=True)
    assert one_by_one.allows_service("youtube")
    assert not one_by_one.allows_service("doubleclick")


def test_no_consent_stale_revision_and_undeclared_services_allow_nothing() -> None:
    guard = Guard.create(registry=SERVICES, secret_key=KEY)
    assert not guard.consent_from(None, False).allows_service("youtube")
    assert not effective(["marketing"], ["youtube"], revision=1).allows_service("youtube")
    assert not effective(services=["vimeo"]).allows_service("vimeo")


def test_a_service_of_a_required_category_is_allowed_without_any_consent() -> None:
    registry = Registry(
        categories=[Category("necessary", required=True), Category("marketing")],
        services=[Service("captcha", "necessary", hosts=["https://www.google.com"])],
        cookies=[Cookie("sessionid", "necessary")],
    )
    guard = Guard.create(registry=registry, secret_key=KEY)
    for gpc in (False, True):
        assert guard.consent_from(None, gpc).allows_service("captcha")
    assert guard.read_request(None, None).consent.allows_service("captcha")


# -- the endpoint and the decision, through raw WSGI, raw ASGI, Flask and Starlette -----

FORM = "application/x-www-form-urlencoded"
PAGE_SETS = (sc("YSC=y"), sc("VISITOR_INFO1_LIVE=v; Path=/video"), sc("IDE=i"), sc("ads=a"))


@pytest.fixture(params=list(ADAPTERS))
def serve(request: pytest.FixtureRequest) -> Any:
    seen = Seen()
    app = ADAPTERS[request.param](PAGE_SETS, seen, {"registry": SERVICES, "secret_key": KEY})
    app.seen = seen
    return app


def post(serve: Any, body: bytes, *, content_type: str = FORM, cookie: str = "") -> Any:
    headers = [("Host", "testserver"), ("Content-Type", content_type)]
    if cookie:
        headers.append(("Cookie", cookie))
    return serve(method="POST", path=ENDPOINT, headers=headers, body=body)


def consent_value(response: Any) -> str:
    (value,) = [v for v in response.set_cookies if v.startswith(f"{CONSENT_COOKIE}=")]
    return value.partition(";")[0]


def test_load_this_video_then_the_page(serve: Any) -> None:
    granted = post(serve, b"action=grant&service=youtube&next=%2Fvideo%23embed-youtube")
    assert granted.status == 303
    assert granted.values("location") == ["/video#embed-youtube"]
    cookie = consent_value(granted)
    page = serve(headers=[("Host", "testserver"), ("Cookie", f"{cookie}; IDE=old")])
    assert [name.strip() for name in page.cookie_names()] == ["YSC", "VISITOR_INFO1_LIVE", "IDE"]
    assert page.set_cookies[-1].startswith("IDE=;")  # the withdrawal of IDE, not IDE=i
    assert serve.seen.consent.allows_service("youtube")
    assert not serve.seen.consent.allows_service("doubleclick")
    assert not serve.seen.consent.allows("marketing")


def test_revoking_the_service_withdraws_its_cookies(serve: Any) -> None:
    cookie = f"{CONSENT_COOKIE}={token(services=['youtube'])}; YSC=1; VISITOR_INFO1_LIVE=2"
    revoked = post(serve, b"action=revoke&service=youtube&next=%2Fvideo", cookie=cookie)
    assert revoked.status == 303
    deleted = sorted(v.partition("=")[0] for v in revoked.set_cookies if "Max-Age=0" in v)
    assert deleted == ["VISITOR_INFO1_LIVE", "YSC"]


def test_json_save_with_services(serve: Any) -> None:
    body = json.dumps({"categories": ["statistics"], "services": ["youtube"]}).encode()
    answer = post(serve, body, content_type="application/json")
    assert answer.status == 200
    data = json.loads(answer.body)
    assert data["services"] == ["youtube"]
    assert data["granted"] == ["necessary", "statistics"]
    assert data["allowed_services"] == ["youtube", "matomo"]


def test_an_unknown_service_is_400_and_changes_no_cookie(serve: Any) -> None:
    answer = post(serve, b"action=grant&service=vimeo", cookie="YSC=1")
    assert answer.status == 400
    assert "'vimeo'" in json.loads(answer.body)["error"]
    assert answer.set_cookies == []


def test_an_old_consent_cookie_is_honoured_and_grant_keeps_it(serve: Any) -> None:
    cookie = f"{CONSENT_COOKIE}={OLD_STYLE_TOKEN}"
    page = serve(headers=[("Host", "testserver"), ("Cookie", cookie)])
    assert serve.seen.consent.allows("statistics") and serve.seen.consent.allows_service("matomo")
    assert page.cookie_names() == []  # no marketing cookie, no service granted
    granted = post(serve, b"action=grant&service=youtube", cookie=cookie)
    stored = ConsentCodec(KEY).loads(consent_value(granted).partition("=")[2])
    assert stored is not None
    assert stored.granted == {"necessary", "statistics"} and stored.services == {"youtube"}


def test_verdicts_are_remembered_per_service_grant(serve: Any) -> None:
    """One middleware, the same categories, different services: never the other's verdict."""
    for services, kept in [
        (["youtube"], ["YSC", "VISITOR_INFO1_LIVE"]),
        ([], []),
        (["doubleclick"], ["IDE"]),
        (["youtube"], ["YSC", "VISITOR_INFO1_LIVE"]),
    ]:
        cookie = f"{CONSENT_COOKIE}={token(services=services)}"
        page = serve(headers=[("Host", "testserver"), ("Cookie", cookie)])
        assert page.cookie_names() == kept, services
