"""Starlette and FastAPI apps with the ASGI middleware, through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket
from tests.support.cases import CONSENT_COOKIE, KEY, REGISTRY, token

from cookieguard import RequestConsent
from cookieguard.asgi import CookieGuardMiddleware
from cookieguard.starlette import get_consent

GUARD = Middleware(CookieGuardMiddleware, registry=REGISTRY, secret_key=KEY)


async def home(request: Request) -> PlainTextResponse:
    consent = get_consent(request)
    response = PlainTextResponse("statistics" if consent.allows("statistics") else "none")
    response.set_cookie("sessionid", "s")
    response.set_cookie("_pk_id.1.ab", "x")
    response.set_cookie("ads", "y")
    return response


async def stream(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (b"a", b"b", b"c"):
            yield chunk

    response = StreamingResponse(chunks())
    response.set_cookie("ads", "y")
    return response


async def socket(websocket: WebSocket) -> None:
    consent = get_consent(websocket)
    await websocket.accept(
        headers=[(b"set-cookie", b"_pk_id.1=x"), (b"set-cookie", b"sessionid=1")]
    )
    await websocket.send_text("statistics" if consent.allows("statistics") else "none")
    await websocket.close()


def starlette_app(**kwargs: Any) -> Starlette:
    return Starlette(
        routes=[Route("/", home), Route("/stream", stream), WebSocketRoute("/ws", socket)],
        middleware=[GUARD],
        **kwargs,
    )


def cookie_names(response: Any) -> list[str]:
    return [v.partition("=")[0] for v in response.headers.get_list("set-cookie")]


def test_middleware_declaration_works() -> None:
    client = TestClient(starlette_app())
    response = client.get("/")
    assert response.text == "none"
    assert cookie_names(response) == ["sessionid"]
    assert response.headers["vary"] == "Cookie, Sec-GPC"


def test_consent_read_from_the_request() -> None:
    client = TestClient(starlette_app())
    client.cookies.set(CONSENT_COOKIE, token(["statistics"]))
    response = client.get("/")
    assert response.text == "statistics"
    assert cookie_names(response) == ["sessionid", "_pk_id.1.ab"]


def test_streaming_response() -> None:
    response = TestClient(starlette_app()).get("/stream")
    assert response.content == b"abc"
    assert cookie_names(response) == []


def test_websocket_handshake_filtered() -> None:
    client = TestClient(starlette_app())
    client.cookies.set(CONSENT_COOKIE, token(["marketing"]))
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "none"
        headers = websocket.extra_headers
    assert headers is not None
    assert [(k.lower(), v) for k, v in headers] == [
        (b"set-cookie", b"sessionid=1"),
        (b"vary", b"Cookie, Sec-GPC"),
    ]


def test_lifespan_passes_through() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"database": "ready"}
        events.append("shutdown")

    async def state(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.database)

    app = Starlette(routes=[Route("/state", state)], middleware=[GUARD], lifespan=lifespan)
    with TestClient(app) as client:
        assert events == ["startup"]
        assert client.get("/state").text == "ready"
    assert events == ["startup", "shutdown"]


def test_consent_endpoint_through_starlette() -> None:
    client = TestClient(starlette_app())
    response = client.post(
        "/cookieguard/consent",
        data={"action": "save", "categories": ["statistics"]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["granted"] == ["necessary", "statistics"]
    assert client.get("/").text == "statistics"


def test_fastapi_dependency() -> None:
    app = FastAPI(middleware=[GUARD])

    @app.get("/")
    def index(consent: RequestConsent = Depends(get_consent)) -> dict[str, bool]:  # noqa: B008
        return {
            "statistics": consent.allows("statistics"),
            "necessary": consent.allows("necessary"),
        }

    client = TestClient(app)
    assert client.get("/").json() == {"statistics": False, "necessary": True}
    client.cookies.set(CONSENT_COOKIE, token(["statistics"]))
    assert client.get("/").json() == {"statistics": True, "necessary": True}


def test_get_consent_without_the_middleware() -> None:
    async def view(request: Request) -> PlainTextResponse:
        with pytest.raises(RuntimeError, match="CookieGuardMiddleware"):
            get_consent(request)
        return PlainTextResponse("checked")

    app = Starlette(routes=[Route("/", view)])
    assert TestClient(app).get("/").text == "checked"


# -- security round 2 through Starlette's own responses and TestClient -------------------


async def odd_headers(request: Request) -> PlainTextResponse:
    response = PlainTextResponse("ok")
    response.raw_headers.append(("set-cookie", "ads=str"))  # type: ignore[arg-type]
    response.raw_headers.append((b"set-cookie", bytearray(b"_pk_id.1=ba")))  # type: ignore[arg-type]
    response.raw_headers.append((b"set-cookie ", b"ads=smuggled"))
    response.raw_headers.append((b"set-cookie", b"ads=1; Max-Age=0; Max-Age=abc"))
    response.set_cookie("sessionid", "s")
    return response


def test_odd_header_spellings_are_judged_not_crashed() -> None:
    app = Starlette(routes=[Route("/", odd_headers)], middleware=[GUARD])
    with TestClient(app) as client:
        response = client.get("/", headers={"Cookie": "ads=old"})
    assert response.status_code == 200
    cookies = response.headers.get_list("set-cookie")
    assert [c.partition(";")[0] for c in cookies] == ["sessionid=s", "ads="]
    assert "Max-Age=0" in cookies[1] and "Path=/shop" in cookies[1]


async def deleting_socket(websocket: WebSocket) -> None:
    await websocket.accept(headers=[(b"set-cookie", b"ads=1; Max-Age=0; Max-Age=+100")])
    await websocket.close()


def test_a_websocket_disguised_deletion_is_removed() -> None:
    app = Starlette(routes=[WebSocketRoute("/ws", deleting_socket)], middleware=[GUARD])
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        accepted = ws.extra_headers  # type: ignore[attr-defined]
        assert not [v for k, v in accepted if k.lower() == b"set-cookie"]
