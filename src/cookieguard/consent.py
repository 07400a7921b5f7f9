"""What a visitor agreed to, and the signed cookie value that carries it.

The consent lives in the visitor's browser, signed with the site's key
(itsdangerous), so the middleware needs no storage and scales with the app.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer

from ._cache import BoundedCache

__all__ = ["DEFAULT_MAX_AGE", "Consent", "ConsentCodec"]

#: Six months (182 days), the longest most European regulators accept for a consent.
DEFAULT_MAX_AGE = 15_724_800

_SALT = "cookieguard.consent"
# A signed consent is ~120 bytes; anything far longer is not ours and is not
# worth the HMAC (or the JSON parser) at all.
_MAX_TOKEN_LENGTH = 2048
# The alphabet ``dumps`` writes. itsdangerous's base64 decoding skips other bytes, so
# "token=", "token\u2603" or "/" for "_" would verify too: refuse them as malformed.
_TOKEN = re.compile(r"[A-Za-z0-9_\-.]+")
# Decoded consents kept per codec, so the HMAC runs once per distinct cookie value.
_CACHE_SIZE = 4096
_CACHE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Consent:
    """A visitor's stored choice: the categories granted under one registry revision.

    ``services`` are the services granted one by one, without their whole
    category (the "load this video" button of an embed).
    """

    granted: frozenset[str]
    revision: int
    consent_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    given_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    services: frozenset[str] = field(default=frozenset(), kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.granted, frozenset):
            object.__setattr__(self, "granted", frozenset(self.granted))
        if not isinstance(self.services, frozenset):
            object.__setattr__(self, "services", frozenset(self.services))

    def allows(self, category: str) -> bool:
        """True when the visitor granted ``category`` (required ones are not stored)."""
        return category in self.granted


def _as_list(secret_key: str | bytes | Sequence[str | bytes]) -> list[bytes]:
    if isinstance(secret_key, (str, bytes)):
        secret_key = [secret_key]
    keys = list(secret_key) if isinstance(secret_key, (list, tuple)) else []
    if not keys or any(not k or not isinstance(k, (str, bytes)) for k in keys):
        raise ValueError("secret_key must be a non-empty string or a list of them")
    return [k.encode() if isinstance(k, str) else k for k in keys]


class ConsentCodec:
    """Signs consents into cookie values and reads them back, failing closed.

    ``secret_key`` is one key or a list with the current key first and older keys
    after it: values signed with an older key still verify, new values use the
    first. ``loads`` answers None for anything forged, tampered, malformed or
    signed more than ``max_age`` seconds ago; it never raises.
    """

    def __init__(
        self,
        secret_key: str | bytes | Sequence[str | bytes],
        *,
        max_age: int = DEFAULT_MAX_AGE,
    ) -> None:
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
            raise ValueError(f"max_age must be a positive number of seconds, got {max_age!r}")
        self.max_age = max_age
        # itsdangerous wants its keys oldest first and signs with the last one.
        self._serializer = URLSafeTimedSerializer(
            list(reversed(_as_list(secret_key))),
            salt=_SALT,
            serializer_kwargs={"separators": (",", ":")},
        )
        self._cache: BoundedCache[str, tuple[Consent, float]] = BoundedCache(
            _CACHE_SIZE, _CACHE_BYTES, size=_entry_size
        )

    def dumps(self, consent: Consent) -> str:
        """A signed, cookie-safe value (``A-Za-z0-9_-.`` only) for ``consent``."""
        payload: list[Any] = [sorted(consent.granted), consent.revision, consent.consent_id]
        if consent.services:  # without, the token is the one earlier versions wrote
            payload.append(sorted(consent.services))
        return self._serializer.dumps(payload)

    def loads(self, value: str | bytes | None) -> Consent | None:
        """The consent in ``value``, or None if it is not a valid, fresh one."""
        if not isinstance(value, (str, bytes)) or not value or len(value) > _MAX_TOKEN_LENGTH:
            return None
        if isinstance(value, bytes):
            try:
                value = value.decode("ascii")
            except UnicodeDecodeError:
                return None
        cached = self._cache.get(value)  # only values that passed every check below
        if cached is not None:
            consent, signed_at = cached
            # The expiry is checked on every request, cached or not.
            return consent if 0 <= time.time() - signed_at <= self.max_age else None
        if not _TOKEN.fullmatch(value):
            return None
        verified = self._verify(value)
        if verified is not None:
            self._remember(value, verified)
        return verified

    def _remember(self, value: str, consent: Consent) -> None:
        self._cache.put(value, (consent, consent.given_at.timestamp()))

    def _verify(self, value: str) -> Consent | None:
        try:
            payload, signed_at = self._serializer.loads(
                value, max_age=self.max_age, return_timestamp=True
            )
        except (BadData, ValueError, TypeError, RecursionError, UnicodeError):
            return None
        return _consent_from(payload, signed_at)


def _entry_size(value: str, entry: tuple[Consent, float]) -> int:
    """Bytes a remembered consent holds, roughly: the token, the names, the id, the objects."""
    consent = entry[0]
    names = (*consent.granted, *consent.services)
    return len(value) + 400 + sum(len(c) + 64 for c in names)


def _consent_from(payload: Any, signed_at: datetime) -> Consent | None:
    """Accept exactly the shape ``dumps`` writes; anything else is no consent.

    Three items (categories, revision, id), as every version writes without
    services; a fourth lists the services granted one by one.
    """
    if not (isinstance(payload, list) and len(payload) in (3, 4)):
        return None
    granted, revision, consent_id = payload[:3]
    services = payload[3] if len(payload) == 4 else []
    if (
        not _names(granted)
        or not _names(services)
        or isinstance(revision, bool)
        or not isinstance(revision, int)
        or not isinstance(consent_id, str)
        or not consent_id
    ):
        return None
    return Consent(
        granted=frozenset(granted),
        revision=revision,
        consent_id=consent_id,
        given_at=signed_at.astimezone(timezone.utc),
        services=frozenset(services),
    )


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(name, str) for name in value)


def new_consent(granted: Iterable[str], revision: int, services: Iterable[str] = ()) -> Consent:
    """A fresh consent (new UUID4, given now) for ``granted`` categories and ``services``."""
    return Consent(granted=frozenset(granted), revision=revision, services=frozenset(services))
