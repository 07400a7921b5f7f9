"""Proof of consent: an append-only log of every choice made through the consent endpoint.

GDPR Art. 7(1) asks a site to *demonstrate* that a visitor consented. The signed
cookie proves it only while the visitor keeps it; this log keeps the server's
side: who (a consent id, never a name), when, what was granted, and a hash of the
declarations and of the banner text the visitor was shown.

:class:`ConsentLog` is the middleware's ``on_consent`` callback:

.. code-block:: python

    CookieGuardMiddleware(app, registry=registry, secret_key=key,
                          on_consent=ConsentLog("sqlite:///consent.db", registry=registry,
                                                spool="/var/spool/cookieguard"))

With ``spool``, a record is on the local disk (fsync'd) before the visitor's
response leaves and reaches the database in the background, retried while the
database is away; without it, a database that fails loses the record (logged at
ERROR and counted in :attr:`ConsentLog.failures`). Either way the visitor's
choice still applies: a consent log never breaks the site.

The package, by job: :mod:`.record` (the record, declared once),
:mod:`.fingerprint` (what the hashes cover), :mod:`.store` (tables, migrations,
reading), :mod:`.log` (recording), :mod:`.spool` and :mod:`.shipper` (the
spool and its background shipping), :mod:`.dates` (the dates and ages the
``cookieguard consents`` command takes; the command is :mod:`cookieguard.cli.consents`).
"""

from __future__ import annotations

from .dates import months_before, parse_moment
from .fingerprint import (
    banner_fingerprint,
    banner_texts,
    registry_declarations,
    registry_fingerprint,
)
from .log import DEFAULT_SPOOL_MAX_BYTES, DEFAULT_USER_AGENT_LENGTH, ClientIP, ConsentLog
from .record import EXPORT_FIELDS, ConsentRecord
from .spool import SpoolStatus, spool_status
from .store import MIGRATIONS, SCHEMA_VERSION, ConsentStore, ExportFormat

__all__ = [
    "DEFAULT_SPOOL_MAX_BYTES",
    "DEFAULT_USER_AGENT_LENGTH",
    "EXPORT_FIELDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ClientIP",
    "ConsentLog",
    "ConsentRecord",
    "ConsentStore",
    "ExportFormat",
    "SpoolStatus",
    "banner_fingerprint",
    "banner_texts",
    "months_before",
    "parse_moment",
    "registry_declarations",
    "registry_fingerprint",
    "spool_status",
]
