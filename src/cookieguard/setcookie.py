"""The only reader of ``Set-Cookie`` names and attributes: as Chromium reads them.

Everything the middleware (and ``cookieguard audit``) concludes from a
``Set-Cookie`` value — its cookie name, whether it deletes its cookie, where
that cookie lives — comes from this module. It follows Chromium's
``net/cookies`` code (``parsed_cookie.cc``, ``canonical_cookie.cc``,
``cookie_util.cc``) where that differs from RFC 6265bis, because what matters
is what the visitor's browser stores:

- **The last ``Max-Age`` decides, whatever its value.** Chromium keeps the last
  ``Max-Age`` attribute and reads it with ``base::StringToInt64``: an optional
  ``-`` or ``+``, then ASCII digits only. ``0``, ``-5``, ``+0``, ``-0`` delete;
  an empty, bare, ``1e3``, ``--5`` or non-ASCII-digit value is not a number, and
  then ``Expires`` decides as if there were no ``Max-Age`` (RFC 6265bis would
  ignore only that attribute and keep an earlier valid one). A number below the
  64-bit range deletes; one above it never expires.
- **Attribute values over 1024 bytes are ignored** (the attribute is dropped,
  so an earlier one of the same name counts again).
- **Name and value over 4096 bytes together, a control character (tab
  included) in the name, value or any attribute, or neither name nor value:**
  Chromium rejects the whole line, which then neither sets nor deletes.
- **Dates are read by the RFC 6265 cookie-date algorithm** as Chromium writes
  it (``ParseCookieExpirationTime``), not by ``email.utils``: tokens split on
  ``\\t !"#$%&'()*+,-./;<=>?@[\\]^_`{|}~``; the first token starting with three
  letters of a month names it; the first numeric token with ``:`` must read as
  ``h:m:s`` (one or two digits each; ``00:00`` is no time); a numeric token of
  at most two characters is the day, the next of at most five the year; years
  70–99 are 19xx, 00–69 20xx; time zones and week days are ignored; an
  impossible date (30 February, second 60) is no date.
- Chromium moves an ``Expires`` date by the skew between the response's
  ``Date`` header and its own clock. This module reads ``Expires`` against the
  server's clock; the middleware never relies on the difference, since the
  deletions it lets through are its own, with ``Max-Age=0``
  (:func:`deletion`).

A value carrying CR, LF or NUL is not read here at all: Chromium cuts the line
there, and a server that writes it verbatim lets the browser read what follows
as another header. The middleware never sends such a value (contract rule 7).

Text is a WSGI-style string: each character one byte (latin-1), so ASGI bytes
are decoded as latin-1 first and a UTF-8 name keeps its bytes.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from werkzeug.http import dump_cookie

from ._cache import BoundedCache

__all__ = [
    "Attributes",
    "ParsedSetCookie",
    "cookie_date",
    "deletion",
    "has_line_break",
    "is_deletion",
    "parse",
    "read_attributes",
    "set_cookie_name",
]

#: Chromium's limits (``cookie_constants.h``).
MAX_NAME_VALUE = 4096
MAX_ATTRIBUTE_VALUE = 1024
_WS = " \t"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Control characters Chromium refuses in a name, a value or an attribute (tab too).
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_DATE_DELIMITERS = re.compile("[\t !\"#$%&'()*+,\\-./;<=>?@\\[\\\\\\]^_`{|}~]+")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})")
_LEADING_DIGITS = re.compile(r"[0-9]*")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
# A path dump_cookie writes as given (its quote() leaves these alone).
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,/:=@]*")
_PLAIN_DOMAIN = re.compile(r"[A-Za-z0-9\-.]+")
_SAMESITE = {"strict": "Strict", "lax": "Lax", "none": "None"}


def set_cookie_name(header_value: str) -> str:
    """The cookie name of a ``Set-Cookie`` value (RFC 6265bis 5.7, and Chromium).

    The name-value pair runs up to the first ``;``; without ``=`` the name is
    empty; otherwise it is the text before the first ``=``, with spaces and tabs
    (and nothing else) stripped. Names are compared case-sensitively.
    """
    spelled, eq, _ = header_value.partition("=")
    return "" if not eq or ";" in spelled else spelled.strip(_WS)


def has_line_break(text: str) -> bool:
    """True when ``text`` holds CR, LF or NUL: where a browser's header line ends."""
    return "\r" in text or "\n" in text or "\0" in text


@dataclass(frozen=True, slots=True)
class Attributes:
    """What Chromium keeps of a ``Set-Cookie``'s attributes (the text after its first ``;``).

    ``valid`` is false when they make Chromium reject the whole line.
    ``max_age`` is what the last ``Max-Age`` decides (True: deletes, False:
    does not), or None when it decides nothing and ``Expires`` does:
    ``expires`` is then the date's timestamp (None: no date, a session cookie).
    ``max_age_seconds`` is the number of seconds that deciding ``Max-Age`` gives,
    saturated to 64 bits as Chromium saturates it.
    """

    valid: bool = True
    max_age: bool | None = None
    expires: float | None = None
    path: str | None = None
    domain: str | None = None
    secure: bool = False
    samesite: str | None = None
    partitioned: bool = False
    max_age_seconds: int | None = None

    def deletes(self, now: float | None = None) -> bool:
        if not self.valid:
            return False
        if self.max_age is not None:
            return self.max_age
        if self.expires is None:
            return False
        return self.expires <= (time.time() if now is None else now)


_INVALID = Attributes(valid=False)
# Applications write the same attributes response after response: read them once.
_read_cache: BoundedCache[str, Attributes] = BoundedCache(
    4096, 2 * 1024 * 1024, max_item_bytes=1024
)


def read_attributes(text: str) -> Attributes:
    """The attributes in ``text`` (what follows the first ``;``), as Chromium keeps them."""
    found = _read_cache.get(text)
    if found is None:
        found = _read_cache.put(text, _read_attributes(text))
    return found


def _read_attributes(text: str) -> Attributes:
    last: dict[str, str] = {}
    secure = partitioned = False
    domain: str | None = None
    for pair in text.split(";"):
        key, _, value = pair.partition("=")
        key = key.strip(_WS).lower() if key.isascii() else _ascii_lower(key.strip(_WS))
        value = value.strip(_WS)
        if _CONTROL.search(key) or _CONTROL.search(value):
            return _INVALID
        if len(value) > MAX_ATTRIBUTE_VALUE:
            continue  # ignored: an earlier attribute of the same name counts again
        if key == "secure":
            secure = True
        elif key == "partitioned":
            partitioned = True
        elif key == "domain":
            if value:
                domain = value
        else:
            last[key] = value
    max_age: bool | None = None
    seconds: int | None = None
    if "max-age" in last:
        valid, number = _string_to_int64(last["max-age"])
        if valid or number in (_INT64_MIN, _INT64_MAX):
            max_age, seconds = number <= 0, number
    expires = None
    if max_age is None and last.get("expires"):
        expires = cookie_date(last["expires"])
    samesite = last.get("samesite")
    return Attributes(
        max_age=max_age,
        expires=expires,
        path=last.get("path"),
        domain=domain,
        secure=secure,
        samesite=_SAMESITE.get(samesite.lower()) if samesite and samesite.isascii() else None,
        partitioned=partitioned,
        max_age_seconds=seconds,
    )


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def _string_to_int64(text: str) -> tuple[bool, int]:
    """``base::StringToInt64``: (a perfect conversion?, its best-effort output)."""
    negative = text.startswith("-")
    digits = text[1:] if negative or text.startswith("+") else text
    if not digits:
        return False, 0
    number = 0
    for char in digits:
        if not "0" <= char <= "9":
            return False, -number if negative else number
        number = number * 10 + (ord(char) - 48)
        if number > _INT64_MAX + negative:  # saturates and stops, as Chromium does
            return False, _INT64_MIN if negative else _INT64_MAX
    return True, -number if negative else number


def cookie_date(text: str) -> float | None:
    """The timestamp of a cookie date, read as Chromium reads it; None when it is none."""
    day = month = year = None
    clock: tuple[int, int, int] | None = None
    for token in _DATE_DELIMITERS.split(text):
        if not token:
            continue
        if not "0" <= token[0] <= "9":
            if month is None and len(token) >= 3 and token[:3].isascii():
                prefix = token[:3].lower()
                if prefix in _MONTHS:
                    month = _MONTHS.index(prefix) + 1
        elif ":" in token:
            if clock is None:
                matched = _TIME.match(token)
                if matched:
                    clock = (int(matched[1]), int(matched[2]), int(matched[3]))
        elif day is None and len(token) <= 2:
            day = _atoi(token)
        elif year is None and len(token) <= 5:
            year = _atoi(token)
    if day is None or month is None or year is None or clock is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    if year > 9999:
        return math.inf  # beyond what Python dates hold: far in the future
    try:
        when = datetime(year, month, day, *clock, tzinfo=timezone.utc)
    except ValueError:  # 30 February, hour 24, second 60...: Chromium finds no date
        return None
    return when.timestamp()


def _atoi(token: str) -> int:
    matched = _LEADING_DIGITS.match(token)
    return int(matched[0]) if matched and matched[0] else 0


@dataclass(frozen=True, slots=True)
class ParsedSetCookie:
    """A ``Set-Cookie`` value Chromium accepts: its name, its value, its attributes."""

    name: str
    value: str
    attributes: Attributes

    def deletes(self, now: float | None = None) -> bool:
        return self.attributes.deletes(now)


def parse(header_value: str) -> ParsedSetCookie | None:
    """The ``Set-Cookie`` as Chromium stores it, or None when Chromium rejects the line."""
    if has_line_break(header_value):
        return None
    pair, _, rest = header_value.partition(";")
    spelled, eq, value = pair.partition("=")
    name, value = (spelled.strip(_WS), value.strip(_WS)) if eq else ("", pair.strip(_WS))
    if not name and not value:
        return None
    if len(name) + len(value) > MAX_NAME_VALUE or _CONTROL.search(name) or _CONTROL.search(value):
        return None
    attributes = read_attributes(rest)
    if not attributes.valid:
        return None
    return ParsedSetCookie(name, value, attributes)


def is_deletion(header_value: str, now: float | None = None) -> bool:
    """True when a ``Set-Cookie`` value deletes its cookie in Chromium.

    Its last ``Max-Age`` is a clean integer of zero or less or, when there is no
    ``Max-Age`` or it is not a clean integer, its ``Expires`` is a cookie date
    not after ``now``. A line Chromium rejects deletes nothing.
    """
    parsed = parse(header_value)
    return parsed is not None and parsed.deletes(now)


def is_writable_name(name: str) -> bool:
    """True when a deletion can be written for ``name``: the browser could hold it."""
    return (
        bool(name)
        and len(name) <= MAX_NAME_VALUE
        and name == name.strip(_WS)
        and ";" not in name
        and "=" not in name
        and not _CONTROL.search(name)
    )


def deletion(
    name: str,
    *,
    path: str | None = None,
    domain: str | None = None,
    secure: bool = False,
    samesite: str | None = None,
    partitioned: bool = False,
) -> str:
    """The middleware's own deletion of cookie ``name``: empty, ``Max-Age=0``, a past ``Expires``.

    ``name`` is written byte for byte (a WSGI-style string: UTF-8 as latin-1),
    never quoted, so that the browser matches the cookie it holds; the caller
    checks it with :func:`is_writable_name`. ``path`` is kept only when it is
    one Chromium uses (it starts with ``/``); otherwise the browser's default
    path applies, as it did for the application's own header. Written with
    ``werkzeug.http.dump_cookie`` when that writes these bytes unchanged.
    """
    if path is not None and not path.startswith("/"):
        path = None
    if name.startswith("__Host-"):
        path, domain, secure = "/", None, True
    elif name.startswith("__Secure-") or partitioned:
        secure = True
    samesite = _SAMESITE.get(samesite.lower()) if samesite else None
    if (
        name.isascii()
        and (path is None or _PLAIN_PATH.fullmatch(path))
        and (domain is None or _PLAIN_DOMAIN.fullmatch(domain))
    ):
        return dump_cookie(
            name,
            "",
            max_age=0,
            expires=0,
            path=path,  # None: no Path attribute
            domain=domain,
            secure=secure,
            samesite=samesite,
            partitioned=partitioned,
        )
    parts = [f"{name}=", "Max-Age=0", f"Expires={_EPOCH}"]
    if domain is not None and not _CONTROL.search(domain) and ";" not in domain:
        parts.append(f"Domain={domain}")
    if path is not None and not _CONTROL.search(path) and ";" not in path:
        parts.append(f"Path={path}")
    if secure:
        parts.append("Secure")
    if samesite:
        parts.append(f"SameSite={samesite}")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)
