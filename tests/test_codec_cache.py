"""The caches that make the hot path cheap never change an answer.

A decoded consent, a parsed Cookie header, a decision and a glob match are
remembered; each test shows the answer with the cache equals the answer without
it: an expired or rotated-out consent is refused even after it was cached, and
every cache stays bounded whatever a client sends. Time is moved by patching
``time.time``, never by sleeping.
"""

from __future__ import annotations

import time

import pytest
from werkzeug.http import parse_cookie

from cookieguard import Category, Consent, ConsentCodec, Cookie, Registry, cookieheader, setcookie
from cookieguard import consent as consent_module
from cookieguard import guard as guard_module
from cookieguard import state as state_module
from cookieguard._cache import BoundedCache, memoize
from cookieguard.guard import Guard, RequestState
from cookieguard.response import BYTES_HEADERS, TEXT_HEADERS

REGISTRY = Registry(
    categories=[
        Category("necessary", required=True),
        Category("statistics"),
        Category("marketing", gpc_opt_out=True),
    ],
    cookies=[
        Cookie("sessionid", "necessary"),
        Cookie("_pk_id.*", "statistics"),
        Cookie("_ga", "marketing"),
        Cookie("_ga_*", "marketing"),
    ],
)


def consent(*granted: str) -> Consent:
    return Consent(granted=frozenset(granted), revision=REGISTRY.revision)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``clock[0] += seconds`` moves the time every module sees forward."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


# -- the consent codec ----------------------------------------------------------------


def test_a_cached_consent_expires_like_an_uncached_one(clock: list[float]) -> None:
    codec = ConsentCodec("key", max_age=60)
    token = codec.dumps(consent("statistics"))
    first = codec.loads(token)
    assert first is not None
    assert codec.loads(token) is first  # served from the cache
    clock[0] += 59
    assert codec.loads(token) is first
    clock[0] += 2  # 61 s after signing
    assert codec.loads(token) is None
    assert ConsentCodec("key", max_age=60).loads(token) is None  # same answer uncached


def test_a_consent_signed_in_the_future_is_refused_cached_or_not(clock: list[float]) -> None:
    codec = ConsentCodec("key", max_age=60)
    token = codec.dumps(consent())
    assert codec.loads(token) is not None
    clock[0] -= 3600  # the clock went back: the signature is from the future
    assert codec.loads(token) is None


def test_a_codec_without_the_old_key_refuses_what_the_old_codec_cached() -> None:
    old = ConsentCodec("old-key")
    token = old.dumps(consent("statistics"))
    assert old.loads(token) is not None  # now in the old codec's cache
    assert ConsentCodec("new-key").loads(token) is None
    assert ConsentCodec(["new-key", "old-key"]).loads(token) is not None  # rotation


def test_forged_and_tampered_values_are_never_cached() -> None:
    codec = ConsentCodec("key")
    token = codec.dumps(consent("statistics"))
    forged = ConsentCodec("other-key").dumps(consent("statistics", "marketing"))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for value in (forged, tampered, "garbage", token + "x"):
        assert codec.loads(value) is None
        assert codec.loads(value) is None
    assert codec._cache == {}


def test_the_codec_cache_is_bounded() -> None:
    codec = ConsentCodec("key")
    signer = ConsentCodec("key")
    for _ in range(consent_module._CACHE_SIZE + 50):
        assert codec.loads(signer.dumps(consent())) is not None
    assert len(codec._cache) <= consent_module._CACHE_SIZE
    assert codec._cache.bytes <= consent_module._CACHE_BYTES


# -- the one bounded cache -------------------------------------------------------------


def test_a_bounded_cache_keeps_within_entries_and_bytes() -> None:
    cache: BoundedCache[str, str] = BoundedCache(10, 1000, max_item_bytes=300)
    for i in range(100):
        cache.put(f"k{i}", "v" * 100)
        assert len(cache) <= 10 and cache.bytes <= 1000
    assert "k99" in cache and "k0" not in cache  # the oldest went first
    cache.put("huge", "v" * 400)  # over max_item_bytes: answered, never stored
    assert "huge" not in cache
    cache["k99"] = "w"  # a write through [] is bounded too, and counted once
    assert cache["k99"] == "w" and cache.bytes == sum(size for size in cache._sizes.values())
    cache.clear()
    assert cache.bytes == 0 and not cache


def test_memoize_answers_like_the_function_and_stays_bounded() -> None:
    calls: list[str] = []

    @memoize(4, 10_000)
    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    assert [shout(t) for t in "abab"] == ["A", "B", "A", "B"]
    assert calls == ["a", "b"]
    for t in "cdefgh":
        shout(t)
    assert len(shout.cache) <= 4  # type: ignore[attr-defined]


# -- the guard: request state and decisions ------------------------------------------


def guard(secret_key: str | list[str] = "key", **options: object) -> Guard:
    return Guard.create(registry=REGISTRY, secret_key=secret_key, **options)  # type: ignore[arg-type]


def cookie_header(token: str, extra: str = "") -> str:
    return f"sessionid=1; cookies_preferences={token}; _ga=GA1.1{extra}"


def test_a_remembered_request_state_still_expires(clock: list[float]) -> None:
    g = guard(max_age=60)
    header = cookie_header(g.codec.dumps(consent("statistics")))
    state = g.read_request(header, None)
    assert state.consent.allows("statistics")
    assert g.read_request(header, None) is state  # parsed once
    clock[0] += 61
    expired = g.read_request(header, None)
    assert not expired.consent.allows("statistics")
    assert expired.consent.consent is None
    assert expired == guard(max_age=60).read_request(header, None)


def test_a_guard_without_the_old_key_refuses_a_consent_another_guard_cached() -> None:
    header = cookie_header(ConsentCodec("old-key").dumps(consent("statistics", "marketing")))
    assert guard("old-key").read_request(header, None).consent.allows("marketing")
    assert not guard("new-key").read_request(header, None).consent.allows("marketing")
    assert guard(["new-key", "old-key"]).read_request(header, None).consent.allows("marketing")


def test_gpc_is_part_of_what_is_remembered() -> None:
    g = guard()
    header = cookie_header(g.codec.dumps(consent("statistics", "marketing")))
    assert g.read_request(header, None).consent.allows("marketing")
    assert not g.read_request(header, "1").consent.allows("marketing")
    assert g.read_request(header, None).consent.allows("marketing")


@pytest.mark.parametrize(
    "header",
    [
        'sessionid="quoted \\"value\\""; cookies_preferences={token}',
        "cookies_preferences=forged; cookies_preferences={token}",
        "cookies_preferences={token}; cookies_preferences=forged",
        '_ga=1; _ga=2; cookies_preferences="{token}"',
        "  _pk_id.1 = a ;;; =b; c; _ga_X=\t1; cookies_preferences={token}",
        "cookies_preferences={token}; _ga=1; _pk_id.x=1; unknown=2; _ga_ABC=3",
    ],
)
def test_a_remembered_state_equals_a_fresh_reading(header: str) -> None:
    g = guard()
    header = header.format(token=g.codec.dumps(consent("statistics")))
    pairs = cookieheader.read(header)
    value = guard_module.first_value(pairs, "cookies_preferences")
    assert value == parse_cookie(header).get("cookies_preferences")  # the value Werkzeug reads
    expected = g.state_for(g.consent_from(g.codec.loads(value), False), pairs)
    for _ in range(3):  # a miss, then hits
        assert g.read_request(header, None) == expected
    assert guard().read_request(header, None) == expected


def test_cookieless_requests_share_their_state() -> None:
    g = guard()
    assert g.read_request(None, None) is g.read_request("", None)
    assert g.read_request(None, "1") == RequestState(g.consent_from(None, True))
    assert g.read_request(None, None) == RequestState(g.consent_from(None, False))


def test_a_decision_depends_on_the_consent_it_was_made_for() -> None:
    g = guard()
    yes = g.consent_from(consent("marketing"), False)
    no = g.consent_from(consent(), False)
    gpc = g.consent_from(consent("marketing"), True)
    for _ in range(2):
        assert g.decide("_ga", yes).allowed
        assert not g.decide("_ga", no).allowed
        assert g.decide("_ga", no).reason == "not-granted"
        assert g.decide("_ga", gpc).reason == "gpc"


def test_the_guard_caches_are_bounded_in_entries_and_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(guard_module, "_STATES", 64)
    monkeypatch.setattr(guard_module, "_STATES_BYTES", 64 * 1024)
    monkeypatch.setattr(state_module, "_TABLE_SIZE", 32)
    g = guard()
    for i in range(500):
        state = g.read_request(f"sessionid=1; n{i}=x; _ga_{i}=y; pad={'p' * 3000}{i}", None)
        assert g.decide(f"n{i}", state.consent).reason == "unknown"
    assert all(len(states) <= 64 and states.bytes <= 64 * 1024 for states in g._states)
    assert all(len(table.names) <= 32 for table in g._verdict_tables.values())
    huge = "x=" + "a" * guard_module._MAX_CACHED_HEADER
    g.read_request(huge, None)
    assert huge not in g._states[False]


def test_a_consent_signed_ahead_of_this_servers_clock_counts_once_it_is_valid(
    clock: list[float],
) -> None:
    g = guard()
    header = cookie_header(g.codec.dumps(consent("statistics")))
    clock[0] -= 5  # another server, whose clock runs 5 s ahead, signed the consent
    assert not g.read_request(header, None).consent.allows("statistics")
    clock[0] += 6
    assert g.read_request(header, None).consent.allows("statistics")


def test_raw_and_text_spellings_of_a_name_share_one_decision() -> None:
    g = guard()
    state = g.read_request(f"cookies_preferences={g.codec.dumps(consent('statistics'))}", None)
    text = [("Set-Cookie", "_ga=1"), ("Set-Cookie", "_pk_id.1=2")]
    raw = [(b"set-cookie", b"_ga=1"), (b"set-cookie", b"_pk_id.1=2")]
    for _ in range(2):  # a miss, then hits
        assert g.filter_headers(text, state, TEXT_HEADERS) == [
            ("Set-Cookie", "_pk_id.1=2"),
            ("Vary", "Cookie, Sec-GPC"),
        ]
        assert g.filter_headers(raw, state, BYTES_HEADERS) == [
            (b"set-cookie", b"_pk_id.1=2"),
            (b"vary", b"Cookie, Sec-GPC"),
        ]


# -- the registry's glob answers -------------------------------------------------------


def test_glob_answers_follow_the_declaration_order() -> None:
    registry = Registry(
        categories=[Category("necessary", required=True), Category("statistics")],
        cookies=[
            Cookie("a*", "statistics"),
            Cookie("ab*", "necessary"),
            Cookie("abc", "necessary"),
        ],
    )
    for _ in range(2):
        assert registry.category_of("abc") == "necessary"  # exact names win
        assert registry.category_of("abd") == "statistics"  # first pattern declared wins
        assert registry.category_of("b") is None
    for i in range(100):
        assert registry.category_of(f"a{i}") == "statistics"
        assert registry.category_of(f"z{i}") is None
    assert not hasattr(registry, "_matched")  # nothing a client sends is remembered there


# -- the deletion check, remembered by a Set-Cookie's attributes -----------------------


def sent(g: Guard, set_cookies: list[str]) -> list[str]:
    """The names whose deletion a visitor without consent receives, in both spellings."""
    state = g.read_request(None, None)
    text = g.filter_headers([("Set-Cookie", v) for v in set_cookies], state, TEXT_HEADERS) or []
    raw = g.filter_headers([(b"set-cookie", v.encode()) for v in set_cookies], state, BYTES_HEADERS)
    text_values = [v for k, v in text if k == "Set-Cookie"]
    raw_values = [v.decode() for k, v in raw or [] if k == b"set-cookie"]
    assert text_values == raw_values
    assert all("Max-Age=0" in v for v in text_values)  # only the middleware's own deletions
    return [setcookie.set_cookie_name(v) for v in text_values]


def test_an_expires_date_is_judged_again_as_time_passes(clock: list[float]) -> None:
    g = guard()
    expires = "Wed, 01 Jan 2098 00:00:00 GMT"
    stamp = setcookie.cookie_date(expires)
    assert stamp is not None
    clock[0] = stamp - 10
    assert sent(g, [f"_ga=1; Expires={expires}"]) == []  # not yet expired: removed
    clock[0] += 20
    assert sent(g, [f"_ga=2; Expires={expires}"]) == ["_ga"]  # a deletion now


def test_attributes_remembered_for_one_value_give_the_same_answer_for_others(
    clock: list[float],
) -> None:
    g = guard()
    attributes = [
        "; Max-Age=0",
        "; Max-Age=60",
        "; Path=/",
        "",
        "; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT",  # Max-Age wins
        "; Max-Age=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT",  # a Max-Age that is no number
    ]
    for visitor in range(3):  # the first response fills the memory; the others read it
        values = [f"_ga{i}=GA1.{visitor}{a}" for i, a in enumerate(attributes)]
        assert sent(g, values) == ["_ga0", "_ga5"]
        clock[0] += 86_400


def test_the_attribute_memory_is_bounded() -> None:
    memory = setcookie._read_cache
    g = guard()
    for i in range(100):
        sent(g, [f"_ga=1; Max-Age={i}", f"_ga=1; Path=/{'x' * 1100}{i}"])
    assert len(memory) <= memory.max_entries and memory.bytes <= memory.max_bytes
    assert all(len(key) <= 1024 for key in memory)  # long attributes: not kept
