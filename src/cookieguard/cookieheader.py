"""The request's ``Cookie`` header, read the way a browser writes it.

A browser sends ``name=value`` pairs joined by ``"; "``; names and values may
hold any byte but ``;`` and control characters (Chromium stores ``test test``,
``"test`` and UTF-8 names). :func:`read` splits exactly there, keeping each
name's bytes (to write a deletion the browser matches) and its UTF-8 reading (to
look it up in the registry).

Applications read the header with other parsers — ``http.cookies.SimpleCookie``,
Starlette's ``cookie_parser``, Django's ``parse_cookie``, Werkzeug's — which split
on spaces, commas or tabs, or strip characters such as ``\\x0b``, ``\\x1c``–``\\x1f``
or ``\\xa0``, where a browser does not. A pair is :attr:`Pair.clean` when every one
of them must read it as this module does: an RFC 9110 token for the name and
RFC 6265 ``cookie-octet`` (ASCII, no space, ``"``, ``,``, ``;`` or ``\\``) for the
value, optionally in double quotes. ``clean_request`` keeps only clean pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_COOKIES", "Pair", "read"]

#: Pairs read from one Cookie header; what follows is ignored (fail closed: no
#: consent is read there). A browser holds at most ~180 cookies per domain.
MAX_COOKIES = 300
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE = re.compile(r'[!#-+\--:<-\[\]-~]*|"[!#-+\--:<-\[\]-~]*"')


@dataclass(frozen=True, slots=True)
class Pair:
    """One ``name=value`` of a Cookie header."""

    raw: str  # the name as the header has it (latin-1 text: its bytes)
    name: str  # the name read as UTF-8 where it is valid UTF-8, else ``raw``
    value: str
    has_equals: bool = True

    @property
    def clean(self) -> bool:
        """True when every common parser reads this pair, and only it, from its text."""
        return (
            self.has_equals
            and _TOKEN.fullmatch(self.raw) is not None
            and _COOKIE_VALUE.fullmatch(self.value) is not None
        )

    @property
    def unquoted(self) -> str:
        """The value without the double quotes a cookie value may carry."""
        value = self.value
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def read(cookie_header: str) -> list[Pair]:
    """The pairs of a Cookie header (latin-1 text, as WSGI has it), at most :data:`MAX_COOKIES`.

    A piece without ``=`` is a cookie with an empty name (as browsers write
    them); it is returned, unclean, and never matches a declared name.
    """
    pairs = []
    for piece in cookie_header.split(";", MAX_COOKIES)[:MAX_COOKIES]:
        spelled, eq, value = piece.partition("=")
        if not eq:
            spelled, value = "", spelled
        raw = spelled.strip(" \t")
        value = value.strip(" \t")
        if not raw and not value:
            continue
        name = raw
        if not raw.isascii():
            try:
                name = raw.encode("latin-1").decode("utf-8")
            except UnicodeError:
                pass
        pairs.append(Pair(raw, name, value, bool(eq)))
    return pairs
