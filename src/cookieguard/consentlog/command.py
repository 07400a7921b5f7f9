"""The ``cookieguard consents`` command: show, export, purge."""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from .record import EXPORT_FIELDS, iso, utc
from .spool import spool_status
from .store import ConsentStore

__all__ = ["DB_ENV", "add_parser", "months_before", "parse_moment"]

# Where ``cookieguard consents`` finds the database when ``--db`` is not given.
DB_ENV = "COOKIEGUARD_CONSENT_DB"

_AGE = re.compile(r"(\d+)\s*(d|days?|w|weeks?|m|months?|y|years?)", re.IGNORECASE)


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` moved back by calendar months (31 March - 1 month = 28/29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """An ISO date or time (UTC unless it says otherwise), or an age: ``30d``, ``6m``, ``1y``."""
    now = now or datetime.now(timezone.utc)
    age = _AGE.fullmatch(text.strip())
    if age is not None:
        amount, unit = int(age.group(1)), age.group(2)[0].lower()
        if unit == "d":
            return now - timedelta(days=amount)
        if unit == "w":
            return now - timedelta(weeks=amount)
        return months_before(now, amount * (12 if unit == "y" else 1))
    try:
        return utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a date (2026-01-31) nor an age (30d, 6m, 1y)"
        ) from None


def add_parser(subparsers: Any) -> None:
    """Add ``cookieguard consents show|export|purge``."""
    consents = subparsers.add_parser(
        "consents",
        help="look up, export and purge the consent log",
        description="Look up, export and purge the consent log (needs cookieguard[log]).",
    )
    actions = consents.add_subparsers(title="actions", metavar="ACTION", required=True)

    def with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "--db",
            default=os.environ.get(DB_ENV),
            help=f"the log's SQLAlchemy URL, e.g. sqlite:///consent.db (default: ${DB_ENV})",
        )
        parser.add_argument("--table-prefix", default="cookieguard_", help="as given to ConsentLog")
        return parser

    show = with_db(actions.add_parser("show", help="print a consent and its history"))
    show.add_argument("consent_id", metavar="ID", help="the consent ID the visitor quotes")
    show.set_defaults(handler=_show)

    export = with_db(actions.add_parser("export", help="write records as JSON lines or CSV"))
    export.add_argument("--since", type=parse_moment, help="a date or an age (30d, 6m)")
    export.add_argument("--until", type=parse_moment, help="a date or an age, exclusive")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", help="a file to write (default: standard output)")
    export.set_defaults(handler=_export)

    purge = with_db(actions.add_parser("purge", help="delete records past their retention"))
    purge.add_argument(
        "--older-than",
        type=parse_moment,
        required=True,
        help="an age (13m, 400d, 2y) or a date: records given before it are deleted",
    )
    purge.set_defaults(handler=_purge)

    status = with_db(actions.add_parser("status", help="what a spool holds not yet shipped"))
    status.add_argument("--spool", required=True, help="the spool directory given to ConsentLog")
    status.set_defaults(handler=_status)


def _open_store(args: argparse.Namespace) -> ConsentStore:
    from ..cli import UsageError

    if not args.db:
        raise UsageError(f"say which consent log to read: --db URL or ${DB_ENV}")
    try:
        return ConsentStore(args.db, table_prefix=args.table_prefix)
    except ModuleNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except Exception as exc:  # a malformed URL, an unknown driver
        raise UsageError(f"cannot open consent log {args.db!r}: {exc}") from exc


def _show(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        record = store.find(args.consent_id)
        if record is None:
            print(f"no consent recorded with ID {args.consent_id}", file=sys.stderr)
            return 1
        history = store.history(args.consent_id)
    width = max(len(name) for name in EXPORT_FIELDS)
    for name, value in record.as_dict().items():
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
            when = iso(earlier.given_at)
            print(f"{mark} {when}  {earlier.consent_id}  {earlier.action:<10}  {granted}")
    return 0


def _export(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = store.export(out, since=args.since, until=args.until, format=args.format)
            print(f"exported {count} records to {args.output}", file=sys.stderr)
        else:
            store.export(sys.stdout, since=args.since, until=args.until, format=args.format)
    return 0


def _purge(args: argparse.Namespace) -> int:
    with _open_store(args) as store:
        count = store.purge(args.older_than)
    print(f"purged {count} records given before {iso(args.older_than)}")
    return 0


def _status(args: argparse.Namespace) -> int:
    """Records pending in the spool, the oldest one's age, the last shipping error."""
    from ..cli import UsageError

    if not os.path.isdir(args.spool):
        raise UsageError(f"no spool directory at {args.spool!r}")
    status = spool_status(args.spool)
    rows = [("spool", args.spool), ("pending", str(status.pending))]
    if status.oldest is not None:
        age = (datetime.now(timezone.utc) - status.oldest).total_seconds()
        rows.append(("oldest pending age", f"{_duration(age)} (since {iso(status.oldest)})"))
    error = status.last_error
    last = "none" if error is None else f"{error.get('at')}: {error.get('error')}"
    rows.append(("last shipping error", " ".join(last.split())))
    if args.db:
        with _open_store(args) as store:
            try:
                stored = str(store.count())
            except Exception as exc:  # the database away is what status is for
                stored = "unknown: " + " ".join(str(exc).split())
        rows.append(("stored", stored))
    for name, value in rows:
        print(f"{name:<19} {value}")
    return 0


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
