"""Shared pieces of the hardening suite: an independent oracle, drivers, signers.

The oracle re-states rules 2 to 5 of the contract from scratch (its own glob
matcher, its own notion of "deletion" taken from how a test built the header),
so the tests never ask :class:`cookieguard.guard.Guard` to check itself.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from cookieguard import Category, Cookie, Registry

#: What the suite did, summed over the session and printed in the terminal summary.
FIGURES: collections.Counter[str] = collections.Counter()

KEY = "hardening-current-key"
OLD_KEY = "hardening-previous-key"
WRONG_KEY = "hardening-attacker-key"
SALT = "cookieguard.consent"


# -- the oracle ----------------------------------------------------------------


def glob_matches(glob: str, name: str) -> bool:
    """``*`` matches any run of characters, every other character is literal."""
    parts = glob.split("*")
    if len(parts) == 1:
        return glob == name
    first, *middle, last = parts
    if len(name) < len(first) + len(last):
        return False
    if not (name.startswith(first) and name.endswith(last)):
        return False
    position, end = len(first), len(name) - len(last)
    for part in middle:  # leftmost matching is optimal when the only wildcard is *
        found = name.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


@dataclass(frozen=True)
class Oracle:
    """The contract's decision, written independently of the library."""

    categories: Sequence[Category]
    cookies: Sequence[Cookie]
    revision: int
    consent_cookie: str
    unknown: str = "strip"
    honor_gpc: bool = True

    @property
    def required(self) -> frozenset[str]:
        return frozenset(c.name for c in self.categories if c.required)

    def category_of(self, name: str) -> str | None:
        if name == self.consent_cookie:
            return next(c.name for c in self.categories if c.required)
        for cookie in self.cookies:  # exact names win over patterns
            if "*" not in cookie.name and cookie.name == name:
                return cookie.category
        for cookie in self.cookies:  # patterns in declaration order
            if "*" in cookie.name and glob_matches(cookie.name, name):
                return cookie.category
        return None

    def allowed_categories(self, granted: Iterable[str] | None, gpc: bool) -> frozenset[str]:
        """Rule 3: required, plus what a valid current consent grants, minus GPC opt-outs."""
        declared = {c.name for c in self.categories}
        allowed = set(self.required)
        if granted is not None:
            allowed |= set(granted) & declared
        if gpc and self.honor_gpc:
            allowed -= {c.name for c in self.categories if c.gpc_opt_out and not c.required}
        return frozenset(allowed)

    def may_set(self, name: str, allowed: frozenset[str]) -> bool:
        """Rules 2 to 5 for a cookie that is not a deletion."""
        if name == self.consent_cookie:
            return True
        category = self.category_of(name) if name else None
        if category is None:
            return self.unknown == "allow"
        return category in allowed


def registry_of(oracle: Oracle) -> Registry:
    return Registry(oracle.categories, oracle.cookies, revision=oracle.revision)


# -- signing consents the way an attacker (or an old release) might ------------------


@functools.lru_cache(maxsize=64)
def serializer(key: str | bytes, timestamp: int | None = None) -> URLSafeTimedSerializer:
    """A raw itsdangerous serializer with cookieguard's salt, signing at ``timestamp``."""
    signer: type[TimestampSigner] = TimestampSigner
    if timestamp is not None:
        signer = type("FixedTimeSigner", (TimestampSigner,), {"get_timestamp": lambda _: timestamp})
    return URLSafeTimedSerializer(
        key, salt=SALT, signer=signer, serializer_kwargs={"separators": (",", ":")}
    )


def sign(payload: Any, key: str | bytes = KEY, timestamp: int | None = None) -> str:
    return serializer(key, timestamp).dumps(payload)


# -- drivers -------------------------------------------------------------------


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends (every await in the chain is immediate)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("the coroutine suspended; this driver only runs immediate ones")


class Recorder:
    """An ASGI ``send`` that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def start(self) -> dict[str, Any]:
        return next(m for m in self.messages if m["type"] == "http.response.start")

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"].endswith(".body"))


def http_scope(headers: Sequence[tuple[bytes, bytes]], path: str = "/page") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def receive_from(*messages: dict[str, Any]) -> Callable[[], Coroutine[Any, Any, dict[str, Any]]]:
    """An ASGI ``receive`` answering ``messages`` in turn, then ``http.disconnect``."""
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


def wsgi_environ(
    cookie: str | None = None, gpc: str | None = None, path: str = "/page", **extra: Any
) -> dict[str, Any]:
    import io
    import sys

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    if gpc is not None:
        environ["HTTP_SEC_GPC"] = gpc
    environ.update(extra)
    return environ


def set_cookie_values(headers: Iterable[tuple[Any, Any]]) -> list[str]:
    """The ``Set-Cookie`` values of a header list, str or bytes, in order."""
    values = []
    for key, value in headers:
        key = key.decode("latin-1") if isinstance(key, bytes) else key
        if key.lower() == "set-cookie":
            values.append(value.decode("latin-1") if isinstance(value, bytes) else value)
    return values


def cookie_names(set_cookies: Iterable[str]) -> list[str]:
    """Names of ``Set-Cookie`` values that are not deletions (tests build only simple ones)."""
    names = []
    for value in set_cookies:
        pair, *attributes = value.split(";")
        if any(a.strip().lower() in ("max-age=0", "max-age=-1") for a in attributes):
            continue
        names.append(pair.partition("=")[0].strip())
    return names
