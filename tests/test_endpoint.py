"""The consent endpoint, through both adapters, as a browser or a script talks to it."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from tests.support.cases import (
    CONSENT_COOKIE,
    KEY,
    REGISTRY,
    SERVICES,
    Response,
    Seen,
    call_asgi,
    call_wsgi,
    http_scope,
    raw_asgi_app,
    raw_wsgi_app,
    run_async,
    token,
)

from cookieguard import ConsentCodec, asgi, wsgi
from cookieguard.endpoint import MAX_BODY, ConsentEvent, safe_next

PATH = "/cookieguard/consent"
FORM = "application/x-www-form-urlencoded"
OPEN_REDIRECTS = [
    "//evil.example",
    "//evil.example/path",
    "https://evil.example",
    "http://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "evil.example",
    "",
    "data:text/html,hi",
]


class Client:
    """One middleware instance and a way to send it requests."""

    def __init__(self, adapter: str, **options: Any) -> None:
        self.adapter = adapter
        self.events: list[ConsentEvent] = []
        options = {"registry": REGISTRY, "secret_key": KEY, **options}
        self.app_reached = Seen()
        if adapter == "wsgi":
            app = raw_wsgi_app([], self.app_reached)
            self.middleware: Any = wsgi.CookieGuardMiddleware(
                app, on_consent=self.events.append, **options
            )
        else:
            app = raw_asgi_app([], self.app_reached)
            self.middleware = asgi.CookieGuardMiddleware(
                app, on_consent=self.events.append, **options
            )

    def request(
        self,
        method: str,
        path: str = PATH,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        scheme: str = "http",
        query: str = "",
    ) -> Response:
        headers = list(headers or [])
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", "testserver"))
        call = call_wsgi if self.adapter == "wsgi" else call_asgi
        return call(
            self.middleware,
            method=method,
            path=path,
            headers=headers,
            body=body,
            scheme=scheme,
            query=query,
        )

    def post_form(
        self, fields: list[tuple[str, str]], headers: list[tuple[str, str]] | None = None, **kw: Any
    ) -> Response:
        body = urlencode(fields).encode()
        return self.request(
            "POST", headers=[("Content-Type", FORM), *(headers or [])], body=body, **kw
        )

    def post_json(
        self, data: Any, headers: list[tuple[str, str]] | None = None, **kw: Any
    ) -> Response:
        body = json.dumps(data).encode()
        return self.request(
            "POST",
            headers=[("Content-Type", "application/json"), *(headers or [])],
            body=body,
            **kw,
        )


@pytest.fixture(params=["wsgi", "asgi"])
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(adapter: str) -> Client:
    return Client(adapter)


def consent_set_cookie(response: Response) -> str:
    (value,) = [v for v in response.set_cookies if v.startswith(f"{CONSENT_COOKIE}=")]
    return value


def attributes(set_cookie: str) -> dict[str, str]:
    pairs = [part.strip().partition("=") for part in set_cookie.split(";")[1:]]
    return {key.lower(): value for key, _, value in pairs}


def stored(response: Response) -> Any:
    value = consent_set_cookie(response).partition(";")[0].partition("=")[2]
    consent = ConsentCodec(KEY).loads(value)
    assert consent is not None
    return consent


def body(response: Response) -> Any:
    assert response.values("content-type") == ["application/json"]
    return json.loads(response.body)


# -- saving a choice ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "granted"),
    [
        ([("action", "accept_all")], {"necessary", "preferences", "statistics", "marketing"}),
        ([("action", "reject_all")], {"necessary"}),
        ([("action", "reject_all"), ("categories", "statistics")], {"necessary"}),
        (
            [("action", "save"), ("categories", "statistics"), ("categories", "marketing")],
            {"necessary", "statistics", "marketing"},
        ),
        ([("action", "save")], {"necessary"}),
        ([("categories", "preferences")], {"necessary", "preferences"}),
    ],
)
def test_form_post_saves_and_redirects(
    client: Client, fields: list[tuple[str, str]], granted: set[str]
) -> None:
    response = client.post_form(fields)
    assert response.status == 303
    assert response.values("location") == ["/"]
    consent = stored(response)
    assert consent.granted | {"necessary"} == granted
    assert consent.revision == REGISTRY.revision
    assert uuid.UUID(consent.consent_id).version == 4
    assert client.app_reached.consent is None  # the endpoint answered, not the app


@pytest.mark.parametrize(
    ("data", "granted"),
    [
        ({"action": "accept_all"}, ["necessary", "preferences", "statistics", "marketing"]),
        ({"action": "reject_all"}, ["necessary"]),
        ({"categories": ["marketing", "statistics"]}, ["necessary", "statistics", "marketing"]),
        ({"action": "save", "categories": []}, ["necessary"]),
    ],
)
def test_json_post_answers_json(client: Client, data: Any, granted: list[str]) -> None:
    response = client.post_json(data)
    assert response.status == 200
    answer = body(response)
    assert answer["granted"] == granted
    assert answer["revision"] == REGISTRY.revision
    assert answer["consent_id"] == stored(response).consent_id
    assert set(granted) == stored(response).granted | {"necessary"}


def test_form_post_answers_json_when_accept_prefers_it(client: Client) -> None:
    response = client.post_form(
        [("action", "save"), ("categories", "statistics")],
        headers=[("Accept", "application/json")],
    )
    assert response.status == 200
    assert body(response)["granted"] == ["necessary", "statistics"]
    browser = client.post_form(
        [("action", "accept_all")], headers=[("Accept", "text/html,application/json;q=0.9,*/*")]
    )
    assert browser.status == 303


def test_consent_cookie_attributes(adapter: str) -> None:
    client = Client(adapter, max_age=1234)
    plain = attributes(consent_set_cookie(client.post_form([("action", "accept_all")])))
    assert plain["max-age"] == "1234"
    assert plain["path"] == "/"
    assert plain["samesite"] == "Lax"
    assert "httponly" in plain
    assert "secure" not in plain
    assert "domain" not in plain
    secure = client.post_form([("action", "accept_all")], scheme="https")
    assert "secure" in attributes(consent_set_cookie(secure))


def test_custom_cookie_name_and_path(adapter: str) -> None:
    client = Client(adapter, cookie_name="cg", consent_path="/privacy/consent")
    response = client.request(
        "POST",
        "/privacy/consent",
        headers=[("Content-Type", FORM)],
        body=b"action=accept_all",
    )
    assert response.status == 303
    assert [v.partition("=")[0] for v in response.set_cookies] == ["cg"]
    assert client.request("POST", PATH).body == b"hello"  # the old path is the app's


def test_every_saved_consent_is_new(client: Client) -> None:
    first = stored(client.post_form([("action", "accept_all")]))
    second = stored(client.post_form([("action", "accept_all")]))
    assert first.consent_id != second.consent_id
    assert uuid.UUID(second.consent_id).version == 4


def test_on_consent_receives_the_saved_consent(client: Client) -> None:
    response = client.post_form([("action", "save"), ("categories", "statistics")])
    (event,) = client.events
    assert event.action == "save"
    assert event.consent.consent_id == stored(response).consent_id
    assert event.consent.granted == stored(response).granted == {"necessary", "statistics"}


@pytest.mark.parametrize(
    "target", ["/", "/page", "/page?tab=2#cookies", "/a/b/../c", "/p?next=//evil.example"]
)
def test_same_site_next(client: Client, target: str) -> None:
    response = client.post_form([("action", "accept_all"), ("next", target)])
    assert response.status == 303
    assert response.values("location") == [target]


def test_next_from_the_query_string(client: Client) -> None:
    response = client.post_form([("action", "accept_all")], query="next=%2Fdatasets")
    assert response.values("location") == ["/datasets"]


def test_non_ascii_next_is_percent_encoded(client: Client) -> None:
    response = client.post_form([("action", "accept_all"), ("next", "/préférences/\u2603")])
    assert response.status == 303
    assert response.values("location") == ["/pr%C3%A9f%C3%A9rences/%E2%98%83"]


@pytest.mark.parametrize("target", OPEN_REDIRECTS, ids=repr)
def test_open_redirects_fall_back_to_root(client: Client, target: str) -> None:
    response = client.post_form([("action", "accept_all"), ("next", target)])
    assert response.status == 303
    assert response.values("location") == ["/"]


# -- reading the current choice ----------------------------------------------------


def test_get_without_consent(client: Client) -> None:
    response = client.request("GET")
    assert response.status == 200
    answer = body(response)
    assert answer["granted"] == ["necessary"]
    assert answer["revision"] == REGISTRY.revision
    assert answer["consent_id"] is None
    assert response.set_cookies == []


@pytest.mark.parametrize(
    "value",
    [
        token(["statistics"], revision=1),
        token(["statistics"], key="another-key"),
        "garbage",
        token(["statistics"], age=10**8),
    ],
    ids=["stale", "forged", "garbage", "expired"],
)
def test_get_with_invalid_consent(client: Client, value: str) -> None:
    response = client.request("GET", headers=[("Cookie", f"{CONSENT_COOKIE}={value}")])
    answer = body(response)
    assert answer["granted"] == ["necessary"]
    assert answer["consent_id"] is None


def test_get_with_consent(client: Client) -> None:
    value = token(["marketing", "statistics"], consent_id="c0ffee00-0000-4000-8000-000000000000")
    response = client.request("GET", headers=[("Cookie", f"{CONSENT_COOKIE}={value}")])
    answer = body(response)
    assert answer["granted"] == ["necessary", "statistics", "marketing"]
    assert answer["consent_id"] == "c0ffee00-0000-4000-8000-000000000000"


# -- withdrawal --------------------------------------------------------------------


def test_withdrawing_deletes_the_cookies_the_request_carries(client: Client) -> None:
    cookie = f"sessionid=s; _pk_id.1.ab=x; ads=y; {CONSENT_COOKIE}={token(['statistics'])}"
    response = client.post_form(
        [("action", "save"), ("categories", "marketing")], headers=[("Cookie", cookie)]
    )
    assert response.status == 303
    deletions = {
        v.partition("=")[0]: attributes(v)
        for v in response.set_cookies
        if not v.startswith(CONSENT_COOKIE)
    }
    assert set(deletions) == {"_pk_id.1.ab"}
    assert deletions["_pk_id.1.ab"]["max-age"] == "0"
    assert deletions["_pk_id.1.ab"]["path"] == "/stats"
    assert stored(response).granted == {"necessary", "marketing"}


# -- refusals ------------------------------------------------------------------------

CARRIED = ("Cookie", f"_pk_id.1=x; {CONSENT_COOKIE}={token(['statistics'])}")


@pytest.mark.parametrize(
    "headers",
    [
        [("Sec-Fetch-Site", "cross-site")],
        [("Sec-Fetch-Site", "Cross-Site"), ("Origin", "http://testserver")],
        [("Origin", "null")],
        [("Origin", "https://evil.example")],
        [("Origin", "http://testserver.evil.example")],
        [("Origin", "https://testserver")],  # another scheme is another origin
        [("Origin", "http://testserver:8080")],
    ],
    ids=repr,
)
def test_cross_site_post_is_refused(client: Client, headers: list[tuple[str, str]]) -> None:
    response = client.post_form([("action", "accept_all")], headers=[*headers, CARRIED])
    assert response.status == 403
    assert response.set_cookies == []
    assert client.events == []


@pytest.mark.parametrize(
    ("scheme", "host", "origin"),
    [
        ("http", "testserver", "http://testserver"),
        ("http", "testserver", "http://testserver:80"),
        ("http", "testserver:80", "http://testserver"),
        ("https", "testserver", "https://testserver:443"),
        ("https", "TestServer:443", "https://testserver"),
        ("http", "testserver:8000", "http://testserver:8000"),
    ],
)
def test_same_origin_post_is_accepted(client: Client, scheme: str, host: str, origin: str) -> None:
    response = client.post_form(
        [("action", "accept_all")],
        headers=[("Host", host), ("Origin", origin), ("Sec-Fetch-Site", "same-origin")],
        scheme=scheme,
    )
    assert response.status == 303


def test_allowed_origins_let_one_through(adapter: str) -> None:
    client = Client(adapter, allowed_origins=["https://www.example.test:443/"])
    allowed = client.post_form(
        [("action", "accept_all")], headers=[("Origin", "https://www.example.test")]
    )
    assert allowed.status == 303
    refused = client.post_form(
        [("action", "accept_all")], headers=[("Origin", "https://other.example.test")]
    )
    assert refused.status == 403


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ([("action", "save"), ("categories", "advertising")], "advertising"),
        ([("categories", "statistics"), ("categories", "Statistics")], "Statistics"),
        ([("action", "accept_everything")], "accept_everything"),
        ([("action", "")], "''"),
    ],
)
def test_unknown_category_or_action_is_400_naming_it(
    client: Client, fields: list[tuple[str, str]], named: str
) -> None:
    response = client.post_form(fields, headers=[CARRIED])
    assert response.status == 400
    assert named in body(response)["error"]
    assert response.set_cookies == []


@pytest.mark.parametrize(
    "data",
    [{"categories": ["nope"]}, {"action": "nope"}, {"categories": "statistics"}, [1], "x"],
    ids=repr,
)
def test_bad_json_is_400(client: Client, data: Any) -> None:
    response = client.post_json(data, headers=[CARRIED])
    assert response.status == 400
    assert response.set_cookies == []


@pytest.mark.parametrize(
    ("content_type", "payload", "status"),
    [
        ("application/json", b"{not json", 400),
        ("application/json", b"\xff\xfe", 400),
        ("application/json", b"[" * 10_000, 400),
        ("text/plain", b"action=accept_all", 415),
        (FORM, b"", 400),
        (FORM, b"%%%\xff", 400),
        ("multipart/form-data", b"garbage", 400),
    ],
    ids=["bad-json", "bad-utf8-json", "deep-json", "text", "empty-form", "bad-form", "multipart"],
)
def test_malformed_bodies_never_set_a_cookie(
    client: Client, content_type: str, payload: bytes, status: int
) -> None:
    response = client.request(
        "POST", headers=[("Content-Type", content_type), CARRIED], body=payload
    )
    assert response.status == status
    assert response.set_cookies == []


def test_oversized_body_is_refused(client: Client) -> None:
    payload = b"action=accept_all&next=/" + b"a" * MAX_BODY
    response = client.request("POST", headers=[("Content-Type", FORM)], body=payload)
    assert response.status == 413
    assert response.set_cookies == []


def test_other_methods_are_405(client: Client) -> None:
    response = client.request("DELETE")
    assert response.status == 405
    assert "POST" in response.values("allow")[0]
    assert response.set_cookies == []


# -- Global Privacy Control support resource -----------------------------------------


def test_gpc_well_known_resource(adapter: str) -> None:
    response = Client(adapter).request("GET", "/.well-known/gpc.json")
    assert response.status == 200
    assert body(response)["gpc"] is True
    ignored = Client(adapter, honor_gpc=False).request("GET", "/.well-known/gpc.json")
    assert ignored.body == b"hello"  # the app's own answer


def multipart(*parts: tuple[str, str, str | None]) -> bytes:
    chunks = []
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"\r\nContent-Type: text/plain'
        chunks.append(f"--XX\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n")
    return ("".join(chunks) + "--XX--\r\n").encode()


def test_multipart_form(client: Client) -> None:
    payload = multipart(("action", "save", None), ("categories", "statistics", None))
    response = client.request(
        "POST", headers=[("Content-Type", "multipart/form-data; boundary=XX")], body=payload
    )
    assert response.status == 303
    assert stored(response).granted == {"necessary", "statistics"}


def test_multipart_with_too_many_parts_is_refused(client: Client) -> None:
    payload = multipart(*[("categories", "statistics", None)] * 200)
    response = client.request(
        "POST",
        headers=[("Content-Type", "multipart/form-data; boundary=XX"), CARRIED],
        body=payload,
    )
    assert response.status == 413
    assert response.set_cookies == []


def test_multipart_file_fields_are_ignored(client: Client) -> None:
    payload = multipart(("action", "accept_all", "choice.txt"))
    response = client.request(
        "POST", headers=[("Content-Type", "multipart/form-data; boundary=XX")], body=payload
    )
    assert response.status == 400  # a file is not a field
    assert response.set_cookies == []


def test_a_failing_on_consent_does_not_undo_the_choice(
    adapter: str, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(event: ConsentEvent) -> None:
        raise RuntimeError("the consent log is down")

    client = Client(adapter)
    client.middleware.on_consent = explode
    response = client.post_form([("action", "accept_all")])
    assert response.status == 303
    assert stored(response).granted == {"necessary", "preferences", "statistics", "marketing"}
    assert any("on_consent" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"action": 1}',
        b'{"next": ["/"] , "action": "accept_all"}',
        b'{"action": "accept_all", "action": "reject_all"}',
    ],
)
def test_json_fields_of_the_wrong_kind_are_400(client: Client, payload: bytes) -> None:
    response = client.request(
        "POST", headers=[("Content-Type", "application/json"), CARRIED], body=payload
    )
    assert response.status == 400
    assert response.set_cookies == []


def test_repeated_action_is_400(client: Client) -> None:
    response = client.post_form([("action", "accept_all"), ("action", "reject_all")])
    assert response.status == 400
    assert "action" in body(response)["error"]


def test_a_bodiless_post_reads_the_query_string(client: Client) -> None:
    response = client.request("POST", query="action=reject_all&next=/back")
    assert response.status == 303
    assert response.values("location") == ["/back"]
    assert stored(response).granted == {"necessary"}


def test_repeated_cookie_headers_are_all_read(client: Client) -> None:
    response = client.request(
        "GET",
        headers=[
            ("Cookie", "sessionid=1"),
            ("Cookie", f"{CONSENT_COOKIE}={token(['statistics'])}"),
        ],
    )
    assert body(response)["granted"] == ["necessary", "statistics"]


def test_safe_next_refuses_what_cannot_be_a_location() -> None:
    assert safe_next("/\udc80") == "/"
    assert safe_next("/ok") == "/ok"


def test_a_client_leaving_before_its_body_gets_no_answer() -> None:
    middleware = asgi.CookieGuardMiddleware(
        raw_asgi_app([], Seen()), registry=REGISTRY, secret_key=KEY
    )
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = http_scope(method="POST", path=PATH, headers=[("Host", "testserver")])
    run_async(middleware(scope, receive, send))
    assert sent == []


# -- services ------------------------------------------------------------------------


@pytest.fixture
def services(adapter: str) -> Client:
    return Client(adapter, registry=SERVICES)


def carrying(value: str, *others: str) -> tuple[str, str]:
    return ("Cookie", "; ".join((*others, f"{CONSENT_COOKIE}={value}")))


def test_save_takes_repeated_services(services: Client) -> None:
    response = services.post_form(
        [
            ("action", "save"),
            ("categories", "statistics"),
            ("services", "youtube"),
            ("services", "doubleclick"),
            ("next", "/back"),
        ]
    )
    assert response.status == 303
    assert response.values("location") == ["/back"]
    consent = stored(response)
    assert consent.granted == {"necessary", "statistics"}
    assert consent.services == {"youtube", "doubleclick"}


def test_save_replaces_the_services_granted_one_by_one(services: Client) -> None:
    cookie = carrying(token(["statistics"], services=["youtube", "doubleclick"]))
    response = services.post_json({"action": "save", "services": ["doubleclick"]}, headers=[cookie])
    answer = body(response)
    assert answer["services"] == ["doubleclick"]
    assert answer["granted"] == ["necessary"]
    assert stored(response).services == {"doubleclick"}


def test_services_alone_is_a_save(services: Client) -> None:
    response = services.post_json({"services": ["matomo"]})
    assert body(response)["services"] == ["matomo"]
    assert body(response)["allowed_services"] == ["matomo"]


def test_grant_adds_one_service_and_keeps_the_rest(services: Client) -> None:
    cookie = carrying(token(["statistics"], services=["doubleclick"]))
    response = services.post_form(
        [("action", "grant"), ("service", "youtube"), ("next", "/video#embed-youtube-1")],
        headers=[cookie],
    )
    assert response.status == 303
    assert response.values("location") == ["/video#embed-youtube-1"]
    consent = stored(response)
    assert consent.granted == {"necessary", "statistics"}
    assert consent.services == {"youtube", "doubleclick"}
    assert consent.consent_id != "9f0b7cf1-52ee-4a52-9a21-30f6b0c8f1de"  # a new choice
    assert services.events[-1].action == "grant"
    assert services.events[-1].services == {"youtube", "doubleclick"}
    assert services.events[-1].previous is not None


def test_grant_without_a_consent_grants_that_service_only(services: Client) -> None:
    answer = body(services.post_json({"action": "grant", "service": "youtube"}))
    assert answer["granted"] == ["necessary"]
    assert answer["services"] == ["youtube"]
    assert answer["allowed_services"] == ["youtube"]
    assert answer["allowed"] == ["necessary"]


def test_grant_over_a_stale_consent_keeps_nothing_of_it(services: Client) -> None:
    cookie = carrying(token(["statistics"], services=["doubleclick"], revision=1))
    answer = body(services.post_json({"action": "grant", "service": "youtube"}, headers=[cookie]))
    assert answer["granted"] == ["necessary"]
    assert answer["services"] == ["youtube"]


def test_revoke_removes_one_service_and_keeps_the_rest(services: Client) -> None:
    cookie = carrying(token(["statistics"], services=["youtube", "doubleclick"]))
    response = services.post_json({"action": "revoke", "service": "youtube"}, headers=[cookie])
    answer = body(response)
    assert answer["granted"] == ["necessary", "statistics"]
    assert answer["services"] == ["doubleclick"]
    assert stored(response).services == {"doubleclick"}


def test_revoke_deletes_the_cookies_of_the_service(services: Client) -> None:
    cookie = carrying(
        token(["statistics"], services=["youtube"]), "YSC=1", "VISITOR_INFO1_LIVE=2", "_pk_id.1=3"
    )
    response = services.post_form(
        [("action", "revoke"), ("service", "youtube"), ("next", "/video")], headers=[cookie]
    )
    deleted = {
        v.partition("=")[0]: attributes(v)
        for v in response.set_cookies
        if not v.startswith(CONSENT_COOKIE)
    }
    assert set(deleted) == {"YSC", "VISITOR_INFO1_LIVE"}
    assert deleted["VISITOR_INFO1_LIVE"]["path"] == "/video"
    assert all(attrs["max-age"] == "0" for attrs in deleted.values())


def test_grant_keeps_the_cookies_of_the_service(services: Client) -> None:
    cookie = carrying(token(), "YSC=1", "IDE=2")
    response = services.post_json({"action": "grant", "service": "youtube"}, headers=[cookie])
    deleted = [
        v.partition("=")[0] for v in response.set_cookies if not v.startswith(CONSENT_COOKIE)
    ]
    assert deleted == ["IDE"]


def test_accept_all_grants_every_category_and_services_follow(services: Client) -> None:
    cookie = carrying(token(services=["youtube"]))
    answer = body(services.post_json({"action": "accept_all"}, headers=[cookie]))
    assert answer["granted"] == ["necessary", "statistics", "marketing"]
    assert answer["services"] == []
    assert answer["allowed_services"] == ["youtube", "doubleclick", "matomo"]


def test_reject_all_clears_the_services_granted_one_by_one(services: Client) -> None:
    cookie = carrying(token(["statistics"], services=["youtube"]), "YSC=1")
    response = services.post_json({"action": "reject_all"}, headers=[cookie])
    answer = body(response)
    assert answer["services"] == []
    assert answer["allowed_services"] == []
    assert stored(response).services == frozenset()
    assert any(v.startswith("YSC=;") for v in response.set_cookies)


def test_get_lists_the_services(services: Client) -> None:
    cookie = carrying(token(["statistics"], services=["youtube"]))
    answer = body(services.request("GET", headers=[cookie]))
    assert answer["services"] == ["youtube"]
    assert answer["allowed_services"] == ["youtube", "matomo"]
    assert body(services.request("GET"))["services"] == []


def test_gpc_leaves_a_service_granted_one_by_one(services: Client) -> None:
    cookie = carrying(token(["marketing"], services=["youtube"]))
    answer = body(services.request("GET", headers=[cookie, ("Sec-GPC", "1")]))
    assert answer["allowed"] == ["necessary"]
    assert answer["allowed_services"] == ["youtube"]


def test_an_old_consent_without_services_is_honoured(services: Client) -> None:
    answer = body(services.request("GET", headers=[carrying(token(["marketing"]))]))
    assert answer["granted"] == ["necessary", "marketing"]
    assert answer["services"] == []
    assert answer["allowed_services"] == ["youtube", "doubleclick"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ([("action", "grant"), ("service", "vimeo")], "'vimeo'"),
        ([("action", "revoke"), ("service", "Youtube")], "'Youtube'"),
        ([("action", "save"), ("services", "youtube"), ("services", "vimeo")], "'vimeo'"),
        ([("services", "marketing")], "'marketing'"),
        ([("action", "grant")], "service"),
        ([("action", "grant"), ("service", "youtube"), ("service", "matomo")], "service"),
        ([("action", "grant"), ("service", "youtube"), ("categories", "marketing")], "service"),
    ],
)
def test_an_unknown_or_missing_service_is_400_naming_it(
    services: Client, fields: list[tuple[str, str]], named: str
) -> None:
    cookie = carrying(token(["statistics"]), "YSC=1")
    response = services.post_form(fields, headers=[cookie])
    assert response.status == 400
    assert named in body(response)["error"]
    assert response.set_cookies == []
    assert services.events == []


@pytest.mark.parametrize(
    "data",
    [
        {"action": "grant", "service": ["youtube"]},
        {"action": "grant", "service": 1},
        {"action": "save", "services": "youtube"},
        {"action": "save", "services": [1]},
        {"action": "grant", "service": "vimeo"},
    ],
    ids=repr,
)
def test_bad_json_services_are_400(services: Client, data: Any) -> None:
    response = services.post_json(data)
    assert response.status == 400
    assert response.set_cookies == []


def test_a_cross_site_grant_is_refused(services: Client) -> None:
    response = services.post_form(
        [("action", "grant"), ("service", "youtube")],
        headers=[("Origin", "https://evil.example")],
    )
    assert response.status == 403
    assert response.set_cookies == []


@pytest.mark.parametrize("target", ["//evil.example#x", "https://evil.example/#a", "#top"])
def test_a_grant_never_redirects_off_site(services: Client, target: str) -> None:
    response = services.post_form([("action", "grant"), ("service", "youtube"), ("next", target)])
    assert response.values("location") == ["/"]
