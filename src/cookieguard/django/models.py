"""The consent log in Django's database: a model whose fields are the consent record's.

:class:`ConsentRecord` has one field per field of
:class:`cookieguard.consentlog.ConsentRecord`, in its order, stored as the
SQLAlchemy log stores it (the granted categories as the same JSON list), so a
row converts with the record's own ``as_row`` and ``from_row``.
:class:`BannerText` and :class:`RegistryDeclarations` keep the texts behind a
record's two hashes. Nothing here is ever updated: a change of mind is a new
record. They are written by :mod:`cookieguard.django.consentlog`.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, Field, fields
from typing import Any

from django.db import models  # type: ignore[import-untyped]

from ..consentlog import record as core

__all__ = ["BannerText", "ConsentRecord", "RegistryDeclarations", "record_fields"]

# How each kind of record field is kept: the SQLAlchemy log's column types, in Django.
_KINDS: dict[str, Any] = {
    "id": lambda **kw: models.CharField(max_length=36, **kw),
    "moment": models.DateTimeField,
    "names": models.TextField,  # a JSON list, as the SQLAlchemy log keeps it
    "short": lambda **kw: models.CharField(max_length=35, **kw),
    "int": models.IntegerField,
    "hash": lambda **kw: models.CharField(max_length=64, **kw),
    "bool": models.BooleanField,
    "text": models.TextField,
    "address": lambda **kw: models.CharField(max_length=64, **kw),
}


def _model_field(field: Field[Any]) -> Any:
    options: dict[str, Any] = {"verbose_name": field.name.replace("_", " ")}
    kind = field.metadata["kind"]
    if field.default is None:
        options["null"] = True
    elif field.default is not MISSING:  # a field added later: the rows before it get this
        default = field.default
        options["default"] = json.dumps(list(default)) if kind == "names" else default
    if field.name == "consent_id":  # one record per consent: a replay inserts nothing
        options["unique"] = True
    elif field.metadata["index"]:
        options["db_index"] = True
    return _KINDS[kind](**options)


def record_fields() -> dict[str, Any]:
    """The model fields of :class:`cookieguard.consentlog.ConsentRecord`'s fields, in order."""
    return {f.name: _model_field(f) for f in fields(core.ConsentRecord)}


class ConsentRecord(models.Model):  # type: ignore[misc]
    """One saved choice, as :class:`cookieguard.consentlog.ConsentRecord` declares it."""

    locals().update(record_fields())

    class Meta:
        verbose_name = "consent record"
        ordering = ["-given_at", "-id"]

    def __str__(self) -> str:
        return f"{self.consent_id} ({self.action})"

    def as_record(self) -> core.ConsentRecord:
        """The record this row holds."""
        return core.ConsentRecord.from_row({f: getattr(self, f) for f in core.EXPORT_FIELDS})


class BannerText(models.Model):  # type: ignore[misc]
    """The banner's texts a ``banner_hash`` stands for (canonical JSON)."""

    banner_hash = models.CharField(max_length=64, unique=True)
    texts = models.TextField()
    first_seen = models.DateTimeField()


class RegistryDeclarations(models.Model):  # type: ignore[misc]
    """The declarations a ``registry_hash`` of a revision stands for (canonical JSON)."""

    revision = models.IntegerField()
    registry_hash = models.CharField(max_length=64)
    declarations = models.TextField()
    first_seen = models.DateTimeField()

    class Meta:
        verbose_name_plural = "registry declarations"
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "registry_hash"], name="cookieguard_registry_unique"
            )
        ]
