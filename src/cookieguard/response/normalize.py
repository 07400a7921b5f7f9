"""The slow path of the header rewrite: any list an application sends, made clean.

:func:`normalize` reads what :func:`cookieguard.response.rewrite`'s fast loop
refused: names and values as ``str``, ``bytes``, ``bytearray`` or
``memoryview``, entries that are no pair, CR, LF or NUL, names that are no
token. It returns ``(name, value)`` tuples of the adapter's type, a name that a
server writing headers verbatim would turn into a ``Set-Cookie`` line spelled
as one, and drops (and logs) the rest. It never raises.
"""

from __future__ import annotations

from typing import Any

from .. import setcookie
from ..guard import logger
from .kinds import HTTP_WS, TOKEN, H, HeaderKind

__all__ = ["normalize"]


def _as_text(item: Any) -> str | None:
    """A header name or value as latin-1 text, or None when it is not text at all."""
    if isinstance(item, str):
        return item
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item).decode("latin-1")
    return None


def normalize(headers: Any, kind: HeaderKind[H]) -> list[tuple[H, H]]:
    """The headers as clean ``(name, value)`` tuples of the adapter's type; the rest dropped."""
    clean: list[tuple[H, H]] = []
    try:
        items = list(headers or ())
    except TypeError:
        items = []
    for header in items:
        try:
            key, value = header
        except (TypeError, ValueError):
            _drop("not a (name, value) pair", header)
            continue
        name, text = _as_text(key), _as_text(value)
        if name is None or text is None:
            _drop("not text", header)
            continue
        if setcookie.has_line_break(name) or (
            setcookie.has_line_break(text)
            and (kind.check_all_values or name.strip(HTTP_WS).lower().startswith("set-cookie"))
        ):
            _drop("CR, LF or NUL", header)
            continue
        if not TOKEN.fullmatch(name):
            # What the browser reads from the line a verbatim server writes: the name
            # runs to the first ":", both sides trimmed of whitespace.
            line = f"{name}: {text}"
            read_name, _, read_value = line.partition(":")
            if read_name.strip(HTTP_WS).lower() != "set-cookie":
                _drop("a header name that is not a token", header)
                continue
            name, text = kind.decode(kind.add_set_cookie), read_value.strip(HTTP_WS)
        try:
            encoded = (kind.encode(name), kind.encode(text))
        except UnicodeError:  # text beyond latin-1 is no header a server writes
            _drop("not latin-1", header)
            continue
        clean.append(encoded)
    return clean


def _drop(why: str, header: object) -> None:
    logger.warning("dropped a response header (%s): %r", why, header)
