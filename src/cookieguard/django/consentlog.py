"""The consent log through Django's ORM: ``OPTIONS["on_consent"]`` writes each choice.

.. code-block:: python

    INSTALLED_APPS = [..., "cookieguard.django"]  # then: manage.py migrate
    COOKIEGUARD = {
        "REGISTRY": "portal.cookies.registry",
        "OPTIONS": {"on_consent": "cookieguard.django.consentlog.log_consent"},
    }

Each consent saved through the endpoint becomes one
:class:`cookieguard.django.models.ConsentRecord`, made by the same
:class:`~cookieguard.consentlog.log.RecordMaker` as
:class:`cookieguard.consentlog.ConsentLog`'s records, with the banner's and
the registry's texts behind their hashes. It is written once per consent id
(a replay inserts nothing). A database that fails loses the record (logged at
ERROR, counted in :attr:`DjangoConsentLog.failures`); the visitor's choice
still applies. The banner's language recorded is the one Django would speak to
the visitor (``LocaleMiddleware``'s choice, else ``LANGUAGE_CODE``).

For other options than the defaults, make your own instance in a module of the
project and name it: ``DjangoConsentLog(client_ip="hash", ip_salt=...)``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from django.conf import settings  # type: ignore[import-untyped]
from django.db import router, transaction  # type: ignore[import-untyped]
from django.utils.translation import get_language  # type: ignore[import-untyped]

from ..consentlog.fingerprint import registry_declarations
from ..consentlog.log import DEFAULT_USER_AGENT_LENGTH, ClientIP, RecordMaker
from ..consentlog.record import ConsentRecord
from ..guard import logger
from ..registry import Category, Registry
from . import conf

if TYPE_CHECKING:
    from ..endpoint import ConsentEvent

__all__ = ["DjangoConsentLog", "log_consent", "to_row"]


def to_row(record: ConsentRecord) -> dict[str, Any]:
    """The model's field values for ``record`` (naive UTC times where ``USE_TZ`` is off)."""
    row = record.as_row()
    if not settings.USE_TZ:
        row["given_at"] = row["given_at"].astimezone(timezone.utc).replace(tzinfo=None)
    return row


def _now() -> datetime:
    now = datetime.now(timezone.utc)
    return now if settings.USE_TZ else now.replace(tzinfo=None)


class DjangoConsentLog:
    """An ``on_consent`` callback that records every saved consent through the ORM.

    ``registry`` defaults to ``settings.COOKIEGUARD["REGISTRY"]`` (read on the
    first consent); ``client_ip``, ``ip_salt`` and ``user_agent_length`` are
    :class:`~cookieguard.consentlog.ConsentLog`'s. ``using`` names the database
    (default: the router's choice).
    """

    def __init__(
        self,
        *,
        registry: Registry | None = None,
        client_ip: ClientIP = "truncate",
        ip_salt: str | bytes | None = None,
        user_agent_length: int = DEFAULT_USER_AGENT_LENGTH,
        using: str | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "client_ip": client_ip,
            "ip_salt": ip_salt,
            "user_agent_length": user_agent_length,
        }
        # Checked now, so that a mistake shows at start-up (registry or not).
        RecordMaker(registry or _ANY_REGISTRY, **self._options)
        self._maker: tuple[RecordMaker, str] | None = None
        if registry is not None:
            self._maker = (RecordMaker(registry, **self._options), registry_declarations(registry))
        self.using = using
        #: Consents that could not be recorded since start-up.
        self.failures = 0
        self._lock = threading.Lock()

    def _made(self) -> tuple[RecordMaker, str]:
        """The record maker and the registry's declarations (settings read once)."""
        if self._maker is None:
            with self._lock:
                if self._maker is None:
                    registry = conf.registry()
                    maker = RecordMaker(registry, **self._options)
                    self._maker = (maker, registry_declarations(registry))
        return self._maker

    def __call__(self, event: ConsentEvent) -> None:
        """Record ``event``; never raises (failures are logged and counted)."""
        try:
            self.record(event)
        except Exception:
            with self._lock:
                self.failures += 1
            logger.exception(
                "consent log (Django): could not record consent %s", event.consent.consent_id
            )

    def record(self, event: ConsentEvent) -> ConsentRecord:
        """Write the record of ``event`` (once per consent id) and return it; raises on failure."""
        from .models import BannerText, RegistryDeclarations
        from .models import ConsentRecord as Row

        maker, declarations = self._made()
        record, texts = maker.make(event, language=get_language())
        now = _now()
        using = self.using or router.db_for_write(Row)
        with transaction.atomic(using=using):
            BannerText.objects.using(using).bulk_create(
                [BannerText(banner_hash=record.banner_hash, texts=texts, first_seen=now)],
                ignore_conflicts=True,
            )
            RegistryDeclarations.objects.using(using).bulk_create(
                [
                    RegistryDeclarations(
                        revision=record.revision,
                        registry_hash=record.registry_hash,
                        declarations=declarations,
                        first_seen=now,
                    )
                ],
                ignore_conflicts=True,
            )
            Row.objects.using(using).bulk_create([Row(**to_row(record))], ignore_conflicts=True)
        return record


# Any registry will do to check the options before the real one is known.
_ANY_REGISTRY = Registry(categories=[Category("necessary", required=True)], cookies=[])

#: ``OPTIONS["on_consent"] = "cookieguard.django.consentlog.log_consent"``: the default log.
log_consent = DjangoConsentLog()
