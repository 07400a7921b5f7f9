"""``cookieguard.setcookie`` reads ``Set-Cookie`` values as Chromium does.

Each expectation below is what Chromium's ``net/cookies`` code does with the line
(``parsed_cookie.cc``, ``canonical_cookie.cc``, ``cookie_util.cc``); where that
differs from RFC 6265bis or from ``email.utils``, the comment says so.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cookieguard import is_deletion, set_cookie_name
from cookieguard.guard import is_deletion as guard_is_deletion
from cookieguard.setcookie import cookie_date, deletion, is_writable_name, parse

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc).timestamp()
PAST = "Thu, 01 Jan 1970 00:00:00 GMT"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"


def test_the_contract_names_stay_importable_from_the_guard() -> None:
    assert guard_is_deletion is is_deletion
    assert set_cookie_name(" a =1; b=2") == "a"


@pytest.mark.parametrize(
    ("header", "deletes"),
    [
        ("a=1; Max-Age=0", True),
        ("a=1; Max-Age=-5", True),
        ("a=1; Max-Age=+0", True),  # base::StringToInt64 takes a leading "+"
        ("a=1; Max-Age=-0", True),
        ("a=1; Max-Age=00", True),
        ("a=1; Max-Age=+100", False),
        ("a=1; Max-Age=0; Max-Age=abc", False),  # the last Max-Age decides, whatever it is
        ("a=1; Max-Age=0; Max-Age=", False),
        ("a=1; Max-Age=0; Max-Age", False),
        ("a=1; Max-Age=0; Max-Age=1e3", False),
        ("a=1; Max-Age=0; Max-Age=--5", False),
        ("a=1; Max-Age=0; Max-Age=\u0660", False),  # a non-ASCII digit is no digit
        ("a=1; Max-Age=0; max-age=10", False),  # attribute names are case-insensitive
        (f"a=1; Max-Age=abc; Expires={PAST}", True),  # not a number: Expires decides
        (f"a=1; Max-Age=60; Expires={PAST}", False),  # a number: Max-Age wins
        (f"a=1; Max-Age=0; Expires={FUTURE}", True),
        ("a=1; Max-Age=-99999999999999999999", True),  # below int64: the earliest time
        ("a=1; Max-Age=99999999999999999999", False),
        ("a=1; Max-Age=0; Max-Age=" + "0" * 1025, True),  # over 1024 bytes: ignored
        ("a=1; Max-Age=" + "0" * 1025, False),  # so nothing deletes here
        (f"a=1; Expires={PAST}", True),
        (f"a=1; Expires={PAST}; Expires=nonsense", False),  # the last Expires decides
        (f"a=1; Expires={FUTURE}; Expires={PAST}", True),
        ("a=1; Expires=Thu, 01 Jan 69 00:00:00 GMT", False),  # 69 is 2069
        ("a=1; Expires=Thu, 01 Jan 70 00:00:00 GMT", True),  # 70 is 1970
        ("a=1; Expires=Thu, 01 Jan 1970 00:00 GMT", False),  # no seconds: no date at all
        ("a=1; Expires=Thu, 01 Jan 2026 00:00:00 +2400", True),  # time zones are ignored
        ("a=1; Expires=1 jan 2026 0:0:0", True),
        ("a=1; Expires=Thu, 30 Feb 2020 00:00:00 GMT", False),  # no such day
        ("a=1; Expires=Thu, 01 Janvier 2020 23:59:60", False),  # no such second
        ("a=1; Expires=2020-01-01 00:00:00", False),  # no month name
        ("a=1; Expires=", False),
        ("a=1", False),
        ("a=1; Max-Age=0\x01", False),  # a control character: Chromium rejects the line
        ("a\tb=1; Max-Age=0", False),
        ("=; Max-Age=0", False),  # neither name nor value: rejected
        ("a=" + "v" * 4096 + "; Max-Age=0", False),  # name and value over 4096 bytes
        ("a=1; Max-Age=0\r\nSet-Cookie: b=2", False),  # never read: never sent
    ],
)
def test_is_deletion_as_chromium_reads_it(header: str, deletes: bool) -> None:
    assert is_deletion(header, now=NOW) is deletes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", (1994, 11, 6, 8, 49, 37)),
        ("Sunday, 06-Nov-94 08:49:37 GMT", (1994, 11, 6, 8, 49, 37)),
        ("Sun Nov  6 08:49:37 1994", (1994, 11, 6, 8, 49, 37)),
        ("6 november 1994 8:9:7", (1994, 11, 6, 8, 9, 7)),
        ("06 Nov 00 08:49:37", (2000, 11, 6, 8, 49, 37)),
        ("Thu, 01 Jan 1970 00:00:00 PST", (1970, 1, 1, 0, 0, 0)),
    ],
)
def test_cookie_dates(text: str, expected: tuple[int, ...]) -> None:
    assert cookie_date(text) == datetime(*expected, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("text", ["", "nonsense", "06 Nov 1994", "Nov 1994 08:49:37", "1:2"])
def test_what_is_no_cookie_date(text: str) -> None:
    assert cookie_date(text) is None


def test_attributes_chromium_keeps() -> None:
    parsed = parse(
        "a=1; path=/x; Path=/y; Domain=.example.test; domain=; secure; SameSite=lax; Partitioned"
    )
    assert parsed is not None
    attributes = parsed.attributes
    assert (attributes.path, attributes.domain) == ("/y", ".example.test")  # an empty Domain: none
    assert (attributes.secure, attributes.samesite, attributes.partitioned) == (True, "Lax", True)
    assert parse("novalue") == parse("novalue")  # no "=": the whole pair is the value
    assert parse("novalue") is not None and parse("novalue").name == ""  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["тест".encode().decode("latin-1"), '"test', "@a", "(a", "a b"])
def test_a_deletion_names_the_cookie_byte_for_byte(name: str) -> None:
    assert is_writable_name(name)
    written = deletion(name, path="/")
    parsed = parse(written)
    assert parsed is not None and parsed.name == name and parsed.deletes(NOW)
    assert written.startswith(f"{name}=;")


@pytest.mark.parametrize("name", ["", " a", "a;b", "a=b", "a\x01", "a\r"])
def test_names_no_browser_holds_get_no_deletion(name: str) -> None:
    assert not is_writable_name(name)


def test_a_deletion_keeps_where_the_cookie_lives() -> None:
    written = deletion("a", path="/a b/é", domain="Example.Test", secure=True, samesite="STRICT")
    parsed = parse(written)
    assert parsed is not None and parsed.deletes(NOW)
    a = parsed.attributes
    assert (a.path, a.domain, a.secure, a.samesite) == ("/a b/é", "Example.Test", True, "Strict")
    assert parse(deletion("a", path="relative")).attributes.path is None  # type: ignore[union-attr]
    host = parse(deletion("__Host-a", path="/x", domain="example.test"))
    assert host is not None
    assert (host.attributes.path, host.attributes.domain, host.attributes.secure) == (
        "/",
        None,
        True,
    )
