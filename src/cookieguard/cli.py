"""The ``cookieguard`` command: print the cookie policy, audit an app in CI.

Each command group lives in its own module that exposes
``add_parser(subparsers)``: it adds its sub-parser and sets ``handler`` (a
function taking the parsed arguments and returning the exit code) with
``set_defaults``. To add a group, write that function and add the module's
name to :data:`COMMAND_MODULES`; the module is imported only when the command
line is parsed, so a missing optional dependency breaks only its own command.

Exit codes: 0 clean, 1 findings, 2 usage errors (including an import path that
does not import, or an object that is not what the command needs).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["COMMAND_MODULES", "UsageError", "load_object", "main"]

#: Modules that contribute command groups, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "cookieguard.policy",
    "cookieguard.audit",
    "cookieguard.consentlog",
)

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A command line that names something unusable; reported with exit code 2."""


def load_object(spec: str) -> Any:
    """Import ``module:attribute`` (``attribute`` may be dotted) and return the object.

    The current directory is put on ``sys.path`` first, as ``python -m`` would,
    so ``cookieguard audit myproject.app:app`` works from a checkout.
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise UsageError(f"{spec!r} is not MODULE:NAME (for example myproject.app:app)")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import module {module_name!r}: {exc}") from exc
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return obj


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cookieguard",
        description="Server-side cookie consent: publish the cookie policy, audit an app.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command group not present in this build
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


if __name__ == "__main__":  # pragma: no cover
    # ``python -m cookieguard.cli``: run the importable module, so that the command
    # modules and this one share one ``UsageError``.
    from cookieguard.cli import main as _main

    sys.exit(_main())
