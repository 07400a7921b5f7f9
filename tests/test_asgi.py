"""The ASGI middleware message by message: streaming, WebSocket handshakes, lifespan.

``httpx.ASGITransport`` buffers bodies, so these tests drive the middleware with a
recording ``send`` and check each message as it arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.support.cases import CONSENT_COOKIE, KEY, REGISTRY, http_scope, run_async, token

from cookieguard.asgi import CookieGuardMiddleware

Message = dict[str, Any]
NOT_CONSENTED = (b"Set-Cookie", b"_pk_id.1=x")
REQUIRED = (b"set-cookie", b"sessionid=s")


def guard(app: Any, **options: Any) -> CookieGuardMiddleware:
    return CookieGuardMiddleware(app, registry=REGISTRY, secret_key=KEY, **options)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)


def run(
    app: Callable[..., Awaitable[None]],
    scope: dict[str, Any],
    incoming: list[Message] | None = None,
) -> Recorder:
    queue = list(incoming or [])
    sent = Recorder()

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    run_async(app(scope, receive, sent))
    return sent


def lowered(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower(), v) for k, v in headers]


def test_streaming_body_passes_chunk_by_chunk_unbuffered() -> None:
    chunks = [b"one ", b"two ", b"three"]
    sent = Recorder()
    originals: list[Message] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        start = {"type": "http.response.start", "status": 200, "headers": [NOT_CONSENTED]}
        start["trailers"] = False
        originals.append(start)
        await send(start)
        assert len(sent.messages) == 1  # the headers went out before any body exists
        for index, chunk in enumerate(chunks):
            message = {"type": "http.response.body", "body": chunk, "more_body": True}
            originals.append(message)
            await send(message)
            assert len(sent.messages) == index + 2  # forwarded at once, not buffered
        last = {"type": "http.response.body", "body": b"", "more_body": False}
        originals.append(last)
        await send(last)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    run_async(guard(app)(http_scope(), receive, sent))
    assert len(sent.messages) == len(originals)
    for forwarded, original in zip(sent.messages, originals, strict=True):
        assert forwarded is original  # the same dict: extension keys survive
    assert [m["body"] for m in sent.messages[1:4]] == chunks
    assert sent.messages[0]["trailers"] is False
    assert lowered(sent.messages[0]["headers"]) == [(b"vary", b"Cookie, Sec-GPC")]


def test_cookies_split_over_several_cookie_headers_are_read_together() -> None:
    # HTTP/2 lets a client send one Cookie header per cookie.
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["cookieguard.consent"].allows("statistics")
        headers = [(b"set-cookie", b"_pk_id.1=x")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    scope = http_scope(
        headers=[
            ("cookie", f"{CONSENT_COOKIE}={token(['statistics'])}"),
            ("accept", "*/*"),
            ("Cookie", "ads=1"),  # marketing, not granted: withdrawn
        ]
    )
    sent = run(guard(app), scope)
    set_cookies = [v for k, v in sent.messages[0]["headers"] if k == b"set-cookie"]
    assert set_cookies[0] == b"_pk_id.1=x"
    assert [v.split(b"=")[0] for v in set_cookies[1:]] == [b"ads"]  # its deletion


def test_start_message_without_headers_key() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body", "body": b""})

    sent = run(guard(app), http_scope())
    assert sent.messages[0]["status"] == 204
    assert "headers" not in sent.messages[0]  # nothing to change, nothing added
    withdrawing = http_scope(headers=[("Cookie", "_pk_ses.1=1")])
    sent = run(guard(app), withdrawing)
    names = [v.split(b"=")[0] for k, v in sent.messages[0]["headers"] if k == b"set-cookie"]
    assert names == [b"_pk_ses.1"]


def test_headers_given_as_a_one_shot_iterable_reach_the_client() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = iter([(b"content-type", b"text/plain"), REQUIRED])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    sent = run(guard(app), http_scope())
    assert list(sent.messages[0]["headers"]) == [(b"content-type", b"text/plain"), REQUIRED]


def test_websocket_accept_headers_filtered() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["consent"] = scope["cookieguard.consent"]
        assert (await receive())["type"] == "websocket.connect"
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": None,
                "headers": [REQUIRED, NOT_CONSENTED, (b"x-other", b"1"), (b"SET-COOKIE", b"ads=1")],
            }
        )
        await send({"type": "websocket.send", "text": "hello"})
        await send({"type": "websocket.close", "code": 1000})

    value = token(["statistics"])
    scope = http_scope(kind="websocket", headers=[("Cookie", f"{CONSENT_COOKIE}={value}")])
    sent = run(guard(app), scope, [{"type": "websocket.connect"}])
    accept = sent.messages[0]
    assert accept["type"] == "websocket.accept"
    assert lowered(accept["headers"]) == [
        REQUIRED,
        (b"set-cookie", b"_pk_id.1=x"),
        (b"x-other", b"1"),
        (b"vary", b"Cookie, Sec-GPC"),
    ]
    assert [m["type"] for m in sent.messages[1:]] == ["websocket.send", "websocket.close"]
    assert seen["consent"].allows("statistics")
    assert not seen["consent"].allows("marketing")


def test_websocket_denial_response_filtered() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 403,
                "headers": [REQUIRED, NOT_CONSENTED, (b"content-type", b"text/plain")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"denied"})

    sent = run(guard(app), http_scope(kind="websocket"), [{"type": "websocket.connect"}])
    start, body = sent.messages
    assert start["status"] == 403
    assert lowered(start["headers"]) == [
        REQUIRED,
        (b"content-type", b"text/plain"),
        (b"vary", b"Cookie, Sec-GPC"),
    ]
    assert body == {"type": "websocket.http.response.body", "body": b"denied"}


def test_lifespan_passes_through_untouched() -> None:
    startup = {"type": "lifespan.startup"}
    shutdown = {"type": "lifespan.shutdown"}
    received: list[Message] = []
    replies: list[Message] = []
    scopes: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope)
        for reply in (
            {"type": "lifespan.startup.complete"},
            {"type": "lifespan.shutdown.complete"},
        ):
            received.append(await receive())
            replies.append(reply)
            await send(reply)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    sent = run(guard(app), scope, [startup, shutdown])
    assert received[0] is startup and received[1] is shutdown
    assert len(sent.messages) == 2
    assert sent.messages[0] is replies[0] and sent.messages[1] is replies[1]
    assert scopes == [scope] and scopes[0] is scope
    assert set(scope) == {"type", "asgi", "state"}


def test_lifespan_failure_reaches_the_server() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    sent = run(guard(app), {"type": "lifespan", "asgi": {"version": "3.0"}}, [{"type": "x"}])
    assert sent.messages == [{"type": "lifespan.startup.failed", "message": "no database"}]


def test_app_exceptions_propagate_unchanged() -> None:
    async def before(scope: Any, receive: Any, send: Any) -> None:
        raise LookupError("before the response started")

    async def after(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [NOT_CONSENTED]})
        raise KeyError("after the response started")

    with pytest.raises(LookupError):
        run(guard(before), http_scope())
    sent = Recorder()

    async def receive() -> Message:
        return {"type": "http.request"}

    with pytest.raises(KeyError):
        run_async(guard(after)(http_scope(), receive, sent))
    assert lowered(sent.messages[0]["headers"]) == [(b"vary", b"Cookie, Sec-GPC")]


def test_non_latin1_bytes_in_set_cookie_never_raise() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [
            (b"set-cookie", "\u2603=1".encode()),
            (b"set-cookie", b"\xffsessionid=1"),
            (b"set-cookie", b"\xc2\xa0sessionid=1"),
            (b"set-cookie", b"sessionid=\xff\xfe"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    sent = run(guard(app), http_scope())
    kept = [v for k, v in sent.messages[0]["headers"] if k == b"set-cookie"]
    assert kept == [b"sessionid=\xff\xfe"]  # passed byte for byte
    allowed = run(guard(app, unknown="allow"), http_scope())
    assert len([k for k, _ in allowed.messages[0]["headers"] if k == b"set-cookie"]) == 4


def test_clean_request_rewrites_every_cookie_header() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["headers"] = scope["headers"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    scope = http_scope(
        headers=[("Cookie", "sessionid=1; ads=2"), ("Accept", "*/*"), ("Cookie", "_pk_ses.1=3")]
    )
    original = list(scope["headers"])
    run(guard(app, clean_request=True), scope)
    assert seen["headers"] == [(b"accept", b"*/*"), (b"cookie", b"sessionid=1")]
    assert scope["headers"] == original  # the server's scope is not edited

    scope = http_scope(headers=[("Cookie", "ads=2")])
    run(guard(app, clean_request=True), scope)
    assert seen["headers"] == []  # no cookie left: no empty Cookie header


# -- security round 2: header spellings an ASGI server accepts --------------------------


@pytest.mark.parametrize(
    "spell",
    [
        lambda b: b.decode("latin-1"),
        bytearray,
        memoryview,
    ],
    ids=["str", "bytearray", "memoryview"],
)
@pytest.mark.parametrize("kind", ["http.response.start", "websocket.accept"])
def test_headers_not_given_as_bytes_are_judged_like_bytes(spell: Any, kind: str) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [
            (spell(b"Set-Cookie"), spell(b"_pk_id.1=x")),
            (b"set-cookie", spell(b"ads=1")),
            (spell(b"set-cookie"), b"sessionid=s"),
            (spell(b"x-note"), spell(b"kept")),
        ]
        message: Message = {"type": kind, "headers": headers}
        if kind == "http.response.start":
            message["status"] = 200
        await send(message)

    scope = http_scope(kind="websocket" if kind == "websocket.accept" else "http")
    start = run(guard(app), scope, [{"type": "websocket.connect"}]).messages[0]
    assert lowered(start["headers"]) == [
        (b"set-cookie", b"sessionid=s"),
        (b"x-note", b"kept"),
        (b"vary", b"Cookie, Sec-GPC"),
    ]
    assert all(type(k) is bytes and type(v) is bytes for k, v in start["headers"])


@pytest.mark.parametrize("spell", [lambda b: b.decode("latin-1"), memoryview], ids=["str", "mv"])
def test_other_headers_spelled_otherwise_pass_as_spelled_and_a_vary_is_still_read(
    spell: Any,
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [
            (b"x-note", spell(b"kept")),
            (b"set-cookie", b"ads=1"),
            (b"vary", spell(b"Cookie")),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    start, body = run(guard(app), http_scope()).messages
    assert start["status"] == 200 and body["body"] == b"ok"
    sent = [(k, v if isinstance(v, str) else bytes(v)) for k, v in start["headers"]]
    # The refused cookie is gone; the app's Vary already names Cookie, and Sec-GPC is added.
    assert [(k.lower(), v) for k, v in sent if k.lower() != b"x-note"] == [
        (b"vary", b"Cookie"),
        (b"vary", b"Sec-GPC"),
    ]
    assert [v for k, v in sent if k == b"x-note"] in (["kept"], [b"kept"])


@pytest.mark.parametrize(
    "headers",
    [
        [(b"set-cookie", b"sessionid=s\r\nSet-Cookie: _pk_id.1=x")],
        [(b"set-cookie ", b"_pk_id.1=x")],
        [(b"set-cookie:", b"_pk_id.1=x")],
        [(b"set-cookie", 5), (None, b"x"), (b"only-a-name",), b"set-cookie: _pk_id.1=x"],
        5,
    ],
)
def test_malformed_headers_never_crash_and_never_leak(headers: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    start, body = run(guard(app), http_scope()).messages
    assert start["status"] == 200 and body["body"] == b"ok"
    assert not any(b"_pk_id" in bytes(v) for _, v in start["headers"])


def test_a_websocket_handshake_gets_canonical_deletions_and_withdrawals() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        headers = [(b"set-cookie", b"_pk_id.1=1; Max-Age=0; Max-Age=abc")]
        await send({"type": "websocket.accept", "headers": headers})

    scope = http_scope(kind="websocket", headers=[("Cookie", "ads=1")])
    accept = run(guard(app), scope, [{"type": "websocket.connect"}]).messages[0]
    values = [v for k, v in accept["headers"] if k == b"set-cookie"]
    assert [v.partition(b";")[0] for v in values] == [b"ads="]  # the fake deletion: gone
    assert b"Max-Age=0" in values[0] and b"Path=/shop" in values[0]


@pytest.mark.parametrize("value", [b"1\nSet-Cookie: _pk_id.1=x", b"1\r\nSet-Cookie: a=1", b"1\0"])
def test_asgi_servers_refuse_line_breaks_in_other_headers_themselves(value: bytes) -> None:
    # Why only Set-Cookie values are checked under ASGI: h11 (uvicorn, hypercorn) refuses
    # any such value before it reaches the wire (uvicorn's httptools protocol too).
    import h11

    with pytest.raises(h11.LocalProtocolError):
        h11.Response(status_code=200, headers=[(b"x-note", value)])
