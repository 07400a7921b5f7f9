"""Signed consents: round trip, expiry, key rotation, and never raising on bad input."""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from tests.support.cases import FOREIGN_KEY, KEY, OLD_KEY, itsdangerous_clock, tampered, token

from cookieguard import Consent, ConsentCodec
from cookieguard.consent import new_consent

CONSENT = Consent(frozenset({"statistics", "marketing"}), 3, "c0ffee00-0000-4000-8000-000000000000")


def test_round_trip() -> None:
    codec = ConsentCodec(KEY)
    value = codec.dumps(CONSENT)
    loaded = codec.loads(value)
    assert loaded is not None
    assert (loaded.granted, loaded.revision, loaded.consent_id) == (
        CONSENT.granted,
        CONSENT.revision,
        CONSENT.consent_id,
    )
    assert loaded.given_at.tzinfo is not None
    assert abs(loaded.given_at.timestamp() - time.time()) < 60
    assert codec.loads(value.encode()) == loaded


def test_value_is_cookie_safe() -> None:
    value = ConsentCodec(KEY).dumps(CONSENT)
    assert value.isascii()
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_consent_is_immutable_and_utc() -> None:
    consent = new_consent(["statistics"], 2)
    assert consent.allows("statistics")
    assert not consent.allows("marketing")
    assert consent.given_at.utcoffset() == datetime.now(timezone.utc).utcoffset()
    assert uuid.UUID(consent.consent_id).version == 4
    assert new_consent([], 2).consent_id != consent.consent_id
    with pytest.raises(dataclasses.FrozenInstanceError):
        consent.revision = 3  # type: ignore[misc]
    assert isinstance(Consent({"a"}, 1).granted, frozenset)  # type: ignore[arg-type]


def test_expired_consent_is_none() -> None:
    codec = ConsentCodec(KEY, max_age=60)
    assert codec.loads(token(["statistics"], age=30)) is not None
    assert codec.loads(token(["statistics"], age=3600)) is None


def test_expiry_is_checked_again_for_a_value_already_read() -> None:
    codec = ConsentCodec(KEY, max_age=60)
    value = token(["statistics"], age=30)
    assert codec.loads(value) is not None
    later = time.time() + 120
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("cookieguard.consent.time", SimpleNamespace(time=lambda: later))
        with itsdangerous_clock(-120):
            assert codec.loads(value) is None


def test_signed_in_the_future_is_refused() -> None:
    assert ConsentCodec(KEY).loads(token(["statistics"], age=-3600)) is None


def test_key_rotation() -> None:
    old_value = ConsentCodec(OLD_KEY).dumps(CONSENT)
    rotated = ConsentCodec([KEY, OLD_KEY])
    assert rotated.loads(old_value) is not None  # older keys still verify
    new_value = rotated.dumps(CONSENT)
    assert ConsentCodec(KEY).loads(new_value) is not None  # signed with the current key
    assert ConsentCodec(OLD_KEY).loads(new_value) is None
    assert ConsentCodec(KEY).loads(old_value) is None  # a dropped key fails


def test_bytes_keys() -> None:
    assert ConsentCodec([KEY.encode()]).loads(ConsentCodec(KEY).dumps(CONSENT)) is not None


def serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        key, salt="cookieguard.consent", serializer_kwargs={"separators": (",", ":")}
    )


def test_other_salt_is_refused() -> None:
    other = URLSafeTimedSerializer(KEY, salt="itsdangerous").dumps([["statistics"], 3, "id"])
    assert ConsentCodec(KEY).loads(other) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"granted": ["statistics"]},
        [["statistics"], 3],
        [["statistics"], "3", "id"],
        [["statistics"], True, "id"],
        [["statistics"], 3, ""],
        [["statistics"], 3, 7],
        ["statistics", 3, "id"],
        [[1], 3, "id"],
        None,
        "x",
    ],
    ids=repr,
)
def test_well_signed_but_wrong_shape_is_none(payload: Any) -> None:
    assert ConsentCodec(KEY).loads(serializer(KEY).dumps(payload)) is None


BAD_VALUES: list[Any] = [
    None,
    "",
    b"",
    "garbage",
    "a.b.c",
    "....",
    "x" * 5000,
    "\u2603",
    b"\xff\xfe",
    "token=",
    "\x00",
    5,
    3.5,
    ["a"],
    object(),
]


@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_never_raises(value: Any) -> None:
    assert ConsentCodec(KEY).loads(value) is None


def test_tampered_and_forged_are_none() -> None:
    codec = ConsentCodec(KEY)
    value = codec.dumps(CONSENT)
    assert codec.loads(tampered(value)) is None
    assert codec.loads(value[:-1]) is None
    assert codec.loads(value + "A") is None
    assert codec.loads(ConsentCodec(FOREIGN_KEY).dumps(CONSENT)) is None
    payload, _, signature = value.rpartition(".")
    assert codec.loads(f"{payload}.{signature[::-1]}") is None


@pytest.mark.parametrize("key", ["", [], [""], [KEY, ""], None, 5])
def test_bad_keys_are_refused_at_start(key: Any) -> None:
    with pytest.raises(ValueError):
        ConsentCodec(key)


@pytest.mark.parametrize("max_age", [0, -1, True, 1.5, "60"])
def test_bad_max_age_is_refused(max_age: Any) -> None:
    with pytest.raises(ValueError):
        ConsentCodec(KEY, max_age=max_age)
