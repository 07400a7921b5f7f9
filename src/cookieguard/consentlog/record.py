"""The consent record, declared once: its fields say how each is stored and exported.

:class:`ConsentRecord` is the only place that lists what a record holds. The JSON
form (:meth:`ConsentRecord.as_dict`, also each spool entry), the export columns
(:data:`EXPORT_FIELDS`), the table columns (:func:`columns`) and the rows written
to and read from the database are all derived from its fields, in their order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sqlalchemy import Column

__all__ = ["EXPORT_FIELDS", "ConsentRecord", "columns", "iso", "utc"]

# How a field is kept: its column type, and how its value crosses JSON and SQL.
Kind = Literal["id", "moment", "names", "short", "int", "hash", "bool", "text", "address"]


def _stored(kind: Kind, *, index: bool = False) -> dict[str, Any]:
    return {"kind": kind, "index": index}


def utc(moment: datetime) -> datetime:
    """Aware UTC; SQLite hands back naive datetimes, which this log writes in UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: how records show their times."""
    return utc(moment).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, kw_only=True)
class ConsentRecord:
    """One saved choice. ``previous_id`` is the consent the visitor replaced, if any."""

    consent_id: str = field(metadata=_stored("id", index=True))
    previous_id: str | None = field(default=None, metadata=_stored("id", index=True))
    given_at: datetime = field(metadata=_stored("moment", index=True))
    action: str = field(metadata=_stored("short"))
    granted: tuple[str, ...] = field(metadata=_stored("names"))  # a JSON list in the table
    # The services granted one by one; records written before services read as none.
    services: tuple[str, ...] = field(default=(), metadata=_stored("names"))
    revision: int = field(metadata=_stored("int"))
    registry_hash: str = field(metadata=_stored("hash"))
    banner_hash: str = field(metadata=_stored("hash"))
    language: str = field(metadata=_stored("short"))
    gpc: bool = field(metadata=_stored("bool"))
    user_agent: str | None = field(default=None, metadata=_stored("text"))
    client_ip: str | None = field(default=None, metadata=_stored("address"))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping; ``given_at`` in ISO 8601, UTC."""
        return {f.name: _converted(_TO_JSON, _kind(f.name), getattr(self, f.name)) for f in _FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsentRecord:
        """The record :meth:`as_dict` wrote (unknown keys are ignored, missing ones default)."""
        values = {f.name: _converted(_FROM_JSON, _kind(f.name), data.get(f.name)) for f in _FIELDS}
        return cls(**_with_defaults(values))

    def as_row(self) -> dict[str, Any]:
        """The record as a row of the consents table."""
        return {f.name: _converted(_TO_ROW, _kind(f.name), getattr(self, f.name)) for f in _FIELDS}

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ConsentRecord:
        """The record a row of the consents table holds."""
        values = {f.name: _converted(_FROM_ROW, _kind(f.name), row[f.name]) for f in _FIELDS}
        return cls(**_with_defaults(values))


_FIELDS = fields(ConsentRecord)
# Fields a record written before them lacks, which then read as their default.
_ADDED: frozenset[str] = frozenset(
    f.name for f in _FIELDS if f.default is not MISSING and f.default is not None
)


def _with_defaults(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None or k not in _ADDED}


_KINDS: dict[str, Kind] = {f.name: f.metadata["kind"] for f in _FIELDS}
#: The columns of an export, in order: the record's fields.
EXPORT_FIELDS: tuple[str, ...] = tuple(f.name for f in _FIELDS)


def _kind(name: str) -> Kind:
    return _KINDS[name]


def _names_text(names: Any) -> str:
    return json.dumps(list(names))


def _names(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def _moment(text: str) -> datetime:
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


Converters = dict[Kind, Callable[[Any], Any]]
# How a value of each kind is written to JSON or a row, and read back; a kind not
# named passes as it is, and None stays None.
_TO_JSON: Converters = {"moment": iso, "names": list}
_FROM_JSON: Converters = {"moment": _moment, "names": tuple}
_TO_ROW: Converters = {"moment": utc, "names": _names_text}
_FROM_ROW: Converters = {"moment": utc, "names": _names, "bool": bool}


def _converted(converters: Converters, kind: Kind, value: Any) -> Any:
    convert = converters.get(kind)
    return value if value is None or convert is None else convert(value)


def columns() -> list[Column[Any]]:
    """The consents table's columns for the record's fields (SQLAlchemy imported here)."""
    import sqlalchemy as sa

    types: dict[Kind, Any] = {
        "id": sa.String(36),
        "moment": sa.DateTime(timezone=True),
        "names": sa.Text,
        "short": sa.String(35),
        "int": sa.Integer,
        "hash": sa.String(64),
        "bool": sa.Boolean,
        "text": sa.Text,
        "address": sa.String(64),
    }
    # The consent id is unique: shipping a spooled record twice inserts it once.
    return [
        sa.Column(
            f.name,
            types[_kind(f.name)],
            nullable=f.default is None,
            index=f.metadata["index"],
            unique=True if f.name == "consent_id" else None,
        )
        for f in _FIELDS
    ]
