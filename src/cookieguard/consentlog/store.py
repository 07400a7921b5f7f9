"""The tables, their migrations, and :class:`ConsentStore`, which reads them.

Storage is SQLAlchemy Core, one code path for SQLite and PostgreSQL
(``postgresql+psycopg://...``). SQLAlchemy is the optional extra ``[log]`` and is
imported only when a log is opened.
"""

from __future__ import annotations

import csv
import importlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, TextIO

from ..guard import logger
from .record import EXPORT_FIELDS, ConsentRecord, columns, utc

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, Table

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "ConsentStore", "ExportFormat", "write_export"]

#: The layout of the tables this version writes; see :data:`MIGRATIONS`.
SCHEMA_VERSION = 3

ExportFormat = Literal["jsonl", "csv"]

# An execution option: the transaction that creates the schema locks SQLite at once.
_SCHEMA_LOCK = "cookieguard_schema_lock"
_INSTALL_HINT = "the consent log needs SQLAlchemy: pip install 'cookieguard[log]'"


def _unique_consent_ids(conn: Connection, prefix: str) -> None:
    """Version 2: one record per consent id, so that a replayed record is not written twice."""
    table = f"{prefix}consents"
    doubled = conn.exec_driver_sql(
        f"SELECT COUNT(*) - COUNT(DISTINCT consent_id) FROM {table}"
    ).scalar()
    if doubled:
        raise RuntimeError(
            f"{table} holds {doubled} records whose consent id another record has; "
            "keep one of each before upgrading"
        )
    conn.exec_driver_sql(f"DROP INDEX ix_{table}_consent_id")
    conn.exec_driver_sql(f"CREATE UNIQUE INDEX ix_{table}_consent_id ON {table} (consent_id)")


def _services(conn: Connection, prefix: str) -> None:
    """Version 3: the services granted one by one; records written before have none."""
    conn.exec_driver_sql(
        f"ALTER TABLE {prefix}consents ADD COLUMN services TEXT NOT NULL DEFAULT '[]'"
    )


#: ``MIGRATIONS[n]`` upgrades a version ``n`` log to ``n + 1``, inside one transaction.
MIGRATIONS: dict[int, Callable[[Connection, str], None]] = {
    1: _unique_consent_ids,
    2: _services,
}


def write_export(out: TextIO, records: Iterable[ConsentRecord], format: ExportFormat) -> int:
    """Write ``records`` to ``out`` as JSON lines or CSV (:data:`EXPORT_FIELDS`); return how many.

    Every store of records exports through this, so that their exports read alike.
    """
    if format not in ("jsonl", "csv"):
        raise ValueError(f"format must be 'jsonl' or 'csv', got {format!r}")
    writer = csv.DictWriter(out, EXPORT_FIELDS, lineterminator="\n")
    if format == "csv":
        writer.writeheader()
    written = 0
    for record in records:
        row = record.as_dict()
        if format == "jsonl":
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            names = {key: " ".join(row[key]) for key in ("granted", "services")}
            writer.writerow({**row, **names, "gpc": "true" if row["gpc"] else "false"})
        written += 1
    return written


@dataclass(frozen=True)
class Tables:
    schema: Table
    consents: Table
    registries: Table
    banners: Table


def require_sqlalchemy() -> None:
    try:
        import sqlalchemy  # noqa: F401
    except ModuleNotFoundError as exc:  # pragma: no cover - the dev install has it
        raise ModuleNotFoundError(_INSTALL_HINT, name=exc.name) from exc


def define_tables(prefix: str) -> Tables:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    moment = sa.DateTime(timezone=True)
    hash_ = sa.String(64)
    schema = sa.Table(f"{prefix}schema", metadata, sa.Column("version", sa.Integer, nullable=False))
    row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    consents = sa.Table(
        f"{prefix}consents",
        metadata,
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        *columns(),
    )
    # What each hash stands for, so a record can be shown with the exact texts.
    registries = sa.Table(
        f"{prefix}registries",
        metadata,
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("registry_hash", hash_, primary_key=True),
        sa.Column("declarations", sa.Text, nullable=False),
        sa.Column("first_seen", moment, nullable=False),
    )
    banners = sa.Table(
        f"{prefix}banners",
        metadata,
        sa.Column("banner_hash", hash_, primary_key=True),
        sa.Column("texts", sa.Text, nullable=False),
        sa.Column("first_seen", moment, nullable=False),
    )
    return Tables(schema, consents, registries, banners)


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those whose key is already there (replays, races)."""
    import sqlalchemy as sa

    if not rows:
        return
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):  # INSERT ... ON CONFLICT DO NOTHING
        insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
        conn.execute(insert(table).on_conflict_do_nothing(), rows)
        return
    for row in rows:  # pragma: no cover - other databases: one savepoint per row
        try:
            with conn.begin_nested():
                conn.execute(table.insert().values(row))
        except sa.exc.IntegrityError:
            pass


def make_engine(url: str) -> Engine:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        engine.dispose()  # each thread would get a database of its own, and lose it
        raise ValueError(f"give the consent log an SQLite file (sqlite:///consent.db), not {url!r}")
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets lookups run while a consent is written; concurrent writers
            # wait for the lock instead of failing at once. SQLAlchemy, not the
            # driver, begins transactions, so that DDL is transactional too.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # Creating the schema reads, then writes: take the write lock first.
            immediate = conn.get_execution_options().get(_SCHEMA_LOCK, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class ConsentStore:
    """A consent log opened for reading, exporting and purging (no registry needed).

    ``url`` is an SQLAlchemy URL (``sqlite:///consent.db``,
    ``postgresql+psycopg://user:password@host/db``) or an existing ``Engine``,
    which the store then uses without disposing of it. The tables are created
    on first use; ``table_prefix`` names them.
    """

    def __init__(self, url: str | Engine, *, table_prefix: str = "cookieguard_") -> None:
        require_sqlalchemy()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table_prefix):
            raise ValueError(f"table_prefix must be an SQL identifier, got {table_prefix!r}")
        self._owns_engine = isinstance(url, str)
        self.engine: Engine = make_engine(url) if isinstance(url, str) else url
        self.table_prefix = table_prefix
        self._tables = define_tables(table_prefix)
        self._ready = False
        self._lock = threading.Lock()

    # -- schema ---------------------------------------------------------------

    def open(self) -> None:
        """Create or upgrade the tables now rather than on first use."""
        import sqlalchemy as sa

        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            with self.engine.connect() as conn:  # failing to connect is not retried
                try:
                    self._create_schema(conn)
                except sa.exc.DBAPIError:
                    # Another worker created the same tables at the same moment.
                    conn.rollback()
                    self._create_schema(conn)
            self._on_open()
            self._ready = True

    def _create_schema(self, conn: Connection) -> None:
        with conn.execution_options(**{_SCHEMA_LOCK: True}).begin():
            self._tables.schema.metadata.create_all(conn)
            self._migrate(conn)

    def schema_version(self) -> int | None:
        """The version the database holds, or None before the tables exist."""
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(self._tables.schema.name):
                return None
            version: int | None = conn.scalar(sa.select(sa.func.max(self._tables.schema.c.version)))
            return version

    def _migrate(self, conn: Connection) -> None:
        import sqlalchemy as sa

        table = self._tables.schema
        version = conn.scalar(sa.select(sa.func.max(table.c.version)))
        if version is None:  # a new log: create_all made the current layout
            conn.execute(table.insert().values(version=SCHEMA_VERSION))
            return
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"the consent log has schema version {version}, newer than the "
                f"{SCHEMA_VERSION} this cookieguard understands; upgrade cookieguard"
            )
        for step in range(version, SCHEMA_VERSION):
            logger.warning("upgrading the consent log schema from version %d", step)
            MIGRATIONS[step](conn, self.table_prefix)
        if version < SCHEMA_VERSION:
            conn.execute(table.update().values(version=SCHEMA_VERSION))

    def _on_open(self) -> None:
        """A hook for subclasses, run once the schema is in place."""

    def _write(
        self,
        records: Iterable[ConsentRecord],
        *,
        banners: Mapping[str, str] | None = None,
        registries: Iterable[dict[str, Any]] = (),
    ) -> None:
        """Insert records (and the texts behind their hashes) in one transaction, idempotently."""
        now = datetime.now(timezone.utc)
        banner_rows = [
            {"banner_hash": h, "texts": t, "first_seen": now} for h, t in (banners or {}).items()
        ]
        self.open()
        with self.engine.begin() as conn:
            insert_ignore(conn, self._tables.banners, banner_rows)
            insert_ignore(conn, self._tables.registries, [dict(r) for r in registries])
            insert_ignore(conn, self._tables.consents, [r.as_row() for r in records])

    # -- lookups --------------------------------------------------------------

    def find(self, consent_id: str) -> ConsentRecord | None:
        """The record of ``consent_id``, or None."""
        import sqlalchemy as sa

        self.open()
        table = self._tables.consents
        query = sa.select(table).where(table.c.consent_id == consent_id).order_by(table.c.id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return ConsentRecord.from_row(row._mapping) if row is not None else None

    def history(self, consent_id: str) -> list[ConsentRecord]:
        """Every record linked to ``consent_id`` by ``previous_id``, oldest first."""
        import sqlalchemy as sa

        self.open()
        table = self._tables.consents
        seen: dict[str, ConsentRecord] = {}
        queried: set[str] = set()
        frontier = {consent_id}
        with self.engine.connect() as conn:
            while frontier:  # one hop per change of mind: a handful of queries
                queried |= frontier
                query = sa.select(table).where(
                    sa.or_(table.c.consent_id.in_(frontier), table.c.previous_id.in_(frontier))
                )
                frontier = set()
                for row in conn.execute(query):
                    record = seen.setdefault(row.consent_id, ConsentRecord.from_row(row._mapping))
                    for linked in (record.consent_id, record.previous_id):
                        if linked is not None and linked not in queried:
                            frontier.add(linked)
        return sorted(seen.values(), key=lambda r: r.given_at)

    def records(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[ConsentRecord]:
        """Records given at or after ``since`` and before ``until``, oldest first.

        They are read in batches as the iterator advances: run it to the end (or
        close it) to give its connection back.
        """
        import sqlalchemy as sa

        self.open()
        table = self._tables.consents
        query = sa.select(table).order_by(table.c.given_at, table.c.id)
        if since is not None:
            query = query.where(table.c.given_at >= utc(since))
        if until is not None:
            query = query.where(table.c.given_at < utc(until))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=1000).execute(query):
                yield ConsentRecord.from_row(row._mapping)

    def count(self) -> int:
        """How many records the log holds."""
        import sqlalchemy as sa

        self.open()
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(self._tables.consents)) or 0

    def export(
        self,
        out: TextIO,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        format: ExportFormat = "jsonl",
    ) -> int:
        """Write the records to ``out`` as JSON lines or CSV; return how many."""
        return write_export(out, self.records(since=since, until=until), format)

    def purge(self, older_than: datetime | timedelta) -> int:
        """Delete records given before ``older_than`` (a date, or an age); return how many."""
        cutoff = (
            datetime.now(timezone.utc) - older_than
            if isinstance(older_than, timedelta)
            else older_than
        )
        table = self._tables.consents
        self.open()
        with self.engine.begin() as conn:
            result = conn.execute(table.delete().where(table.c.given_at < utc(cutoff)))
        return result.rowcount

    def close(self) -> None:
        """Close the database connections (the engine, when the store created it)."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> ConsentStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
