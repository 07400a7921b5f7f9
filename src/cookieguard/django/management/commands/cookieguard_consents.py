"""``manage.py cookieguard_consents show|export|purge``: the consent log in Django's database.

The ORM's twin of ``cookieguard consents`` (:mod:`cookieguard.cli.consents`), for
the records :mod:`cookieguard.django.consentlog` writes: the same output, the
same dates and ages (``2026-01-31``, ``30d``, ``13m``), the same export columns.
A mistake is one ``CommandError`` line, exit 2, and no file is created.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

from django.conf import settings  # type: ignore[import-untyped]
from django.core.management.base import BaseCommand, CommandError  # type: ignore[import-untyped]
from django.db import DatabaseError, router  # type: ignore[import-untyped]

from ....cli.consents import RECORD_ACTIONS, add_action_arguments, record_lines
from ....consentlog import ConsentRecord
from ....consentlog.record import iso
from ....consentlog.store import write_export
from ...models import ConsentRecord as Row


def _stored(moment: datetime) -> datetime:
    """``moment`` as the database compares it (naive UTC where ``USE_TZ`` is off)."""
    moment = moment.astimezone(timezone.utc)
    return moment if settings.USE_TZ else moment.replace(tzinfo=None)


class Command(BaseCommand):  # type: ignore[misc]
    help = "Look up, export and purge the consent log kept by cookieguard.django."
    requires_system_checks: list[str] = []  # reading the log needs no working middleware

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--database", metavar="ALIAS", help="the database (default: the router's choice)"
        )
        actions = parser.add_subparsers(
            title="actions", dest="action", metavar="ACTION", required=True
        )
        for name, help in RECORD_ACTIONS.items():
            add_action_arguments(name, actions.add_parser(name, help=help))

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        write = action == "purge"
        using = options["database"] or (router.db_for_write if write else router.db_for_read)(Row)
        if using not in settings.DATABASES:
            raise CommandError(f"no database {using!r} in settings.DATABASES", returncode=2)
        rows = Row.objects.using(using)
        try:
            getattr(self, action)(rows, options)
        except DatabaseError as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            hint = " (run manage.py migrate cookieguard)" if "cookieguard_" in first else ""
            raise CommandError(
                f"cannot read the consent log: {first}{hint}", returncode=2
            ) from None

    def show(self, rows: Any, options: dict[str, Any]) -> None:
        consent_id = options["consent_id"]
        row = rows.filter(consent_id=consent_id).first()
        if row is None:
            self.stderr.write(f"no consent recorded with ID {consent_id}")
            sys.exit(1)
        self.stdout.write("\n".join(record_lines(row.as_record(), history(rows, consent_id))))

    def export(self, rows: Any, options: dict[str, Any]) -> None:
        query = rows.order_by("given_at", "id")
        if options["since"] is not None:
            query = query.filter(given_at__gte=_stored(options["since"]))
        if options["until"] is not None:
            query = query.filter(given_at__lt=_stored(options["until"]))
        records = (row.as_record() for row in query.iterator(chunk_size=1000))
        output = options["output"]
        if not output:
            write_export(self.stdout, records, options["format"])
            return
        query.exists()  # a missing table is an error before a file is made
        try:
            out = open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}", returncode=2) from None
        with out:
            count = write_export(out, records, options["format"])
        self.stderr.write(f"exported {count} records to {output}")

    def purge(self, rows: Any, options: dict[str, Any]) -> None:
        before = options["older_than"]
        count = rows.filter(given_at__lt=_stored(before)).delete()[0]
        self.stdout.write(f"purged {count} records given before {iso(before)}")


def history(rows: Any, consent_id: str) -> list[ConsentRecord]:
    """Every record linked to ``consent_id`` by ``previous_id``, oldest first."""
    from django.db.models import Q  # type: ignore[import-untyped]

    seen: dict[str, ConsentRecord] = {}
    queried: set[str] = set()
    frontier = {consent_id}
    while frontier:  # one hop per change of mind: a handful of queries
        queried |= frontier
        found = rows.filter(Q(consent_id__in=frontier) | Q(previous_id__in=frontier))
        frontier = set()
        for row in found:
            record = seen.setdefault(row.consent_id, row.as_record())
            for linked in (record.consent_id, record.previous_id):
                if linked is not None and linked not in queried:
                    frontier.add(linked)
    return sorted(seen.values(), key=lambda r: r.given_at)
