"""Serve the example apps for real on a free loopback port, in a background thread.

The listening socket is bound (port 0) and listening before the server thread
starts, so there is no race for the port and the first request simply waits in
the backlog until the server accepts it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
import uvicorn
from werkzeug.serving import WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: How long a server may take to answer its first request or to stop.
STARTUP_TIMEOUT = 10.0


def wait_until_serving(base_url: str) -> None:
    """Block until ``base_url`` answers an HTTP request (bounded by STARTUP_TIMEOUT)."""
    with httpx.Client(timeout=STARTUP_TIMEOUT) as client:
        client.get(base_url + "/cookieguard/consent").raise_for_status()


@contextmanager
def serve_asgi(app: Callable[..., Awaitable[None]]) -> Iterator[str]:
    """Run ``app`` under uvicorn; yield its base URL, ``http://127.0.0.1:<port>``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        wait_until_serving(base_url)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's handler without the access log (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_wsgi(app: WSGIApplication) -> Iterator[str]:
    """Run ``app`` under werkzeug's threaded server, as ``flask run`` does."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{server.server_port}"
        wait_until_serving(base_url)
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STARTUP_TIMEOUT)
