"""What every command shares: exit codes, the usage error, importing ``MODULE:NAME``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..registry import Registry

__all__ = [
    "EXIT_CLEAN",
    "EXIT_FINDINGS",
    "EXIT_USAGE",
    "Handler",
    "UsageError",
    "add_command",
    "add_format",
    "load_object",
    "load_registry",
]

#: Nothing to report.
EXIT_CLEAN = 0
#: The command ran and found something (an audit finding, no such consent).
EXIT_FINDINGS = 1
#: The command line named something unusable; nothing was done.
EXIT_USAGE = 2

#: What a command sets as ``handler``: the parsed arguments in, the exit code out.
Handler = Callable[[argparse.Namespace], int]


def add_command(
    subparsers: Any,
    name: str,
    handler: Handler | None,
    *,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A (sub-)command of ``cookieguard`` run by ``handler`` (None: its own actions run)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=description or help
    )
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


def add_format(
    parser: argparse.ArgumentParser, formats: Sequence[str], *, default: str, help: str
) -> None:
    """The ``--format`` option: which of ``formats`` the command writes."""
    parser.add_argument("--format", choices=formats, default=default, help=help)


class UsageError(Exception):
    """A command line that names something unusable; reported in one line, exit code 2."""


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


def load_registry(spec: str) -> Registry:
    """:func:`load_object`, which must give a :class:`~cookieguard.Registry`."""
    registry = load_object(spec)
    if not isinstance(registry, Registry):
        raise UsageError(f"{spec} is a {type(registry).__name__}, not a cookieguard.Registry")
    return registry
