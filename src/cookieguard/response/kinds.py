"""How each adapter spells response headers, and what a header name is.

:class:`HeaderKind` holds what :func:`cookieguard.response.rewrite` needs to
read one adapter's headers: ``str`` pairs for WSGI (:data:`TEXT_HEADERS`),
lower-case ``bytes`` pairs for ASGI (:data:`BYTES_HEADERS`), and the bounded
memories of what it has read before. :func:`classify` tells the few header
names the rewrite treats specially from the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter, methodcaller
from typing import Any, Generic, TypeVar

from .. import setcookie
from .._cache import BoundedCache
from ..state import Verdict, Verdicts

__all__ = ["BYTES_HEADERS", "TEXT_HEADERS", "HeaderKind", "classify"]

H = TypeVar("H", str, bytes)

# What a header name is, once classified.
OTHER, SET_COOKIE, VARY, CONTENT_TYPE = 0, 1, 2, 3
_KINDS = {"set-cookie": SET_COOKIE, "vary": VARY, "content-type": CONTENT_TYPE}
#: An RFC 9110 token: what a header name must be to be taken as it is.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HTTP_WS = " \t"


@dataclass(frozen=True, slots=True)
class HeaderKind(Generic[H]):
    """How an adapter spells headers: ``str`` pairs (WSGI) or ``bytes`` pairs (ASGI).

    ``names`` remembers what each header name seen is (bounded): a response's
    names are the same few, so classifying one costs a dictionary probe.
    """

    type: type[H]
    decode: Callable[[H], str]
    encode: Callable[[str], H]
    add_set_cookie: H
    add_vary: H
    equals: H
    # CR, LF and NUL as ``in`` finds them fastest: one-character strings, or byte values
    # (``13 in value`` skips the buffer protocol that ``b"\r" in value`` goes through).
    cr: str | int
    lf: str | int
    nul: str | int
    table: Callable[[Verdicts], dict[H, Verdict]]
    semicolon: H
    # Whether every header value is checked for CR, LF and NUL, or only Set-Cookie values:
    # WSGI servers (wsgiref, Werkzeug's) write values verbatim; ASGI servers refuse them.
    check_all_values: bool
    # The attributes (text after the first ";") of refused Set-Cookie values, as read:
    # an application writes the same ones response after response.
    attributes: BoundedCache[H, setcookie.Attributes] = field(
        default_factory=lambda: BoundedCache(4096, 2 * 1024 * 1024, max_item_bytes=1200),
        compare=False,
        repr=False,
    )
    names: BoundedCache[H, int] = field(
        default_factory=lambda: BoundedCache(1024, 256 * 1024, max_item_bytes=1024),
        compare=False,
        repr=False,
    )
    # Whether a Content-Type value names an HTML document (csp): the same few values recur.
    documents: BoundedCache[H, bool] = field(
        default_factory=lambda: BoundedCache(256, 64 * 1024, max_item_bytes=512),
        compare=False,
        repr=False,
    )
    # The Vary values added, encoded: a guard adds one or two.
    vary_values: BoundedCache[str, H] = field(
        default_factory=lambda: BoundedCache(16, 4096),
        compare=False,
        repr=False,
    )
    # What rewrite()'s loop reads, in one tuple: one attribute load instead of seven.
    loop: tuple[
        Callable[[H], int | None],
        bool,
        str | int,
        str | int,
        str | int,
        H,
        Callable[[Verdicts], dict[H, Verdict]],
    ] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        loop = (
            self.names.get,
            self.check_all_values,
            self.cr,
            self.lf,
            self.nul,
            self.equals,
            self.table,
        )
        object.__setattr__(self, "loop", loop)


TEXT_HEADERS: HeaderKind[str] = HeaderKind(
    str, str, str, "Set-Cookie", "Vary", "=", "\r", "\n", "\0", attrgetter("text"), ";", True
)
# ASGI asks for lower-case header names.
BYTES_HEADERS: HeaderKind[bytes] = HeaderKind(
    bytes,
    methodcaller("decode", "latin-1"),
    methodcaller("encode", "latin-1"),
    b"set-cookie",
    b"vary",
    b"=",
    13,
    10,
    0,
    attrgetter("raw"),
    b";",
    False,
)


def classify(key: Any, kind: HeaderKind[H]) -> int | None:
    """What header name ``key`` is, remembered; None when it is no token of the kind's type."""
    if type(key) is not kind.type:
        return None
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    if not TOKEN.fullmatch(text):
        return None
    what = _KINDS.get(text.lower(), OTHER)
    kind.names.put(key, what)
    return what
