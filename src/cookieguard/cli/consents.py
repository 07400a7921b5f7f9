"""``cookieguard consents show|export|purge|status``: read and prune the consent log.

Each action is a sub-parser of ``consents`` made by :func:`_action` (which adds
the ``--db`` and ``--table-prefix`` options every action shares) and a handler
that opens the log with :func:`open_store`. To add an action, write its handler
and one ``_action(...)`` line in :func:`add_parser`.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from typing import Any

from ..consentlog import ConsentStore, parse_moment, spool_status
from .common import EXIT_CLEAN, EXIT_FINDINGS, Handler, UsageError

__all__ = ["DB_ENV", "add_parser", "open_store"]

#: Where the command finds the database when ``--db`` is not given.
DB_ENV = "COOKIEGUARD_CONSENT_DB"


def add_parser(subparsers: Any) -> None:
    """Add ``cookieguard consents`` and its actions to the command line."""
    consents = subparsers.add_parser(
        "consents",
        help="look up, export and purge the consent log",
        description="Look up, export and purge the consent log (needs cookieguard[log]).",
    )
    actions = consents.add_subparsers(title="actions", metavar="ACTION", required=True)

    show = _action(actions, "show", show_record, help="print a consent and its history")
    show.add_argument("consent_id", metavar="ID", help="the consent ID the visitor quotes")

    export = _action(actions, "export", export_records, help="write records as JSON lines or CSV")
    export.add_argument("--since", type=_moment, help="a date or an age (30d, 6m)")
    export.add_argument("--until", type=_moment, help="a date or an age, exclusive")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", help="a file to write (default: standard output)")

    purge = _action(actions, "purge", purge_records, help="delete records past their retention")
    purge.add_argument(
        "--older-than",
        type=_moment,
        required=True,
        help="an age (13m, 400d, 2y) or a date: records given before it are deleted",
    )

    status = _action(actions, "status", spool_report, help="what a spool holds not yet shipped")
    status.add_argument("--spool", required=True, help="the spool directory given to ConsentLog")


def _action(actions: Any, name: str, handler: Handler, *, help: str) -> argparse.ArgumentParser:
    """A ``consents`` action with the options that say which log it works on."""
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help)
    parser.add_argument(
        "--db",
        default=os.environ.get(DB_ENV),
        help=f"the log's SQLAlchemy URL, e.g. sqlite:///consent.db (default: ${DB_ENV})",
    )
    parser.add_argument("--table-prefix", default="cookieguard_", help="as given to ConsentLog")
    parser.set_defaults(handler=handler)
    return parser


def _moment(text: str) -> datetime:
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def open_store(args: argparse.Namespace) -> ConsentStore:
    """The consent log that ``--db`` (or ``$COOKIEGUARD_CONSENT_DB``) names."""
    if not args.db:
        raise UsageError(f"say which consent log to read: --db URL or ${DB_ENV}")
    try:
        return ConsentStore(args.db, table_prefix=args.table_prefix)
    except ModuleNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except Exception as exc:  # a malformed URL, an unknown driver
        raise UsageError(f"cannot open consent log {args.db!r}: {exc}") from exc


def show_record(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        record = store.find(args.consent_id)
        if record is None:
            print(f"no consent recorded with ID {args.consent_id}", file=sys.stderr)
            return EXIT_FINDINGS
        history = store.history(args.consent_id)
    fields = record.as_dict()
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        print(f"{name:<{width}}  {'-' if value is None else value}")
    if len(history) > 1:
        print("\nhistory, oldest first:")
        for earlier in history:
            mark = "*" if earlier.consent_id == record.consent_id else " "
            granted = ", ".join(earlier.granted)
            when = earlier.as_dict()["given_at"]
            print(f"{mark} {when}  {earlier.consent_id}  {earlier.action:<10}  {granted}")
    return EXIT_CLEAN


def export_records(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = store.export(out, since=args.since, until=args.until, format=args.format)
            print(f"exported {count} records to {args.output}", file=sys.stderr)
        else:
            store.export(sys.stdout, since=args.since, until=args.until, format=args.format)
    return EXIT_CLEAN


def purge_records(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        count = store.purge(args.older_than)
    before = args.older_than.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    print(f"purged {count} records given before {before}")
    return EXIT_CLEAN


def spool_report(args: argparse.Namespace) -> int:
    """Records pending in the spool, the oldest one's age, the last shipping error."""
    if not os.path.isdir(args.spool):
        raise UsageError(f"no spool directory at {args.spool!r}")
    status = spool_status(args.spool)
    rows = [("spool", args.spool), ("pending", str(status.pending))]
    if status.oldest is not None:
        age = (datetime.now(timezone.utc) - status.oldest).total_seconds()
        since = status.oldest.isoformat().replace("+00:00", "Z")
        rows.append(("oldest pending age", f"{_duration(age)} (since {since})"))
    error = status.last_error
    last = "none" if error is None else f"{error.get('at')}: {error.get('error')}"
    rows.append(("last shipping error", " ".join(last.split())))
    if args.db:
        with open_store(args) as store:
            try:
                stored = str(store.count())
            except Exception as exc:  # the database being away is what status is for
                stored = "unknown: " + " ".join(str(exc).split())
        rows.append(("stored", stored))
    for name, value in rows:
        print(f"{name:<19} {value}")
    return EXIT_CLEAN


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
