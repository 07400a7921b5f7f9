"""Token attacks: thousands of mutated consent values, every one of them "no consent".

Each attack value goes to :meth:`ConsentCodec.loads` (it must answer None and
never raise) and through the ASGI and WSGI middleware with an application that
sets a cookie of every category: only the strictly necessary one may leave.

One mutation is not an attack: flipping a bit that base64 does not use (the
low bits of a segment's last character) yields another spelling of the same
bytes, and the contract allows it to verify. Such values are recognised by
decoding every segment and comparing bytes with the original; they are counted
apart and must decode to exactly the original consent.
"""

from __future__ import annotations

import base64
import random
import re
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from tests.support.hardening import (
    FIGURES,
    KEY,
    OLD_KEY,
    WRONG_KEY,
    Recorder,
    http_scope,
    receive_from,
    run_sync,
    sign,
    wsgi_environ,
)

from cookieguard import Category, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware as ASGIGuard
from cookieguard.consent import Consent, ConsentCodec
from cookieguard.wsgi import CookieGuardMiddleware as WSGIGuard

REGISTRY = Registry(
    categories=[
        Category("necessary", required=True),
        Category("preferences"),
        Category("statistics"),
        Category("marketing", gpc_opt_out=True),
    ],
    cookies=[
        Cookie("sessionid", "necessary"),
        Cookie("lang", "preferences"),
        Cookie("_pk_id.*", "statistics"),
        Cookie("_fbp", "marketing"),
    ],
    revision=2,
)
APP_COOKIES = ("sessionid=s", "lang=fr", "_pk_id.1.ab=v", "_fbp=fb")
EVERYTHING = ["marketing", "necessary", "preferences", "statistics"]
CONSENT_ID = "2b1f9c7e-0000-4000-8000-000000000000"


B64 = re.compile(r"[A-Za-z0-9_-]+")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(segment: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError:
        return None


def same_bytes(a: str, b: str) -> bool:
    """True when ``a`` differs from ``b`` only in base64's unused trailing bits.

    That is: same segments except for the last character of some, each such
    segment decoding to the very same bytes.
    """
    sa, sb = a.split("."), b.split(".")
    if len(sa) != len(sb):
        return False
    for x, y in zip(sa, sb, strict=True):
        if x == y:
            continue
        if len(x) != len(y) or x[:-1] != y[:-1] or not B64.fullmatch(x):
            return False
        if _unb64(x) is None or _unb64(x) != _unb64(y):
            return False
    return True


def originals() -> list[tuple[str, Consent]]:
    """Valid tokens to mutate: a few consents, signed with the current and the old key."""
    codec = ConsentCodec([KEY, OLD_KEY])
    old = ConsentCodec(OLD_KEY)
    tokens = []
    for granted in ([], ["preferences"], ["statistics", "preferences"]):
        consent = Consent(frozenset(granted), REGISTRY.revision, CONSENT_ID)
        tokens.append((codec.dumps(consent), consent))
        tokens.append((old.dumps(consent), consent))
    return tokens


def bit_flips(token: str) -> Iterator[str]:
    for i, char in enumerate(token):
        for bit in range(7):
            yield token[:i] + chr(ord(char) ^ (1 << bit)) + token[i + 1 :]


def truncations(token: str) -> Iterator[str]:
    for end in range(len(token)):
        yield token[:end]
    for start in range(1, len(token)):
        yield token[start:]


def reencodings(token: str) -> Iterator[str]:
    payload, stamp, signature = token.rsplit(".", 2)
    if payload.startswith("."):  # itsdangerous compressed it
        raw = zlib.decompress(_unb64(payload[1:]) or b"")
    else:
        raw = _unb64(payload) or b""
    yield token.replace("-", "+").replace("_", "/")  # standard base64 alphabet
    yield f"{payload}==.{stamp}.{signature}"  # with padding
    yield base64.b64encode(token.encode()).decode()  # base64 of the whole token
    yield token.upper()
    yield token.lower()
    yield token.swapcase()
    yield token.replace(".", "%2E")
    yield token.replace(".", ":")
    yield token[::-1]
    yield f"{_b64(raw.decode().replace(',', ', ').encode())}.{stamp}.{signature}"  # spaced JSON
    yield f"{_b64(raw + b' ')}.{stamp}.{signature}"
    yield f".{_b64(zlib.compress(raw))}.{stamp}.{signature}"  # compressed, same JSON
    yield f"{payload}.{stamp}"  # no signature
    yield f"{payload}..{signature}"
    yield f"{payload}.{stamp}.{signature}.{signature}"
    yield f"{payload}.{stamp}.{signature}="
    yield f" {token}"
    yield f"{token}\t"
    yield token + "\x00"


def swapped(tokens: list[str]) -> Iterator[str]:
    """Payloads and timestamps of one token with the signature of another."""
    for a in tokens:
        for b in tokens:
            if a != b:
                pa, sa, ga = a.rsplit(".", 2)
                pb, sb, gb = b.rsplit(".", 2)
                yield f"{pa}.{sb}.{gb}"
                yield f"{pb}.{sa}.{ga}"
                yield f"{pa}.{sa}.{gb}"


def wrong_key_payloads() -> Iterator[str]:
    """Consents granting everything, signed with keys that are not the site's."""
    now = int(time.time())
    for key in (WRONG_KEY, KEY + " ", KEY.upper(), "", "\x00", KEY * 4, "secret", "changeme"):
        for payload in (
            [EVERYTHING, REGISTRY.revision, CONSENT_ID],
            [EVERYTHING + ["extra"], REGISTRY.revision, CONSENT_ID],
            [EVERYTHING, REGISTRY.revision + 1, CONSENT_ID],
        ):
            for timestamp in (None, now + 3600, now + 10**9, 0):
                for salt in ("cookieguard.consent", "itsdangerous", "cookie-session"):
                    s = _serializer(key, salt, timestamp)
                    if s is not None:
                        yield s.dumps(payload)


def _serializer(key: str, salt: str, timestamp: int | None) -> URLSafeTimedSerializer | None:
    if not key:
        return None
    signer: type[TimestampSigner] = TimestampSigner
    if timestamp is not None:
        signer = type("At", (TimestampSigner,), {"get_timestamp": lambda _: timestamp})
    return URLSafeTimedSerializer(key, salt=salt, signer=signer)


def wrong_key_bombs() -> Iterator[str]:
    """JSON bombs the signature check must refuse before any parsing."""
    for depth in (1_000, 100_000, 1_000_000):
        yield _right_key_raw(b"[" * depth + b"]" * depth, WRONG_KEY)
    yield _right_key_raw(b"[" + b"0," * 500_000 + b"0]", WRONG_KEY)
    yield sign([["marketing"] * 100_000, 2, CONSENT_ID], WRONG_KEY)


def right_key_bad_payloads() -> Iterator[str]:
    """Signed with the site's key (so the parser runs) but not a consent's shape."""
    now = int(time.time())
    shapes: list[Any] = [
        None,
        0,
        "everything",
        {},
        {"granted": EVERYTHING, "revision": 2, "consent_id": CONSENT_ID},
        [],
        [EVERYTHING],
        [EVERYTHING, 2],
        [EVERYTHING, 2, CONSENT_ID, "extra"],
        ["marketing", 2, CONSENT_ID],
        [[1, 2], 2, CONSENT_ID],
        [[None], 2, CONSENT_ID],
        [EVERYTHING, "2", CONSENT_ID],
        [EVERYTHING, 2.0, CONSENT_ID],
        [EVERYTHING, True, CONSENT_ID],
        [EVERYTHING, None, CONSENT_ID],
        [EVERYTHING, 2, ""],
        [EVERYTHING, 2, None],
        [EVERYTHING, 2, 7],
        [{"marketing": True}, 2, CONSENT_ID],
        # JSON bombs: deep nesting and huge arrays (itsdangerous compresses them small).
        [0] * 200_000,
        ["marketing"] * 200_000,
        [["marketing"] * 100_000, 2, CONSENT_ID, 0],
        {str(i): i for i in range(20_000)},
    ]
    for shape in shapes:
        yield sign(shape)
    for depth in (1_000, 10_000, 100_000, 1_000_000):
        nested = "[" * depth + "]" * depth
        yield _right_key_raw(nested.encode())
        yield _right_key_raw(f'[{nested},2,"{CONSENT_ID}"]'.encode())
    yield _right_key_raw(b'{"a":' * 10_000 + b"1" + b"}" * 10_000)
    yield _right_key_raw(b"[" + b"1e999999," * 1000 + b"1]")
    yield _right_key_raw(b'["' + b"\\ud800" * 1000 + b'",2,"x"]')
    yield _right_key_raw(b"\xff\xfe not json")
    yield _right_key_raw(b"NaN")
    yield _right_key_raw(b'[["marketing"],2,"x"]' + b" " * 100_000 + b"junk")
    # Valid shape, right key, but expired or from the future.
    good = [EVERYTHING, REGISTRY.revision, CONSENT_ID]
    for timestamp in (0, now - 10**8, now + 60, now + 10**6, 2**32 - 1):
        yield sign(good, timestamp=timestamp)


def _right_key_raw(data: bytes, key: str = KEY) -> str:
    """``key`` signing ``data`` as the payload, compressed as itsdangerous does."""
    serializer = URLSafeTimedSerializer(key, salt="cookieguard.consent")
    compressed = zlib.compress(data, 9)
    payload = "." + _b64(compressed) if len(compressed) < len(data) else _b64(data)
    return serializer.make_signer().sign(payload.encode()).decode()


def odd_values(rng: random.Random, token: str) -> Iterator[str]:
    yield ""
    yield "."
    yield ".."
    yield "..."
    yield "." * 8192
    yield "A" * 8192
    yield token * (8192 // len(token) + 1)
    yield (token + ".") * 40
    yield "\u00e9" * 4096
    yield "\u2603" * 2048
    yield token[:20] + "\u00e9" + token[21:]
    yield token + "\u2603"
    for _ in range(500):
        yield "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(1, 300)))
        yield "".join(rng.choice("ABCabc012-_.") for _ in range(rng.randint(1, 300)))
        yield rng.randbytes(rng.randint(1, 200)).decode("latin-1")


def attacks() -> Iterator[tuple[str, str, str]]:
    """(family, attack value, original token) for every attack."""
    rng = random.Random(6)
    tokens = originals()
    for token, _ in tokens:
        for family, values in (
            ("bit flip", bit_flips(token)),
            ("truncation", truncations(token)),
            ("re-encoding", reencodings(token)),
            ("odd value", odd_values(rng, token)),
        ):
            for value in values:
                yield family, value, token
    first = tokens[0][0]
    for value in swapped([t for t, _ in tokens]):
        yield "swapped payload", value, first
    for value in wrong_key_payloads():
        yield "wrong key", value, first
    for value in wrong_key_bombs():
        yield "JSON bomb, wrong key", value, first
    for value in right_key_bad_payloads():
        yield "right key, bad payload or JSON bomb", value, first


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"set-cookie", c.encode()) for c in APP_COOKIES]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


def _wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Set-Cookie", c) for c in APP_COOKIES])
    return [b"ok"]


ASGI = ASGIGuard(_asgi_app, registry=REGISTRY, secret_key=[KEY, OLD_KEY])
WSGI = WSGIGuard(_wsgi_app, registry=REGISTRY, secret_key=[KEY, OLD_KEY])


def asgi_sent(value: str) -> list[str]:
    """The cookies other than ``sessionid`` that leave the ASGI middleware for ``value``."""
    send = Recorder()
    scope = http_scope([(b"cookie", b"cookies_preferences=" + value.encode("utf-8", "replace"))])
    run_sync(ASGI(scope, receive_from(), send))
    sent = [v.decode("latin-1") for k, v in send.start["headers"] if k == b"set-cookie"]
    return [c for c in sent if not c.startswith("sessionid=")]


def wsgi_sent(value: str) -> list[str]:
    started: list[list[tuple[str, str]]] = []
    cookie = "cookies_preferences=" + value.encode("utf-8", "replace").decode("latin-1")
    WSGI(wsgi_environ(cookie=cookie), lambda s, h, e=None: started.append(h))
    return [v for k, v in started[0] if k == "Set-Cookie" and not v.startswith("sessionid=")]


def test_every_mutated_or_forged_token_is_no_consent() -> None:
    codec = ConsentCodec([KEY, OLD_KEY])
    valid = dict(originals())
    tried, spare_bits = 0, 0
    failures: list[tuple[str, str]] = []
    for family, value, token in attacks():
        if value in valid:  # e.g. a payload with the signature of the same payload
            continue
        tried += 1
        FIGURES[f"tokens tried: {family}"] += 1
        decoded = codec.loads(value)
        if decoded is not None and same_bytes(value, token):
            spare_bits += 1  # another spelling of the same signed bytes: allowed to verify
            original = valid[token]
            assert (decoded.granted, decoded.consent_id) == (original.granted, original.consent_id)
            continue
        if decoded is not None:
            failures.append((family, value))
        elif value.strip(" \t") in valid:
            continue  # the Cookie header's parser strips the spaces: that is the token itself
        elif asgi_sent(value) or wsgi_sent(value):
            failures.append((family + ", through the middleware", value))
    FIGURES["tokens tried (total)"] += tried
    FIGURES["tokens verifying through base64's spare bits (allowed)"] += spare_bits
    assert not failures, failures[:5]
    assert tried >= 10_000


@pytest.mark.parametrize("value", ["", "\u2603", b"\xff\xfe", b"A" * 100_000, None, "x" * 2049])
def test_loads_never_raises_on_odd_values(value: Any) -> None:
    assert ConsentCodec(KEY).loads(value) is None


def test_a_valid_token_still_passes_so_the_attacks_above_mean_something() -> None:
    for token, consent in originals():
        decoded = ConsentCodec([KEY, OLD_KEY]).loads(token)
        assert decoded is not None
        assert (decoded.granted, decoded.consent_id) == (consent.granted, consent.consent_id)
    token = originals()[2][0]  # preferences only
    assert asgi_sent(token) == ["lang=fr"]
    assert wsgi_sent(token) == ["lang=fr"]
