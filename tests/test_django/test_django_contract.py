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
from tests.support.cases import CASES, KEY, Case, Seen, request_headers
from tests.test_contract import assert_meets, name_of

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

    # ASGIHandler strips the space around each morsel's line: Django's doing, not ours.
    assert_meets(case, response, Spec.seen, trimmed=True, one_vary=True)


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
