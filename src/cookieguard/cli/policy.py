"""``cookieguard policy``: print the cookie policy of a registry."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import i18n
from ..policy import FORMATS, render
from .common import EXIT_CLEAN, UsageError, add_command, add_format, load_registry

__all__ = ["add_parser"]


#: The one line ``cookieguard --help`` gives the command.
HELP = "print the cookie policy of a registry"
DESCRIPTION = (
    "Print the cookie policy of a registry: an HTML page or fragment, "
    "Markdown, or JSON (documented by docs/policy-schema.json)."
)


def add_parser(subparsers: Any) -> None:
    """Add ``cookieguard policy`` to the command line."""
    parser = add_command(subparsers, "policy", run, help=HELP, description=DESCRIPTION)
    parser.add_argument(
        "registry", metavar="MODULE:REGISTRY", help="e.g. myproject.cookies:registry"
    )
    add_format(
        parser,
        FORMATS,
        default="html",
        help="html (a full page, the default), fragment (to include), md or json",
    )
    parser.add_argument(
        "--lang",
        default=i18n.DEFAULT_LANGUAGE,
        help=f"language of the headings: {', '.join(i18n.languages())} (default: en)",
    )


def run(args: argparse.Namespace) -> int:
    registry = load_registry(args.registry)
    if args.lang not in i18n.languages():
        raise UsageError(
            f"no policy messages in {args.lang!r}; available: {', '.join(i18n.languages())}"
        )
    sys.stdout.write(render(registry, args.format, args.lang))
    return EXIT_CLEAN
