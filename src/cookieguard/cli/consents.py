"""``cookieguard consents show|export|purge|status``: read and prune the consent log.

Each action is a sub-parser of ``consents`` made by :func:`_action` (which adds
the ``--db`` and ``--table-prefix`` options every action shares) and a handler
that opens the log with :func:`open_store`. The actions on records
(:data:`RECORD_ACTIONS`) take the arguments :func:`add_action_arguments` gives
them, here and in Django's ``manage.py cookieguard_consents``.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..consentlog import ConsentRecord, ConsentStore, parse_moment, spool_status
from .common import EXIT_CLEAN, EXIT_FINDINGS, Handler, UsageError, add_command, add_format

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "DB_ENV",
    "RECORD_ACTIONS",
    "add_action_arguments",
    "add_parser",
    "open_store",
    "record_lines",
]

#: Where the command finds the database when ``--db`` is not given.
DB_ENV = "COOKIEGUARD_CONSENT_DB"


#: The actions on the log's records, each with its line of help; Django's
#: ``manage.py cookieguard_consents`` has the same ones (``status`` is the spool's).
RECORD_ACTIONS = {
    "show": "print a consent and its history",
    "export": "write records as JSON lines or CSV",
    "purge": "delete records past their retention",
}

#: The one line ``cookieguard --help`` gives the command.
HELP = "look up, export and purge the consent log"
DESCRIPTION = "Look up, export and purge the consent log (needs cookieguard[log])."


def add_parser(subparsers: Any) -> None:
    """Add ``cookieguard consents`` and its actions to the command line."""
    consents = add_command(subparsers, "consents", None, help=HELP, description=DESCRIPTION)
    actions = consents.add_subparsers(title="actions", metavar="ACTION", required=True)

    for name, help in RECORD_ACTIONS.items():
        add_action_arguments(name, _action(actions, name, _HANDLERS[name], help=help))
    status = _action(actions, "status", spool_report, help="what a spool holds not yet shipped")
    status.add_argument(
        "--spool", required=True, metavar="DIR", help="the spool directory given to ConsentLog"
    )


def _action(actions: Any, name: str, handler: Handler, *, help: str) -> argparse.ArgumentParser:
    """A ``consents`` action with the options that say which log it works on."""
    parser = add_command(actions, name, _database_errors(handler), help=help)
    parser.add_argument(
        "--db",
        default=os.environ.get(DB_ENV),
        metavar="URL",
        help=f"the log's SQLAlchemy URL, e.g. sqlite:///consent.db (default: ${DB_ENV})",
    )
    parser.add_argument(
        "--table-prefix",
        default="cookieguard_",
        metavar="PREFIX",
        help="the log's table prefix, as given to ConsentLog (default: cookieguard_)",
    )
    return parser


def add_action_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    """The arguments of the ``show``, ``export`` or ``purge`` action ``name``.

    The one definition for ``cookieguard consents`` and Django's
    ``manage.py cookieguard_consents``, which read the same records.
    """
    if name == "show":
        parser.add_argument("consent_id", metavar="ID", help="the consent ID the visitor quotes")
    elif name == "export":
        parser.add_argument(
            "--since", type=_moment, metavar="WHEN", help="a date or an age (30d, 6m): from then on"
        )
        parser.add_argument(
            "--until",
            type=_moment,
            metavar="WHEN",
            help="a date or an age: before then (exclusive)",
        )
        add_format(
            parser,
            ("jsonl", "csv"),
            default="jsonl",
            help="jsonl (one JSON object a line, the default) or csv",
        )
        parser.add_argument(
            "--output", "-o", metavar="FILE", help="a file to write (default: standard output)"
        )
    elif name == "purge":
        parser.add_argument(
            "--older-than",
            type=_moment,
            required=True,
            metavar="WHEN",
            help="an age (13m, 400d, 2y) or a date: records given before it are deleted",
        )
    else:
        raise ValueError(f"no consents action {name!r}")


def _moment(text: str) -> datetime:
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def open_store(args: argparse.Namespace, *, write: bool = False) -> ConsentStore:
    """The consent log that ``--db`` (or ``$COOKIEGUARD_CONSENT_DB``) names, which must exist.

    No action creates a log: an SQLite file that is not there, or a database
    without the log's tables, is a :class:`UsageError`. Unless ``write``, an
    SQLite log is opened read-only.
    """
    if not args.db:
        raise UsageError(f"say which consent log to read: --db URL or ${DB_ENV}")
    try:  # parses the URL; connects to nothing yet
        store = ConsentStore(args.db, table_prefix=args.table_prefix)
    except ValueError as exc:  # an in-memory database, a table prefix that is no identifier
        raise UsageError(str(exc)) from exc
    if store.engine.dialect.name == "sqlite":
        store.close()
        url = _existing_sqlite(store.engine.url, read_only=not write)
        store = ConsentStore(
            url.render_as_string(hide_password=False), table_prefix=args.table_prefix
        )
    if _schema_version(store) is None:
        store.close()
        raise UsageError(
            f"{_shown(args.db)} holds no consent log (no {args.table_prefix}* tables): "
            "check --db and --table-prefix"
        )
    return store


def _schema_version(store: ConsentStore) -> int | None:
    """The log's schema version; None for a database that holds no log."""
    from sqlalchemy.exc import OperationalError

    try:
        return store.schema_version()
    except OperationalError as exc:
        # Opened read-only, an SQLite file that is not in WAL mode refuses the switch
        # to it; every consent log is in WAL mode from its first connection.
        if store.engine.dialect.name == "sqlite" and "readonly database" in str(exc.orig):
            return None
        raise


def _existing_sqlite(url: URL, *, read_only: bool) -> URL:
    """``url`` once its SQLite file is known to exist; as a read-only URI unless told."""
    database = url.database or ""  # ConsentStore refused an in-memory database
    path = Path(database)
    if url.query.get("uri") == "true" and database.startswith("file:"):
        path = Path(unquote(urlsplit(database).path))
    if not path.is_file():
        where = (
            ""
            if path.is_absolute()
            else " (sqlite:///NAME is relative to the current directory, sqlite:////NAME absolute)"
        )
        raise UsageError(f"no consent log at {path.resolve()}: no such file{where}")
    if not read_only:
        return url
    query = {**url.query, "mode": "ro", "uri": "true"}
    return url.set(database=path.resolve().as_uri(), query=query)


def _shown(db: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(db).render_as_string(hide_password=True)
    except Exception:  # not even a URL
        return repr(db)


def _database_errors(handler: Handler) -> Handler:
    """``handler``, with SQLAlchemy's errors (a malformed URL, a database away) as one line."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except UsageError:
            raise
        except ModuleNotFoundError as exc:  # SQLAlchemy, or the URL's driver, not installed
            raise UsageError(str(exc)) from exc
        except RuntimeError as exc:  # a log of a newer schema than this cookieguard's
            raise UsageError(f"cannot read consent log {_shown(args.db)}: {exc}") from exc
        except Exception as exc:
            try:
                from sqlalchemy.exc import DBAPIError, SQLAlchemyError
            except ModuleNotFoundError:  # then it is not SQLAlchemy's error
                raise exc from None
            if not isinstance(exc, SQLAlchemyError):
                raise
            detail = exc.orig if isinstance(exc, DBAPIError) else exc
            first_line = (str(detail).strip().splitlines() or [type(detail).__name__])[0]
            raise UsageError(f"cannot read consent log {_shown(args.db)}: {first_line}") from exc

    return run


def show_record(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        record = store.find(args.consent_id)
        if record is None:
            print(f"no consent recorded with ID {args.consent_id}", file=sys.stderr)
            return EXIT_FINDINGS
        history = store.history(args.consent_id)
    print("\n".join(record_lines(record, history)))
    return EXIT_CLEAN


def record_lines(record: ConsentRecord, history: list[ConsentRecord]) -> list[str]:
    """A record as ``show`` prints it: a field a line, then its history (oldest first).

    Each line of the history gives the categories granted and, after a ``+``, the
    services granted one by one. ``cookieguard consents show`` and Django's
    ``manage.py cookieguard_consents show`` both print these lines.
    """
    fields = record.as_dict()
    width = max(len(name) for name in fields)
    lines = []
    for name, value in fields.items():
        if isinstance(value, list):
            value = ", ".join(value) or None  # no service granted one by one: "-"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        lines.append(f"{name:<{width}}  {'-' if value is None else value}")
    if len(history) > 1:
        lines += ["", "history, oldest first:"]
        for earlier in history:
            mark = "*" if earlier.consent_id == record.consent_id else " "
            granted = ", ".join(earlier.granted)
            if earlier.services:
                granted += f" + {', '.join(earlier.services)}"
            when = earlier.as_dict()["given_at"]
            lines.append(f"{mark} {when}  {earlier.consent_id}  {earlier.action:<10}  {granted}")
    return lines


def export_records(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        if args.output:
            try:
                out = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
            except OSError as exc:
                raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
            with out:
                count = store.export(out, since=args.since, until=args.until, format=args.format)
            print(f"exported {count} records to {args.output}", file=sys.stderr)
        else:
            store.export(sys.stdout, since=args.since, until=args.until, format=args.format)
    return EXIT_CLEAN


def purge_records(args: argparse.Namespace) -> int:
    with open_store(args, write=True) as store:
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
        rows.append(("stored", _stored(args)))
    for name, value in rows:
        print(f"{name:<19} {value}")
    return EXIT_CLEAN


def _stored(args: argparse.Namespace) -> str:
    """How many records the database holds, or why that cannot be said: status is for then."""
    try:
        with open_store(args) as store:
            return str(store.count())
    except UsageError as exc:
        return f"unknown: {exc}"
    except Exception as exc:
        return "unknown: " + " ".join(str(exc).split())


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


_HANDLERS: dict[str, Handler] = {
    "show": show_record,
    "export": export_records,
    "purge": purge_records,
}
