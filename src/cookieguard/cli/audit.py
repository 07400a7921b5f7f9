"""``cookieguard audit``: call an app in-process under every consent state, report its cookies."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from ..audit import audit_app, find_middleware, interface_of
from ..audit.drive import check_registry
from .common import UsageError, add_command, add_format, load_object, load_registry

__all__ = ["add_parser"]


#: The one line ``cookieguard --help`` gives the command.
HELP = "call an app in-process under every consent state and report its cookies"
DESCRIPTION = (
    "Import a WSGI or ASGI app, call it in-process (no server) for each path "
    "under every consent state (none, necessary only, each category alone, all) and report "
    "every cookie it sets, and every third-party host its pages load. Exit 0 when clean, 1 on "
    "an undeclared cookie, a cookie that reached the client without consent, a third-party "
    "host no service declares, or a request that raised or answered 404 or 5xx."
)


def add_parser(subparsers: Any) -> None:
    """Add ``cookieguard audit`` to the command line."""
    parser = add_command(subparsers, "audit", run, help=HELP, description=DESCRIPTION)
    parser.add_argument("app", metavar="MODULE:APP", help="e.g. myproject.wsgi:app")
    parser.add_argument(
        "--path",
        action="append",
        dest="paths",
        metavar="/PATH",
        help="a path to request (repeatable; default: /)",
    )
    parser.add_argument(
        "--registry",
        metavar="MODULE:REGISTRY",
        help="the registry, for an app not wrapped in cookieguard (a wrapped app is audited "
        "against its own; another registry is refused)",
    )
    add_format(parser, ("text", "json"), default="text", help="the report's form (default: text)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also fail on optional cookies kept over 13 months",
    )


def run(args: argparse.Namespace) -> int:
    app = load_object(args.app)
    registry = load_registry(args.registry) if args.registry else None
    paths = args.paths or ["/"]
    # The report names every undeclared cookie; the middleware's own log lines would repeat it.
    logging.getLogger("cookieguard").addHandler(logging.NullHandler())
    try:
        interface_of(app)
    except TypeError:
        raise UsageError(f"{args.app} is a {type(app).__name__}, not a WSGI or ASGI app") from None
    middleware = find_middleware(app)
    if middleware is None and registry is None:
        raise UsageError(
            f"{args.app} is not wrapped in cookieguard: pass --registry MODULE:REGISTRY"
        )
    if middleware is not None:
        try:
            check_registry(middleware, registry)
        except ValueError:
            raise UsageError(
                f"{args.app} is wrapped in cookieguard, which judges its cookies by its own "
                f"registry, not {args.registry}: leave --registry out, or wrap the app with it"
            ) from None
    bad = [p for p in paths if not p.startswith("/")]
    if bad:
        raise UsageError(f"paths must start with '/': {', '.join(bad)}")

    def progress(path: str) -> None:
        print(f"cookieguard audit: GET {path}", file=sys.stderr, flush=True)

    report = audit_app(app, registry, paths, name=args.app, progress=progress)
    sys.stdout.write(report.to_json() if args.format == "json" else report.to_text())
    return report.exit_code(strict=args.strict)
