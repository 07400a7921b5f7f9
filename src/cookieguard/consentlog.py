"""Proof of consent: an append-only log of every choice made through the consent endpoint.

GDPR Art. 7(1) asks a site to *demonstrate* that a visitor consented. The signed
cookie proves it only while the visitor keeps it; this log keeps the server's
side: who (a consent id, never a name), when, what was granted, and a hash of the
declarations and of the banner text the visitor was shown.

:class:`ConsentLog` is the middleware's ``on_consent`` callback:

.. code-block:: python

    CookieGuardMiddleware(app, registry=registry, secret_key=key,
                          on_consent=ConsentLog("sqlite:///consent.db", registry=registry))

Storage is SQLAlchemy Core, one code path for SQLite and PostgreSQL
(``postgresql+psycopg://...``). SQLAlchemy is the optional extra ``[log]`` and is
imported only when a log is opened. A store that fails never breaks the site:
the visitor's choice still applies, the failure is logged at ERROR on the
``cookieguard`` logger and counted in :attr:`ConsentLog.failures`.

The ``cookieguard consents`` command (show, export, purge) reads it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import ipaddress
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, TextIO

from . import i18n
from .guard import logger
from .registry import Registry

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, RowMapping, Table

    from .endpoint import ConsentEvent

__all__ = [
    "SCHEMA_VERSION",
    "ConsentLog",
    "ConsentRecord",
    "ConsentStore",
    "banner_fingerprint",
    "registry_fingerprint",
]

#: The layout of the tables this version writes; see :data:`MIGRATIONS`.
SCHEMA_VERSION = 1

#: ``MIGRATIONS[n]`` upgrades a version ``n`` log to ``n + 1``, inside one transaction.
MIGRATIONS: dict[int, Callable[[Connection, str], None]] = {}

ClientIP = Literal["truncate", "hash", "omit"]
ExportFormat = Literal["jsonl", "csv"]

# Browsers send user agents of a few hundred characters; the rest is noise.
DEFAULT_USER_AGENT_LENGTH = 256
# An execution option: the transaction that creates the schema locks SQLite at once.
_SCHEMA_LOCK = "cookieguard_schema_lock"
_INSTALL_HINT = "the consent log needs SQLAlchemy: pip install 'cookieguard[log]'"


# -- fingerprints -------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def registry_declarations(registry: Registry) -> str:
    """The registry as canonical JSON: every category and cookie, in declaration order.

    The revision is left out, so that the same declarations under two revisions
    hash the same and changed declarations under one revision are caught.
    """
    categories = [
        {
            "name": c.name,
            "required": c.required,
            "label": c.label,
            "description": c.description,
            "gpc_opt_out": c.gpc_opt_out,
        }
        for c in registry.categories
    ]
    cookies = [
        {
            "name": c.name,
            "category": c.category,
            "provider": c.provider,
            "purpose": c.purpose,
            "duration": c.duration,
            "path": c.path,
            "domain": c.domain,
        }
        for c in registry.cookies
    ]
    return _canonical({"categories": categories, "cookies": cookies})


def registry_fingerprint(registry: Registry) -> str:
    """The sha256 of :func:`registry_declarations`: what the visitor agreed to."""
    return _sha256(registry_declarations(registry))


@cache
def _banner_keys() -> tuple[str, ...]:
    """The message keys of the banner and the preferences dialog (``banner.en.json``)."""
    shipped = resources.files("cookieguard").joinpath("locales").joinpath("banner.en.json")
    return tuple(sorted(json.loads(shipped.read_text("utf-8"))))


def banner_texts(lang: str) -> str:
    """The banner's texts in ``lang`` as canonical JSON (language included)."""
    catalogue = i18n.messages(lang)
    texts = {key: catalogue.get(key, "") for key in _banner_keys()}
    return _canonical({"language": lang, "texts": texts})


def banner_fingerprint(lang: str) -> str:
    """The sha256 of :func:`banner_texts`: what the visitor was shown."""
    return _sha256(banner_texts(lang))


# -- records ------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRecord:
    """One saved choice. ``previous_id`` is the consent the visitor replaced, if any."""

    consent_id: str
    given_at: datetime
    action: str
    granted: tuple[str, ...]
    revision: int
    registry_hash: str
    banner_hash: str
    language: str
    gpc: bool
    user_agent: str | None = None
    client_ip: str | None = None
    previous_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping; ``given_at`` in ISO 8601, UTC."""
        return {
            "consent_id": self.consent_id,
            "previous_id": self.previous_id,
            "given_at": _iso(self.given_at),
            "action": self.action,
            "granted": list(self.granted),
            "revision": self.revision,
            "registry_hash": self.registry_hash,
            "banner_hash": self.banner_hash,
            "language": self.language,
            "gpc": self.gpc,
            "user_agent": self.user_agent,
            "client_ip": self.client_ip,
        }


_EXPORT_FIELDS = (
    "consent_id",
    "previous_id",
    "given_at",
    "action",
    "granted",
    "revision",
    "registry_hash",
    "banner_hash",
    "language",
    "gpc",
    "user_agent",
    "client_ip",
)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat().replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    """Aware UTC; SQLite hands back naive datetimes, which this log writes in UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# -- storage ------------------------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    schema: Table
    consents: Table
    registries: Table
    banners: Table


def _require_sqlalchemy() -> None:
    try:
        import sqlalchemy  # noqa: F401
    except ModuleNotFoundError as exc:  # pragma: no cover - the dev install has it
        raise ModuleNotFoundError(_INSTALL_HINT, name=exc.name) from exc


def _define_tables(prefix: str) -> _Tables:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    moment = sa.DateTime(timezone=True)
    hash_ = sa.String(64)
    schema = sa.Table(f"{prefix}schema", metadata, sa.Column("version", sa.Integer, nullable=False))
    consents = sa.Table(
        f"{prefix}consents",
        metadata,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("consent_id", sa.String(36), nullable=False, index=True),
        sa.Column("previous_id", sa.String(36), index=True),
        sa.Column("given_at", moment, nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("granted", sa.Text, nullable=False),  # a JSON list of category names
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("registry_hash", hash_, nullable=False),
        sa.Column("banner_hash", hash_, nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("gpc", sa.Boolean, nullable=False),
        sa.Column("user_agent", sa.Text),
        sa.Column("client_ip", sa.String(64)),
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
    return _Tables(schema, consents, registries, banners)


def _make_engine(url: str) -> Engine:
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
        _require_sqlalchemy()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table_prefix):
            raise ValueError(f"table_prefix must be an SQL identifier, got {table_prefix!r}")
        self._owns_engine = isinstance(url, str)
        self.engine: Engine = _make_engine(url) if isinstance(url, str) else url
        self.table_prefix = table_prefix
        self._tables = _define_tables(table_prefix)
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

    # -- lookups --------------------------------------------------------------

    def find(self, consent_id: str) -> ConsentRecord | None:
        """The record of ``consent_id``, or None."""
        import sqlalchemy as sa

        self.open()
        table = self._tables.consents
        query = sa.select(table).where(table.c.consent_id == consent_id).order_by(table.c.id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _record(row._mapping) if row is not None else None

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
                    record = seen.setdefault(row.consent_id, _record(row._mapping))
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
            query = query.where(table.c.given_at >= _utc(since))
        if until is not None:
            query = query.where(table.c.given_at < _utc(until))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=1000).execute(query):
                yield _record(row._mapping)

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
        if format not in ("jsonl", "csv"):
            raise ValueError(f"format must be 'jsonl' or 'csv', got {format!r}")
        writer = csv.DictWriter(out, _EXPORT_FIELDS, lineterminator="\n")
        if format == "csv":
            writer.writeheader()
        written = 0
        for record in self.records(since=since, until=until):
            row = record.as_dict()
            if format == "jsonl":
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                granted, gpc = " ".join(row["granted"]), "true" if row["gpc"] else "false"
                writer.writerow({**row, "granted": granted, "gpc": gpc})
            written += 1
        return written

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
            result = conn.execute(table.delete().where(table.c.given_at < _utc(cutoff)))
        return result.rowcount

    def close(self) -> None:
        """Close the database connections (the engine, when the store created it)."""
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> ConsentStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _record(row: RowMapping) -> ConsentRecord:
    return ConsentRecord(
        consent_id=row["consent_id"],
        given_at=_utc(row["given_at"]),
        action=row["action"],
        granted=tuple(json.loads(row["granted"])),
        revision=row["revision"],
        registry_hash=row["registry_hash"],
        banner_hash=row["banner_hash"],
        language=row["language"],
        gpc=bool(row["gpc"]),
        user_agent=row["user_agent"],
        client_ip=row["client_ip"],
        previous_id=row["previous_id"],
    )


class ConsentLog(ConsentStore):
    """Records every consent saved through the endpoint; pass it as ``on_consent``.

    Each record keeps the consent id, the time (UTC), the action, the granted
    categories, the registry revision, the sha256 of the declarations
    (:func:`registry_fingerprint`) and of the banner texts in the visitor's
    language (:func:`banner_fingerprint`), the GPC signal, the user agent cut to
    ``user_agent_length`` characters, and the client address as ``client_ip``
    says: ``"truncate"`` (default; the /24 of IPv4, the /48 of IPv6), ``"hash"``
    (HMAC-SHA256 with ``ip_salt``, linkable only by whoever holds the salt) or
    ``"omit"``. A change of mind is a new record whose ``previous_id`` is the
    consent it replaces; nothing is ever updated.

    Opening the log compares the registry with the declarations stored for the
    same revision and warns when they differ without a new revision, since
    visitors are asked again only when the revision changes.
    """

    def __init__(
        self,
        url: str | Engine,
        *,
        registry: Registry,
        client_ip: ClientIP = "truncate",
        ip_salt: str | bytes | None = None,
        user_agent_length: int = DEFAULT_USER_AGENT_LENGTH,
        table_prefix: str = "cookieguard_",
    ) -> None:
        if not isinstance(registry, Registry):
            raise TypeError(f"registry must be a cookieguard.Registry, got {registry!r}")
        if client_ip not in ("truncate", "hash", "omit"):
            raise ValueError(f"client_ip must be 'truncate', 'hash' or 'omit', got {client_ip!r}")
        if client_ip == "hash" and not ip_salt:
            raise ValueError("client_ip='hash' needs an ip_salt (keep it secret, keep it stable)")
        if user_agent_length < 0:
            raise ValueError(f"user_agent_length must be 0 or more, got {user_agent_length!r}")
        super().__init__(url, table_prefix=table_prefix)
        self.registry = registry
        self.registry_hash = registry_fingerprint(registry)
        self.client_ip = client_ip
        self._ip_salt = ip_salt.encode() if isinstance(ip_salt, str) else ip_salt
        self.user_agent_length = user_agent_length
        #: Consents that could not be recorded since the log was created.
        self.failures = 0
        self._known_banners: set[str] = set()
        try:  # at start-up, so a registry changed without a new revision is reported now
            self.open()
        except Exception:
            self._failed("cannot open the consent log; consents are not recorded until it opens")

    def __call__(self, event: ConsentEvent) -> None:
        """Record ``event``; never raises (failures are logged and counted)."""
        try:
            self.record(event)
        except Exception:
            self._failed(f"could not record consent {event.consent.consent_id}")

    def record(self, event: ConsentEvent) -> ConsentRecord:
        """Write ``event`` to the log and return the record; raises if the store fails."""
        headers = event.request.headers
        language = i18n.negotiate(headers.get("accept-language"))
        texts = banner_texts(language)
        previous = event.previous
        record = ConsentRecord(
            consent_id=event.consent.consent_id,
            given_at=_utc(event.consent.given_at),
            action=event.action,
            granted=tuple(c.name for c in self.registry.categories if event.consent.allows(c.name)),
            revision=event.consent.revision,
            registry_hash=self.registry_hash,
            banner_hash=_sha256(texts),
            language=language,
            gpc=event.request_consent.gpc,
            user_agent=headers.get("user-agent", "")[: self.user_agent_length] or None,
            client_ip=self._client_ip(event.request.client),
            previous_id=previous.consent_id if previous is not None else None,
        )
        self.open()
        if record.banner_hash not in self._known_banners:
            self._store_banner(record.banner_hash, texts)
        row = record.as_dict()
        row.update(given_at=record.given_at, granted=json.dumps(list(record.granted)))
        with self.engine.begin() as conn:
            conn.execute(self._tables.consents.insert().values(row))
        return record

    def _client_ip(self, client: str | None) -> str | None:
        if client is None or self.client_ip == "omit":
            return None
        try:
            address = ipaddress.ip_address(client)
        except ValueError:  # a Unix socket, a test client: no address to keep
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if self.client_ip == "hash":
            assert self._ip_salt is not None
            return hmac.new(self._ip_salt, str(address).encode(), hashlib.sha256).hexdigest()
        prefix = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))

    def _store_banner(self, banner_hash: str, texts: str) -> None:
        """Keep the texts behind a banner hash, once: an insert that may find them there."""
        import sqlalchemy as sa

        row = {"banner_hash": banner_hash, "texts": texts, "first_seen": datetime.now(timezone.utc)}
        try:
            with self.engine.begin() as conn:
                conn.execute(self._tables.banners.insert().values(row))
        except sa.exc.IntegrityError:  # stored before, by this worker or another one
            pass
        self._known_banners.add(banner_hash)

    def _on_open(self) -> None:
        """Store the declarations under their hash; warn when a revision has two."""
        import sqlalchemy as sa

        table = self._tables.registries
        revision = self.registry.revision
        with self.engine.connect() as conn:
            stored = conn.execute(
                sa.select(table.c.registry_hash, table.c.first_seen)
                .where(table.c.revision == revision)
                .order_by(table.c.first_seen)
            ).all()
        others = [row for row in stored if row.registry_hash != self.registry_hash]
        if others:
            logger.warning(
                "the cookie registry changed without a new revision: revision %d was first "
                "recorded on %s with other declarations (sha256 %s, now %s); bump "
                "Registry(revision=...) so visitors are asked to consent again",
                revision,
                _iso(others[0].first_seen),
                others[0].registry_hash[:12],
                self.registry_hash[:12],
            )
        if len(others) == len(stored):
            row = {
                "revision": revision,
                "registry_hash": self.registry_hash,
                "declarations": registry_declarations(self.registry),
                "first_seen": datetime.now(timezone.utc),
            }
            try:
                with self.engine.begin() as conn:
                    conn.execute(table.insert().values(row))
            except sa.exc.IntegrityError:  # another worker started with it at the same moment
                pass

    def _failed(self, message: str) -> None:
        with self._lock:
            self.failures += 1
        logger.exception("consent log (%s): %s", self._where(), message)

    def _where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)


# -- dates and ages ---------------------------------------------------------

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
        return _utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a date (2026-01-31) nor an age (30d, 6m, 1y)"
        ) from None
