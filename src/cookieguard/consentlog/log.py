""":class:`ConsentLog`: the ``on_consent`` callback that records every saved choice."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from .. import i18n
from ..guard import logger
from ..registry import Registry
from .fingerprint import banner_texts, registry_declarations, registry_fingerprint, sha256
from .record import ConsentRecord, iso, utc
from .shipper import Shipper
from .spool import Spool, SpoolFull, spool_status
from .store import ConsentStore

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ..endpoint import ConsentEvent

__all__ = [
    "DEFAULT_SPOOL_MAX_BYTES",
    "DEFAULT_USER_AGENT_LENGTH",
    "ClientIP",
    "ConsentLog",
    "RecordMaker",
]

ClientIP = Literal["truncate", "hash", "omit"]

# Browsers send user agents of a few hundred characters; the rest is noise.
DEFAULT_USER_AGENT_LENGTH = 256
# About 150,000 records (hours of a busy site's consents) before the spool refuses more.
DEFAULT_SPOOL_MAX_BYTES = 64 << 20


class RecordMaker:
    """Makes the :class:`ConsentRecord` of a consent event: what every consent log stores.

    :class:`ConsentLog` and the Django log (``cookieguard.django.consentlog``)
    both record through one, so that a record means the same wherever it is kept.
    The options are :class:`ConsentLog`'s, checked here.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        client_ip: ClientIP = "truncate",
        ip_salt: str | bytes | None = None,
        user_agent_length: int = DEFAULT_USER_AGENT_LENGTH,
    ) -> None:
        if not isinstance(registry, Registry):
            raise TypeError(f"registry must be a cookieguard.Registry, got {registry!r}")
        if client_ip not in ("truncate", "hash", "omit"):
            raise ValueError(f"client_ip must be 'truncate', 'hash' or 'omit', got {client_ip!r}")
        if client_ip == "hash" and not ip_salt:
            raise ValueError("client_ip='hash' needs an ip_salt (keep it secret, keep it stable)")
        if user_agent_length < 0:
            raise ValueError(f"user_agent_length must be 0 or more, got {user_agent_length!r}")
        self.registry = registry
        self.registry_hash = registry_fingerprint(registry)
        self.client_ip = client_ip
        self._ip_salt = ip_salt.encode() if isinstance(ip_salt, str) else ip_salt
        self.user_agent_length = user_agent_length

    def make(self, event: ConsentEvent, language: str | None = None) -> tuple[ConsentRecord, str]:
        """The record of ``event``, and the banner texts its ``banner_hash`` stands for.

        ``language`` is the banner's; by default, the one ``Accept-Language`` negotiates.
        """
        headers = event.request.headers
        language = i18n.negotiate(language or headers.get("accept-language"))
        texts = banner_texts(language)
        previous = event.previous
        record = ConsentRecord(
            consent_id=event.consent.consent_id,
            given_at=utc(event.consent.given_at),
            action=event.action,
            granted=tuple(c.name for c in self.registry.categories if event.consent.allows(c.name)),
            services=tuple(s.name for s in self.registry.services if s.name in event.services),
            revision=event.consent.revision,
            registry_hash=self.registry_hash,
            banner_hash=sha256(texts),
            language=language,
            gpc=event.request_consent.gpc,
            user_agent=headers.get("user-agent", "")[: self.user_agent_length] or None,
            client_ip=self._client_ip(event.request.client),
            previous_id=previous.consent_id if previous is not None else None,
        )
        return record, texts

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

    Without ``spool``, each record is written to the database before the
    visitor's response leaves; a database that fails loses it (logged at ERROR,
    counted in :attr:`failures`). With ``spool`` (a directory on a local disk),
    each record is appended to it and fsync'd instead, and a background thread
    ships it to the database, retrying while the database is away; records are
    written once per consent id, however often they are shipped. Processes may
    share one spool directory; what a dead process left is shipped by any live
    log on it, or by the next one started. The spool holds at most
    ``spool_max_bytes`` not yet shipped: past that, a record is refused (ERROR,
    counted in :attr:`overflowed` and :attr:`failures`) and the site still answers.

    Opening the log compares the registry with the declarations stored for the
    same revision and warns when they differ without a new revision, since
    visitors are asked again only when the revision changes.
    """

    def __init__(
        self,
        url: str | Engine,
        *,
        registry: Registry,
        spool: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = DEFAULT_SPOOL_MAX_BYTES,
        client_ip: ClientIP = "truncate",
        ip_salt: str | bytes | None = None,
        user_agent_length: int = DEFAULT_USER_AGENT_LENGTH,
        table_prefix: str = "cookieguard_",
    ) -> None:
        self._maker = RecordMaker(
            registry, client_ip=client_ip, ip_salt=ip_salt, user_agent_length=user_agent_length
        )
        super().__init__(url, table_prefix=table_prefix)
        self.registry = registry
        self.registry_hash = self._maker.registry_hash
        self.client_ip = client_ip
        self.user_agent_length = user_agent_length
        #: Consents that could not be recorded since the log was created.
        self.failures = 0
        #: Of those, the consents refused because the spool was full.
        self.overflowed = 0
        self._known_banners: set[str] = set()
        self._known_registries: set[tuple[int, str]] = set()
        self._spool: Spool | None = None
        self._shipper: Shipper | None = None
        self._counter_lock = threading.Lock()
        if spool is not None:
            self._spool = Spool(spool, max_bytes=spool_max_bytes)
            self._spool.write_text(self._registry_text_name(), registry_declarations(registry))
            self._shipper = Shipper(self._spool, self._deliver, where=self._where())
            self._shipper.ensure_running()  # opens the database in the background
            return
        try:  # at start-up, so a registry changed without a new revision is reported now
            self.open()
        except Exception:
            self._failed("cannot open the consent log; consents are not recorded until it opens")

    # -- recording ------------------------------------------------------------

    def __call__(self, event: ConsentEvent) -> None:
        """Record ``event``; never raises (failures are logged and counted)."""
        try:
            self.record(event)
        except SpoolFull as full:
            with self._counter_lock:
                self.failures += 1
                self.overflowed += 1
            logger.error(
                "consent log (%s): the spool %s is full (%s bytes not shipped, limit %d); "
                "consent %s is not recorded (%d refused since start-up)",
                self._where(),
                self._spool.directory if self._spool else "-",
                full,
                self._spool.max_bytes if self._spool else 0,
                event.consent.consent_id,
                self.overflowed,
            )
        except Exception:
            self._failed(f"could not record consent {event.consent.consent_id}")

    def record(self, event: ConsentEvent) -> ConsentRecord:
        """Record ``event`` and return the record; raises if it could not be kept.

        With a spool, the record is on disk when this returns, and in the
        database once :meth:`flush` says so.
        """
        record, texts = self._maker.make(event)
        if self._spool is not None and self._shipper is not None:
            self._spool.write_text(f"banner-{record.banner_hash}.json", texts)
            self._spool.append({"record": record.as_dict()})
            self._shipper.ensure_running()
            self._shipper.wake()
            return record
        banners = {} if record.banner_hash in self._known_banners else {record.banner_hash: texts}
        self._write([record], banners=banners)
        self._known_banners.add(record.banner_hash)
        return record

    # -- the spool --------------------------------------------------------------

    def pending(self) -> int:
        """Records in the spool directory not yet in the database, of every process."""
        if self._spool is None:
            return 0
        return spool_status(self._spool.directory).pending

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until no spooled record is unshipped (True), or ``timeout`` seconds (False)."""
        if self._shipper is None:
            return True
        return self._shipper.flush(timeout)

    def _registry_text_name(self, revision: int | None = None, digest: str | None = None) -> str:
        revision = self.registry.revision if revision is None else revision
        return f"registry-{revision}-{digest or self.registry_hash}.json"

    def _deliver(self, entries: list[dict[str, Any]]) -> None:
        """Write spooled entries, with the texts behind hashes this process has not stored."""
        assert self._spool is not None
        records = [ConsentRecord.from_dict(entry["record"]) for entry in entries]
        banners: dict[str, str] = {}
        registries: list[dict[str, Any]] = []
        now = datetime.now(timezone.utc)
        for record in records:
            if record.banner_hash not in self._known_banners | banners.keys():
                text = self._spool.read_text(f"banner-{record.banner_hash}.json")
                if text is not None and sha256(text) == record.banner_hash:
                    banners[record.banner_hash] = text
            key = (record.revision, record.registry_hash)
            if key not in self._known_registries | {
                (r["revision"], r["registry_hash"]) for r in registries
            }:
                declarations = self._spool.read_text(self._registry_text_name(*key))
                if declarations is not None and sha256(declarations) == record.registry_hash:
                    registries.append(
                        {"revision": key[0], "registry_hash": key[1], "declarations": declarations}
                    )
        self._write(
            records, banners=banners, registries=[{**r, "first_seen": now} for r in registries]
        )
        self._known_banners |= banners.keys()
        self._known_registries |= {(r["revision"], r["registry_hash"]) for r in registries}

    # -- opening and closing ------------------------------------------------------

    def _on_open(self) -> None:
        """Store the declarations under their hash; warn when a revision has two."""
        import sqlalchemy as sa

        from .store import insert_ignore

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
                iso(others[0].first_seen),
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
            with self.engine.begin() as conn:  # another worker may insert it at the same moment
                insert_ignore(conn, table, [row])
        self._known_registries.add((revision, self.registry_hash))

    def close(self, timeout: float = 5.0) -> None:
        """Stop shipping (after one last round) and close the database connections.

        What is still spooled stays on disk for the next log on the spool.
        """
        if self._shipper is not None and self._spool is not None:
            if self._shipper.stop(timeout):
                self._spool.close()
        super().close()

    def _failed(self, message: str) -> None:
        with self._counter_lock:
            self.failures += 1
        logger.exception("consent log (%s): %s", self._where(), message)

    def _where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)
