"""The framework-neutral decision, function by function."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.cases import CONSENT_COOKIE, FUTURE, KEY, PAST, REGISTRY, token

from cookieguard import Category, Cookie, Registry, is_deletion, set_cookie_name
from cookieguard.guard import Guard, is_gpc
from cookieguard.response import BYTES_HEADERS, TEXT_HEADERS

NOW = 1_700_000_000.0


def guard(**options: Any) -> Guard:
    return Guard.create(registry=REGISTRY, secret_key=KEY, **options)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("sessionid=1; Path=/", "sessionid"),
        ("  sessionid\t=1", "sessionid"),
        ("sessionid", ""),  # no "=": the name is empty (RFC 6265bis)
        ("=value", ""),
        ("", ""),
        (";sessionid=1", ""),
        ("a=b=c", "a"),
        ("\xa0sessionid=1", "\xa0sessionid"),  # only spaces and tabs are stripped
        ("sessionid\u3000=1", "sessionid\u3000"),
        ("\u2603=1", "\u2603"),
        ("Name=1", "Name"),
    ],
)
def test_set_cookie_name(header: str, name: str) -> None:
    assert set_cookie_name(header) == name


@pytest.mark.parametrize(
    ("header", "deletes"),
    [
        ("a=; Max-Age=0", True),
        ("a=; max-age=-5", True),
        ("a=; MAX-AGE = 00", True),
        ("a=1; Max-Age=1", False),
        ("a=1; Max-Age=abc", False),  # an invalid Max-Age is ignored
        ("a=1; Max-Age=abc; Expires=" + PAST, True),
        ("a=1; Max-Age=0; Expires=" + FUTURE, True),  # Max-Age wins
        ("a=1; Max-Age=60; Expires=" + PAST, False),
        ("a=1; Expires=" + PAST, True),
        ("a=1; expires=" + FUTURE, False),
        ("a=1; Expires=not a date", False),
        ("a=1; Max-Age=0; Max-Age=60", False),  # the last one counts
        ("a=1; Max-Age=60; Max-Age=0", True),
        ("a=1", False),
        ("a=Max-Age=0", False),  # the value is not an attribute
        ("a=1; Max-Age=\u0660", False),  # Arabic-Indic zero is not a DIGIT
    ],
)
def test_is_deletion(header: str, deletes: bool) -> None:
    assert is_deletion(header, now=NOW) is deletes


@pytest.mark.parametrize(("value", "on"), [("1", True), (" 1 ", True), ("0", False), (None, False)])
def test_is_gpc(value: str | None, on: bool) -> None:
    assert is_gpc(value) is on


def test_request_consent_without_cookies() -> None:
    state = guard().read_request(None, None)
    assert state.consent.allows("necessary")
    assert not state.consent.allows("statistics")
    assert not state.consent.has_consent
    assert state.consent.consent_id is None
    assert state.withdrawals == ()


def test_request_consent_with_gpc() -> None:
    cookie = f"{CONSENT_COOKIE}={token(['statistics', 'marketing'], consent_id='id-1')}"
    consent = guard().read_request(cookie, "1").consent
    assert consent.allows("statistics")
    assert not consent.allows("marketing")
    assert consent.gpc and consent.gpc_blocked == {"marketing"}
    assert consent.consent_id == "id-1"
    ignoring = guard(honor_gpc=False).read_request(cookie, "1").consent
    assert ignoring.allows("marketing")


def test_decide_reasons() -> None:
    g = guard()
    consent = g.read_request(f"{CONSENT_COOKIE}={token(['statistics'])}", "1").consent
    verdicts = {n: g.decide(n, consent) for n in ("sessionid", CONSENT_COOKIE, "_pk_id.1", "ads")}
    assert {n: (v.allowed, v.reason) for n, v in verdicts.items()} == {
        "sessionid": (True, "required"),
        CONSENT_COOKIE: (True, "consent-cookie"),
        "_pk_id.1": (True, "granted"),
        "ads": (False, "not-granted"),
    }
    gpc = g.read_request(f"{CONSENT_COOKIE}={token(['marketing'])}", "1").consent
    assert g.decide("ads", gpc).reason == "gpc"
    assert g.decide("mystery", consent).reason == "unknown"
    assert not g.decide("mystery", consent).allowed
    assert guard(unknown="allow").decide("mystery", consent).allowed


def test_a_deletion_of_a_refused_cookie_leaves_as_the_middlewares_own() -> None:
    g = guard()
    state = g.read_request(None, None)
    sent = [("Set-Cookie", "ads=x; Max-Age=0; Path=/shop; Secure; SameSite=lax; Partitioned")]
    assert g.filter_headers(sent, state, TEXT_HEADERS) == [
        (
            "Set-Cookie",
            "ads=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; Path=/shop; "
            "SameSite=Lax; Partitioned",
        ),
        ("Vary", "Cookie, Sec-GPC"),
    ]
    assert g.filter_headers([("Set-Cookie", "ads=1")], state, TEXT_HEADERS) == [
        ("Vary", "Cookie, Sec-GPC")
    ]


def test_filter_headers_returns_none_when_nothing_changes() -> None:
    g = guard()
    state = g.read_request(None, None)
    assert g.filter_headers([("Content-Type", "text/html")], state, TEXT_HEADERS) is None
    assert g.filter_headers([("Set-Cookie", "sessionid=1")], state, TEXT_HEADERS) is None
    assert g.filter_headers([(b"set-cookie", b"csrftoken=1")], state, BYTES_HEADERS) is None


def test_filter_headers_keeps_the_order_of_what_passes_among_repeated_headers() -> None:
    g = guard()
    state = g.read_request(None, None)
    ads, session = ("Set-Cookie", "ads=1"), ("Set-Cookie", "sessionid=1")
    headers = [ads, ("X", "1"), session, ("Set-Cookie", "ads=1"), ads, ("X", "2"), session]
    assert g.filter_headers(headers, state, TEXT_HEADERS) == [
        ("X", "1"),
        session,
        ("X", "2"),
        session,
        ("Vary", "Cookie, Sec-GPC"),
    ]
    # ASGI servers take lists too; a Set-Cookie that leaves is sent as a tuple, which no
    # one can change once judged (and so is every header then).
    raw = [[b"set-cookie", b"ads=1"], [b"x", b"1"], [b"set-cookie", b"sessionid=1"]]
    sent = g.filter_headers(raw, state, BYTES_HEADERS)  # type: ignore[arg-type]
    assert sent == [(b"x", b"1"), (b"set-cookie", b"sessionid=1"), (b"vary", b"Cookie, Sec-GPC")]
    assert all(type(header) is tuple for header in sent or ())


def test_filter_headers_bytes_and_text_agree() -> None:
    g = guard()
    state = g.read_request("_pk_ses.1=1", None)
    text = g.filter_headers([("Set-Cookie", "ads=1"), ("X", "y")], state, TEXT_HEADERS)
    raw = g.filter_headers([(b"Set-Cookie", b"ads=1"), (b"X", b"y")], state, BYTES_HEADERS)
    assert text is not None and raw is not None
    assert [(k.lower().encode(), v.encode()) for k, v in text] == [(k.lower(), v) for k, v in raw]
    # Headers the middleware adds: WSGI style for WSGI, lower-case for ASGI.
    assert [k for k, _ in text[1:]] == ["Set-Cookie", "Vary"]
    assert [k for k, _ in raw[1:]] == [b"set-cookie", b"vary"]


def test_withdrawal_of_names_that_are_not_tokens_writes_their_bytes() -> None:
    # A browser stores such names; the deletion must name the same bytes, unquoted.
    state = guard().read_request('_pk_ses.a"b=1; _pk_ses.ok=1; _pk_ses.\xd1\x82=2', None)
    assert [raw for _, _, raw in state.withdrawals] == [
        '_pk_ses.a"b',
        "_pk_ses.ok",
        "_pk_ses.\xd1\x82",
    ]
    assert [name for name, _, _ in state.withdrawals][2] == "_pk_ses.\u0442"
    text = guard().filter_headers([], state, TEXT_HEADERS)
    raw = guard().filter_headers([], state, BYTES_HEADERS)
    assert text is not None and raw is not None
    assert [v.partition(";")[0] for _, v in text[:3]] == [
        '_pk_ses.a"b=',
        "_pk_ses.ok=",
        "_pk_ses.\xd1\x82=",
    ]
    assert raw[2][1].startswith("_pk_ses.т=;".encode())


def test_host_prefixed_withdrawal_is_a_valid_host_cookie() -> None:
    reg = Registry(
        [Category("necessary", required=True), Category("statistics")],
        [Cookie("__Host-stats", "statistics", path="/x", domain="example.test")],
    )
    g = Guard.create(registry=reg, secret_key=KEY)
    headers = g.filter_headers([], g.read_request("__Host-stats=1", None), TEXT_HEADERS)
    assert headers is not None
    deletion = headers[0][1]
    assert "Secure" in deletion and "Path=/;" in deletion + ";" and "Domain" not in deletion


def test_clean_cookie_header() -> None:
    g = guard()
    cookie = f"sessionid=1; ads=2; mystery=3; {CONSENT_COOKIE}={token(['statistics'])}; _pk_id.1=4"
    consent = g.read_request(cookie, None).consent
    assert g.clean_cookie_header(cookie, consent) == (
        f"sessionid=1; {CONSENT_COOKIE}={token(['statistics'])}; _pk_id.1=4"
    )
    assert guard(report_only=True).clean_cookie_header(cookie, consent) == cookie
    assert g.clean_cookie_header("=x; ;; ads", consent) == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"unknown": "keep"}, "unknown"),
        ({"cookie_name": "bad name"}, "cookie_name"),
        ({"cookie_name": ""}, "cookie_name"),
        ({"consent_path": "consent"}, "consent_path"),
        ({"max_age": 0}, "max_age"),
        ({"secret_key": ""}, "secret_key"),
        ({"allowed_origins": "https://partner.example"}, "allowed_origins"),
    ],
)
def test_bad_options_fail_at_start(options: dict[str, Any], message: str) -> None:
    arguments = {"registry": REGISTRY, "secret_key": KEY, **options}
    with pytest.raises(ValueError, match=message):
        Guard.create(**arguments)


def test_registry_must_be_a_registry() -> None:
    with pytest.raises(TypeError, match="Registry"):
        Guard.create(registry={"necessary": []}, secret_key=KEY)  # type: ignore[arg-type]


def test_the_work_and_output_of_one_request_are_bounded() -> None:
    from cookieguard.cookieheader import MAX_COOKIES
    from cookieguard.guard import MAX_WITHDRAWALS

    g = guard()
    cookie = "; ".join(f"_pk_id.{i}=1" for i in range(600))
    headers = g.filter_headers([], g.read_request(cookie, None), TEXT_HEADERS)
    assert headers is not None
    deletions = [v for k, v in headers if k == "Set-Cookie"]
    assert len(deletions) == MAX_WITHDRAWALS  # a browser holds ~180 cookies per site
    # A consent placed after what the middleware reads counts as none: fail closed.
    late = "; ".join(
        [*(f"x{i}=1" for i in range(MAX_COOKIES)), f"{CONSENT_COOKIE}={token(['statistics'])}"]
    )
    assert not g.read_request(late, None).consent.allows("statistics")
