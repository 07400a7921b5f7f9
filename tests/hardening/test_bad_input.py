"""Bad input everywhere: odd request headers and consent-endpoint bodies, through both adapters.

A request the middleware cannot make sense of is answered as "no consent" (only
strictly necessary cookies leave) and never crashes; a consent request it refuses
gets a clear 4xx with a JSON error, never a 500 and never a ``Set-Cookie``.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from tests.support.hardening import (
    FIGURES,
    KEY,
    Recorder,
    cookie_names,
    http_scope,
    receive_from,
    run_sync,
    wsgi_environ,
)

from cookieguard import Category, Cookie, Registry
from cookieguard.asgi import CookieGuardMiddleware as ASGIGuard
from cookieguard.consent import Consent, ConsentCodec
from cookieguard.endpoint import MAX_BODY
from cookieguard.wsgi import CookieGuardMiddleware as WSGIGuard

REGISTRY = Registry(
    categories=[
        Category("necessary", required=True),
        Category("statistics"),
        Category("marketing", gpc_opt_out=True),
    ],
    cookies=[
        Cookie("sessionid", "necessary"),
        Cookie("_pk_id.*", "statistics"),
        Cookie("_fbp", "marketing"),
    ],
)
APP_COOKIES = ("sessionid=s", "_pk_id.1=v", "_fbp=fb", "undeclared=u")
ALL_GRANTED = ConsentCodec(KEY).dumps(Consent(frozenset({"statistics", "marketing"}), 1))
PATH = "/cookieguard/consent"


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    headers = [(b"set-cookie", c.encode()) for c in APP_COOKIES]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"page"})


def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Set-Cookie", c) for c in APP_COOKIES])
    return [b"page"]


ASGI = ASGIGuard(asgi_app, registry=REGISTRY, secret_key=KEY)
WSGI = WSGIGuard(wsgi_app, registry=REGISTRY, secret_key=KEY)


def asgi_get(headers: list[tuple[bytes, bytes]]) -> tuple[int, list[str]]:
    send = Recorder()
    run_sync(ASGI(http_scope(headers), receive_from(), send))
    sent = [v.decode("latin-1") for k, v in send.start["headers"] if k == b"set-cookie"]
    return send.start["status"], cookie_names(sent)


def wsgi_get(**environ: Any) -> tuple[int, list[str]]:
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body = WSGI(wsgi_environ(**environ), lambda s, h, e=None: started.append((s, h)))
    assert b"".join(body) == b"page"
    [(status, headers)] = started
    return int(status[:3]), cookie_names(v for k, v in headers if k == "Set-Cookie")


# -- request headers the application path sees -----------------------------------

HUGE = "; ".join(f"c{i}=v{i}" for i in range(50_000))
COOKIE_HEADERS: list[tuple[str, bytes]] = [
    ("huge", HUGE.encode()),
    ("huge with a forged consent", (HUGE + "; cookies_preferences=" + "A" * 60_000).encode()),
    ("one huge value", b"cookies_preferences=" + b"x" * 1_000_000),
    ("latin-1 bytes", b"cookies_preferences=\xe9\xff\xfe; _fbp=\xe9"),
    ("utf-8 bytes", "cookies_preferences=caf\u00e9\u2603".encode()),
    ("NUL and controls", b"cookies_preferences=\x00\x01\x7f; \x00=\x00"),
    ("quoted forged value", b'cookies_preferences="' + ALL_GRANTED[:-2].encode() + b'xx"'),
    ("quoted with escapes", b'cookies_preferences="\\"\\\\\\073"'),
    ("unterminated quote", b'cookies_preferences="abc; _fbp=1'),
    ("only separators", b";;;; ; ;"),
    ("no equals", b"cookies_preferences; _fbp"),
    ("empty name", b"=cookies_preferences; =; ==="),
    ("consent twice, forged first", b"cookies_preferences=forged; cookies_preferences=x"),
    ("comma separated", b"cookies_preferences=a, _fbp=b"),
    ("header folding", b"cookies_preferences=a;\r\n _fbp=b"),
    ("very many equals", b"=" * 100_000),
]


@pytest.mark.parametrize(
    "header", [h for _, h in COOKIE_HEADERS], ids=[n for n, _ in COOKIE_HEADERS]
)
def test_an_odd_cookie_header_is_no_consent_and_no_crash(header: bytes) -> None:
    FIGURES["bad inputs tried: request Cookie headers"] += 2
    assert asgi_get([(b"cookie", header)]) == (200, ["sessionid"])
    assert wsgi_get(cookie=header.decode("latin-1")) == (200, ["sessionid"])


def test_bytes_that_are_not_utf8_do_not_hide_a_valid_consent() -> None:
    FIGURES["bad inputs tried: request Cookie headers"] += 4
    header = b"x=\xe9\xff; cookies_preferences=" + ALL_GRANTED.encode() + b"; y=\xc3"
    everything = (200, ["sessionid", "_pk_id.1", "_fbp"])
    assert asgi_get([(b"cookie", header)]) == everything
    assert wsgi_get(cookie=header.decode("latin-1")) == everything
    # A server that hands WSGI a str beyond latin-1 breaks PEP 3333; still no crash.
    assert wsgi_get(cookie="x=\u2603; cookies_preferences=" + ALL_GRANTED) == everything
    status, headers, _ = wsgi_post(b"action=reject_all", FORM, cookie=header.decode("latin-1"))
    assert status == 303
    assert cookie_names(v for k, v in headers if k == "Set-Cookie") == ["cookies_preferences"]


def test_duplicated_cookie_headers_are_read_together() -> None:
    FIGURES["bad inputs tried: request Cookie headers"] += 2
    headers = [(b"cookie", b"a=1"), (b"cookie", b"cookies_preferences=" + ALL_GRANTED.encode())]
    assert asgi_get(headers) == (200, ["sessionid", "_pk_id.1", "_fbp"])
    forged = [(b"cookie", b"cookies_preferences=forged"), (b"Cookie", b"b=2")] * 100
    assert asgi_get(forged) == (200, ["sessionid"])


GPC_VALUES = ["0", "", "true", "yes", "01", "+1", "1.0", "1,1", "1 1", "\u0661", "\x00", "1\x00"]


@pytest.mark.parametrize("value", GPC_VALUES)
def test_sec_gpc_other_than_1_is_not_an_opt_out(value: str) -> None:
    FIGURES["bad inputs tried: Sec-GPC values"] += 2
    cookie = f"cookies_preferences={ALL_GRANTED}"
    raw = value.encode("utf-8")
    headers = [(b"cookie", cookie.encode()), (b"sec-gpc", raw)]
    assert asgi_get(headers) == (200, ["sessionid", "_pk_id.1", "_fbp"])
    assert wsgi_get(cookie=cookie, gpc=raw.decode("latin-1")) == (
        200,
        ["sessionid", "_pk_id.1", "_fbp"],
    )


@pytest.mark.parametrize("value", ["1", " 1", "1\t"])
def test_sec_gpc_1_opts_out_of_marketing(value: str) -> None:
    cookie = f"cookies_preferences={ALL_GRANTED}"
    headers = [(b"cookie", cookie.encode()), (b"sec-gpc", value.encode())]
    assert asgi_get(headers) == (200, ["sessionid", "_pk_id.1"])
    assert wsgi_get(cookie=cookie, gpc=value) == (200, ["sessionid", "_pk_id.1"])


# -- consent endpoint bodies -------------------------------------------------------


def asgi_post(
    body: bytes, content_type: str | None, method: str = "POST", chunk: int = 1024
) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(b"host", b"testserver")]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode("latin-1")))
    scope = {**http_scope(headers, PATH), "method": method, "server": ("testserver", 80)}
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    send = Recorder()
    run_sync(ASGI(scope, receive_from(*messages), send))
    start = send.start
    sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return start["status"], sent, send.body


def wsgi_post(
    body: bytes, content_type: str | None, method: str = "POST", cookie: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    extra: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "HTTP_HOST": "testserver",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if content_type is not None:
        extra["CONTENT_TYPE"] = content_type
    started: list[tuple[str, list[tuple[str, str]]]] = []
    environ = wsgi_environ(cookie=cookie, path=PATH, **extra)
    result = WSGI(environ, lambda s, h, e=None: started.append((s, h)))
    [(status, headers)] = started
    return int(status[:3]), headers, b"".join(result)


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data; boundary=x"


def multipart(fields: int) -> bytes:
    part = b'--x\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n'
    return b"".join(part % i for i in range(fields)) + b"--x--\r\n"


BAD_BODIES: list[tuple[str, bytes, str | None, int]] = [
    ("oversized form", b"action=accept_all&x=" + b"a" * MAX_BODY, FORM, 413),
    ("oversized JSON", b'{"action":"accept_all","x":"' + b"a" * MAX_BODY + b'"}', JSON, 413),
    ("oversized, no type", b"a" * (MAX_BODY + 1), None, 413),
    ("one MiB", b"action=accept_all&" * 60_000, FORM, 413),
    ("text/plain", b"action=accept_all", "text/plain", 415),
    ("xml", b"<action>accept_all</action>", "application/xml", 415),
    ("no content type", b"action=accept_all", None, 415),
    ("empty content type", b"action=accept_all", "", 415),
    ("garbage content type", b"action=accept_all", ";;;=", 415),
    ("invalid JSON", b'{"action": accept_all}', JSON, 400),
    ("truncated JSON", b'{"action": "accept_all"', JSON, 400),
    ("non-UTF-8 JSON", b'{"action": "\xff"}', JSON, 400),
    ("deeply nested JSON", b"[" * 15_000 + b"]" * 1_000, JSON, 400),
    ("deep JSON object", b'{"a":' * 2_500 + b"1" + b"}" * 2_500, JSON, 400),
    ("JSON array", b'["accept_all"]', JSON, 400),
    ("JSON string", b'"accept_all"', JSON, 400),
    ("JSON number", b"1", JSON, 400),
    ("JSON null", b"null", JSON, 400),
    ("JSON NaN", b"NaN", JSON, 400),
    ("JSON action not a string", b'{"action": ["accept_all"]}', JSON, 400),
    ("JSON categories not a list", b'{"categories": "marketing"}', JSON, 400),
    ("JSON categories not strings", b'{"categories": [1]}', JSON, 400),
    ("JSON repeated key", b'{"action":"reject_all","action":"accept_all"}', JSON, 400),
    ("JSON unknown action", b'{"action":"accept_everything"}', JSON, 400),
    ("JSON unknown category", b'{"categories":["ads"]}', JSON, 400),
    ("JSON empty object", b"{}", JSON, 400),
    ("form repeated action", b"action=reject_all&action=accept_all", FORM, 400),
    ("form unknown action", b"action=delete", FORM, 400),
    ("form unknown category", b"action=save&categories=ads", FORM, 400),
    ("form non-UTF-8", b"action=accept\xff_all", FORM, 400),
    ("form percent garbage", b"action=%ZZ%", FORM, 400),
    ("form empty", b"", FORM, 400),
    ("form no action", b"next=/", FORM, 400),
    ("multipart without boundary", b"action=accept_all", "multipart/form-data", 400),
    ("multipart garbage", b"--x\r\ngarbage", MULTIPART, 400),
    ("multipart too many parts", multipart(150), MULTIPART, 413),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [b[1:] for b in BAD_BODIES],
    ids=[b[0] for b in BAD_BODIES],
)
def test_a_bad_consent_body_is_a_clear_4xx_and_sets_no_cookie(
    body: bytes, content_type: str | None, status: int
) -> None:
    FIGURES["bad inputs tried: consent endpoint bodies"] += 2
    for answer in (asgi_post(body, content_type), wsgi_post(body, content_type)):
        got, headers, text = answer
        assert got == status, text
        assert not [v for k, v in headers if k.lower() == "set-cookie"]
        assert ("Content-Type", "application/json") in headers
        assert json.loads(text)["error"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW", ""])
def test_other_methods_are_405(method: str) -> None:
    FIGURES["bad inputs tried: consent endpoint methods"] += 2
    for got, headers, _ in (
        asgi_post(b"action=accept_all", FORM, method),
        wsgi_post(b"action=accept_all", FORM, method),
    ):
        assert got == 405
        assert not [v for k, v in headers if k.lower() == "set-cookie"]


@pytest.mark.parametrize("length", ["-1", "abc", "99999999999999999999", str(MAX_BODY + 1)])
def test_a_lying_content_length_never_crashes(length: str) -> None:
    FIGURES["bad inputs tried: consent endpoint bodies"] += 1
    extra = {"REQUEST_METHOD": "POST", "HTTP_HOST": "testserver", "CONTENT_TYPE": FORM}
    extra |= {"CONTENT_LENGTH": length, "wsgi.input": io.BytesIO(b"action=accept_all")}
    started: list[tuple[str, list[tuple[str, str]]]] = []
    WSGI(wsgi_environ(path=PATH, **extra), lambda s, h, e=None: started.append((s, h)))
    [(status, headers)] = started
    assert status[0] == "4"
    assert not [v for k, v in headers if k == "Set-Cookie"]


def test_the_same_bodies_done_right_do_set_the_cookie() -> None:
    """The refusals above are refusals of the input, not of everything."""
    for body, content_type in ((b"action=accept_all", FORM), (b'{"action":"accept_all"}', JSON)):
        for got, headers, _ in (asgi_post(body, content_type), wsgi_post(body, content_type)):
            assert got in (200, 303)
            assert [v for k, v in headers if k.lower() == "set-cookie"]
