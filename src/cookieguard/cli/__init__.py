"""The ``cookieguard`` command: print the cookie policy, audit an app, read the consent log.

Each command lives in its own module of this package (``policy``, ``audit``,
``consents``) that exposes ``add_parser(subparsers)``: it adds its sub-parser
and sets ``handler`` (a function taking the parsed arguments and returning the
exit code) with ``set_defaults``. To add a command, write that module and add
its name to :data:`COMMAND_MODULES`; a module is imported only when the
command line is parsed, so a missing optional dependency breaks only its own
command.

Exit codes: 0 clean, 1 findings, 2 usage errors (including an import path that
does not import, or an object that is not what the command needs).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, Handler, UsageError, load_object

__all__ = [
    "COMMAND_MODULES",
    "EXIT_CLEAN",
    "EXIT_FINDINGS",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "load_object",
    "main",
]

#: Modules that contribute commands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "cookieguard.cli.policy",
    "cookieguard.cli.audit",
    "cookieguard.cli.consents",
)


def build_parser() -> argparse.ArgumentParser:
    """The ``cookieguard`` parser, with a sub-parser per module of :data:`COMMAND_MODULES`."""
    parser = argparse.ArgumentParser(
        prog="cookieguard",
        description="Server-side cookie consent: publish the cookie policy, audit an app.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command not present in this build
                continue
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        parser.exit(EXIT_USAGE, f"cookieguard: error: {exc}\n")
    except BrokenPipeError:  # `cookieguard policy ... | head`
        sys.stderr.close()
        return EXIT_CLEAN
