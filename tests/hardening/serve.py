"""Serve an example application for the load test, in a process of its own.

``python -m tests.hardening.serve asgi|wsgi`` binds a free loopback port, prints
it on the first line of standard output, then serves the Starlette example under
uvicorn (``asgi``) or the Flask example under Werkzeug's threaded server (``wsgi``)
until it is terminated.
"""

from __future__ import annotations

import logging
import socket
import sys

import uvicorn
from werkzeug.serving import WSGIRequestHandler, make_server


class Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def main(kind: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    logging.getLogger("cookieguard").setLevel(logging.ERROR)
    if kind == "asgi":
        from examples.starlette_app.app import app as asgi_app

        config = uvicorn.Config(
            asgi_app, log_level="warning", access_log=False, lifespan="off", backlog=1024
        )
        server = uvicorn.Server(config)
        print(port, flush=True)
        server.run(sockets=[sock])
    else:
        from examples.flask_app.app import app as wsgi_app

        wsgi = make_server(
            "127.0.0.1",
            port,
            wsgi_app,
            threaded=True,
            request_handler=Quiet,
            fd=sock.fileno(),
        )
        print(port, flush=True)
        wsgi.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
