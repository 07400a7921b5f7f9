"""Every rule of the contract's decision, through Django: test client, WSGIHandler, ASGIHandler.

The case table of :mod:`tests.support.cases` is served by a Django view. Django keeps one
value per header name, so the case's first ``Set-Cookie`` goes out as the raw
``response.headers["Set-Cookie"]`` and the others as morsels of
``response.cookies`` (or all of them as morsels), written out as given; the
case's ``Vary`` values are one header.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from tests.support.cases import CASES, KEY, Case, Seen, request_headers, seen_names
from tests.test_contract import attributes, is_subsequence, name_of

from . import DRIVERS, Spec


def django_settings(case: Case) -> dict[str, Any]:
    """The case's middleware options as Django settings (a key list: Django's fallbacks)."""
    options = dict(case.options)
    key = options.pop("secret_key", KEY)
    keys = key if isinstance(key, list) else [key]
    return {
        "SECRET_KEY": keys[0],
        "SECRET_KEY_FALLBACKS": keys[1:],
        "COOKIEGUARD": {"REGISTRY": case.registry, "OPTIONS": options},
    }


@pytest.fixture(params=list(DRIVERS))
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("raw_first", [True, False], ids=["raw-header-first", "morsels"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(driver: str, case: Case, raw_first: bool) -> None:
    if driver == "asgi" and not all(name.isascii() for name, _, _ in case.deleted):
        pytest.skip("ASGIHandler writes cookies as ASCII: see the test of UTF-8 withdrawals")
    Spec.headers, Spec.raw_first, Spec.seen = case.response, raw_first, Seen()
    with override_settings(**django_settings(case)):
        response = DRIVERS[driver]()(headers=request_headers(case))

    set_cookies = response.set_cookies
    kept, added = set_cookies[: len(case.kept)], set_cookies[len(case.kept) :]
    assert [name_of(v) for v in kept] == list(case.kept)
    # ASGIHandler strips the space around each morsel's line: Django's doing, not ours.
    sent = [v.strip(" \t") for k, v in case.response if k.strip(" \t").lower() == "set-cookie"]
    unchanged = [v.strip(" \t") for v in kept]
    assert is_subsequence(unchanged, sent), "kept headers must pass unchanged and in order"
    assert [name_of(v) for v in added] == [name for name, _, _ in case.deleted]
    for (_, path, domain), deletion in zip(case.deleted, added, strict=True):
        attrs = attributes(deletion)
        assert deletion.partition(";")[0].partition("=")[2] == ""
        assert attrs["max-age"] == "0"
        assert attrs.get("path") == path
        assert attrs.get("domain", "").lstrip(".") == (domain or "").lstrip(".")
    assert response.values("vary") == ([", ".join(case.vary)] if case.vary else [])
    others = [k.lower() for k, _ in case.response if k.lower().startswith("x-")]
    received = [k.lower() for k, _ in response.headers if k.lower().startswith("x-")]
    assert received == ["x-before", *others, "x-after"]
    assert response.status == 200
    assert response.body == b"hello"
    for category, expected in case.allows.items():
        assert Spec.seen.consent.allows(category) is expected, category
    for service, expected in case.allows_service.items():
        assert Spec.seen.consent.allows_service(service) is expected, service
    if case.seen_cookies is not None:
        assert seen_names(Spec.seen.cookie) == case.seen_cookies


def test_utf8_withdrawals_under_asgi_never_crash_the_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first goes out as Django's one raw Set-Cookie header; the others are logged."""
    (case,) = [c for c in CASES if c.id == "names-that-are-not-tokens-are-withdrawn-byte-for-byte"]
    Spec.headers, Spec.raw_first, Spec.seen = (), True, Seen()
    with override_settings(**django_settings(case)):
        response = DRIVERS["asgi"]()(headers=request_headers(case))
    assert response.status == 200
    odd = [name for name, _, _ in case.deleted if not name.isascii()]
    withdrawn = [name_of(v) for v in response.set_cookies]
    assert len([n for n in withdrawn if n in odd]) == 1
    assert [r for r in caplog.records if "writes cookies as ASCII" in r.getMessage()]
