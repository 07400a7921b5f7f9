"""``cookieguard policy``: print the cookie policy of a registry."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import i18n
from ..policy import FORMATS, render
from .common import EXIT_CLEAN, UsageError, load_registry

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> None:
    """Add ``cookieguard policy`` to the command line."""
    parser = subparsers.add_parser(
        "policy",
        help="print the cookie policy of a registry",
        description="Print the cookie policy of a registry: an HTML page or fragment, "
        "Markdown, or JSON (documented by docs/policy-schema.json).",
    )
    parser.add_argument(
        "registry", metavar="MODULE:REGISTRY", help="e.g. myproject.cookies:registry"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="html",
        help="html (a full page, the default), fragment (to include), md or json",
    )
    parser.add_argument(
        "--lang",
        default=i18n.DEFAULT_LANGUAGE,
        help=f"language of the headings: {', '.join(i18n.languages())} (default: en)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    registry = load_registry(args.registry)
    if args.lang not in i18n.languages():
        raise UsageError(
            f"no policy messages in {args.lang!r}; available: {', '.join(i18n.languages())}"
        )
    sys.stdout.write(render(registry, args.format, args.lang))
    return EXIT_CLEAN
