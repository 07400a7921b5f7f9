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
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import uvicorn
from werkzeug.serving import WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: How long a server may take to answer its first request or to stop.
STARTUP_TIMEOUT = 10.0


#: A certificate and its key (PEM files) to serve https with.
TLSFiles = tuple[Path, Path]


def wait_until_serving(base_url: str, probe: str = "/cookieguard/consent") -> None:
    """Block until ``base_url`` answers an HTTP request (bounded by STARTUP_TIMEOUT)."""
    with httpx.Client(timeout=STARTUP_TIMEOUT, verify=False) as client:
        client.get(base_url + probe).raise_for_status()


@contextmanager
def serve_asgi(
    app: Callable[..., Awaitable[None]],
    *,
    tls: TLSFiles | None = None,
    probe: str = "/cookieguard/consent",
    log_level: str = "warning",
) -> Iterator[str]:
    """Run ``app`` under uvicorn; yield its base URL, ``http://127.0.0.1:<port>``.

    With ``tls`` it serves https (the URL says so); ``probe`` is the path asked
    for to know it is up.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        base_url = f"{'https' if tls else 'http'}://127.0.0.1:{sock.getsockname()[1]}"
        wait_until_serving(base_url, probe)
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
def serve_wsgi(
    app: WSGIApplication, *, tls: TLSFiles | None = None, probe: str = "/cookieguard/consent"
) -> Iterator[str]:
    """Run ``app`` under werkzeug's threaded server, as ``flask run`` does (https with ``tls``)."""
    server = make_server(
        "127.0.0.1",
        0,
        app,
        threaded=True,
        request_handler=QuietRequestHandler,
        ssl_context=(str(tls[0]), str(tls[1])) if tls else None,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base_url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}"
        wait_until_serving(base_url, probe)
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STARTUP_TIMEOUT)
