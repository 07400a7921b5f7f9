"""Property-based: random registries, consents and responses through both adapters.

Each case builds a registry, a request (consent cookie in some state, other
cookies, maybe ``Sec-GPC``) and a response (status, headers, body chunks), runs
it through the ASGI or the WSGI middleware and checks what leaves against the
independent oracle of :mod:`.support`:

- every ``Set-Cookie`` that leaves was in the response and is allowed by rules
  3 to 5, or is the middleware's own deletion (``Max-Age=0``, empty value) of a
  cookie the application deleted or the request carries (rules 2 and 6);
- every cookie the request carries in a category not allowed now is deleted,
  whatever the application sent for its name (rule 6 as an invariant);
- no allowed ``Set-Cookie`` is dropped, and the survivors keep their order;
- every other header keeps its value and its place (a ``Vary`` may be appended),
  except one carrying CR, LF or NUL, or named with something that is not a token,
  which never leaves; ``"Set-Cookie "`` and ``"Set-Cookie\t"`` are judged as
  ``Set-Cookie`` (rule 7);
- ASGI header names and values given as ``str``, ``bytearray`` or ``memoryview``
  are judged like ``bytes``;
- status and body are those of the application;
- the same holds for the headers of a WebSocket handshake (``websocket.accept``
  and the denial response), the ASGI cases' other start messages;
- the application sees the effective consent (and, with ``clean_request``, only
  the cookies it may see).
"""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from tests.support.hardening import (
    FIGURES,
    KEY,
    OLD_KEY,
    WRONG_KEY,
    Oracle,
    Recorder,
    http_scope,
    receive_from,
    registry_of,
    run_sync,
    sign,
    wsgi_environ,
)

from cookieguard import Category, Cookie
from cookieguard.asgi import CookieGuardMiddleware as ASGIGuard
from cookieguard.wsgi import CookieGuardMiddleware as WSGIGuard

CATEGORY_NAMES = ("necessary", "preferences", "statistics", "marketing")
# A small alphabet, so that random names often hit declared names and globs.
NAME_CHARS = "ab_.-"
CONSENT_COOKIES = ("cookies_preferences", "cg", "a", "__Host-cg")
MAX_AGE = 3600


@dataclass(frozen=True)
class Attribute:
    """A ``Set-Cookie`` attribute and what it means for "is this a deletion"."""

    text: str
    max_age: int | None = None  # a Max-Age that is a clean integer, with this value
    expires_past: bool | None = None  # an Expires that is a cookie date, in the past or not

    @property
    def key(self) -> str:
        """The attribute's name as Chromium keeps it ("" when it is ignored: over 1024 bytes)."""
        name, _, value = self.text.partition("=")
        return "" if len(value.strip()) > 1024 else name.strip().lower()


ATTRIBUTES = (
    Attribute("Path=/"),
    Attribute("Domain=example.org"),
    Attribute("Secure"),
    Attribute("HttpOnly"),
    Attribute("SameSite=Lax"),
    Attribute("Max-Age=0", max_age=0),
    Attribute("max-age=-1", max_age=-1),
    Attribute("Max-Age=3600", max_age=3600),
    Attribute("MAX-AGE=0", max_age=0),
    Attribute("Max-Age=soon"),  # not a number: Expires decides
    Attribute("Max-Age="),
    Attribute("Max-Age"),
    Attribute("Max-Age=+0", max_age=0),
    Attribute("Max-Age=+100", max_age=100),
    Attribute("Max-Age=1e3"),
    Attribute("Max-Age=--5"),
    Attribute("Max-Age=" + "0" * 1100),  # over 1024 bytes: ignored altogether
    Attribute("Expires=Thu, 01 Jan 1970 00:00:00 GMT", expires_past=True),
    Attribute("expires=Wed, 01 Jan 2098 00:00:00 GMT", expires_past=False),
    Attribute("Expires=someday"),  # no date: a session cookie
    Attribute("Expires=Thu, 01 Jan 69 00:00:00 GMT", expires_past=False),  # 2069
    Attribute("Expires=Thu, 01 Jan 70 00:00:00 GMT", expires_past=True),  # 1970
    Attribute("Expires=Thu, 01 Jan 1970 00:00 GMT"),  # no seconds: no date
    Attribute("Expires=01-jan-1970 00:00:00 +0500", expires_past=True),  # zones ignored
    Attribute("Path=/" + "p" * 1100),
)
OTHER_HEADERS = ("Content-Type", "X-Set-Cookie", "Set-Cookie2", "Vary", "Cache-Control", "X-Note")
# Names a verbatim server writes so that the browser reads a Set-Cookie: judged as one.
SMUGGLED_NAMES = ("Set-Cookie ", "set-cookie\t", " Set-Cookie")
# What never leaves: a name that is no token, a value with a line break or NUL.
BROKEN_HEADERS = (
    ("X Note", "1"),
    ("X-Note\r\nSet-Cookie", "_ga=1"),
    ("X-Note", "1\r\nSet-Cookie: _ga=1"),
    ("Set-Cookie", "sessionid=1\nSet-Cookie: _ga=1"),
    ("Set-Cookie", "sessionid=1\r"),
    ("Location", "/\0"),
)
OTHER_VALUES = ("text/html", "a=1", "Accept-Encoding", "*", "private", "caf\xe9")
CONSENT_STATES = ("none", "valid", "old-key", "stale", "forged", "expired", "future", "junk")
WEBSOCKET_STARTS = ("websocket.accept", "websocket.http.response.start")
# Request cookies that http.cookies, Starlette, Django or Werkzeug read differently.
ODD_PREFIXES = ("", "", "\x0b", "\x1c", "\x1f", "\xa0", "\x0c", "a b")
ODD_VALUES = (" ", ",", "\t", "\x0c", " ,", '"')
SPELLINGS = (0, 1, 2, 3)  # bytes, str, bytearray, memoryview: what ASGI servers accept


def as_text(item: Any) -> str:
    return item if isinstance(item, str) else bytes(item).decode("latin-1")


def spell(text: str, spelling: int) -> Any:
    raw = text.encode("latin-1")
    return (raw, text, bytearray(raw), memoryview(raw))[spelling]


GPC_VALUES = (None, "1", "0", " 1", "yes", "", "1, 1")


def is_deletion(attributes: list[Attribute]) -> bool:
    """Chromium: the last Max-Age decides when it is a clean integer; else the last Expires."""
    max_ages = [a for a in attributes if a.key == "max-age"]
    if max_ages and max_ages[-1].max_age is not None:
        return max_ages[-1].max_age <= 0
    expires = [a for a in attributes if a.key == "expires"]
    return bool(expires) and bool(expires[-1].expires_past)


def any_case(rng: random.Random, text: str) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def random_oracle(rng: random.Random) -> Oracle:
    chosen = rng.sample(CATEGORY_NAMES, rng.randint(1, len(CATEGORY_NAMES)))
    categories = [
        Category(name, required=not i or rng.random() < 0.3, gpc_opt_out=rng.random() < 0.5)
        for i, name in enumerate(chosen)  # the first is required: there must be one
    ]
    rng.shuffle(categories)
    exact = list(dict.fromkeys(text(rng, NAME_CHARS, 1, 4) for _ in range(rng.randint(0, 6))))
    patterns = [
        f"{text(rng, NAME_CHARS + '*', 0, 3)}*{text(rng, NAME_CHARS, 0, 2)}"
        for _ in range(rng.randint(0, 3))
    ]
    cookies = [Cookie(n, rng.choice(chosen)) for n in exact + patterns]
    rng.shuffle(cookies)
    return Oracle(
        categories=categories,
        cookies=cookies,
        revision=rng.randint(1, 3),
        consent_cookie=rng.choice(CONSENT_COOKIES),
        unknown=rng.choice(("strip", "allow")),
        honor_gpc=rng.random() < 0.7,
    )


def random_name(rng: random.Random, oracle: Oracle) -> str:
    """A cookie name likely to hit a declared name, a glob or the consent cookie."""
    roll = rng.random()
    if roll < 0.1:
        return oracle.consent_cookie
    if roll < 0.6 and oracle.cookies:
        declared = rng.choice(oracle.cookies).name
        return declared.replace("*", text(rng, NAME_CHARS + "*", 0, 2))
    return text(rng, NAME_CHARS, 1, 4)


@dataclass(frozen=True)
class Case:
    oracle: Oracle
    report_only: bool
    clean_request: bool
    consent_state: str
    granted: frozenset[str] | None  # what a valid, current consent grants; None without one
    request_cookies: list[tuple[str, str]]
    split_cookie_header: bool
    gpc: str | None
    status: int
    headers: list[tuple[str, str]]
    # Per header: what leaves in its place (None: nothing), and the name of the cookie
    # the middleware deletes for it in its own words (an app's deletion of a refused one).
    leaves: list[tuple[str, str] | None]
    deletes: list[str | None]
    chunks: list[bytes]
    asgi_start: str = "http.response.start"  # or a WebSocket handshake's message (rule 8)
    # How the ASGI app spells each header's name and value: bytes, str, bytearray, memoryview.
    spellings: tuple[tuple[int, int], ...] = ()

    def leaves_in_report_only(self, asgi: bool) -> list[tuple[str, str]]:
        """With report_only nothing is removed, but what can never leave still does not."""
        out = []
        for header in self.headers:
            if header in BROKEN_HEADERS and not (asgi and header in ASGI_SERVER_REFUSES):
                continue
            out.append(
                ("Set-Cookie", header[1].strip(" \t")) if header[0] in SMUGGLED_NAMES else header
            )
        return out

    @property
    def allowed(self) -> frozenset[str]:
        gpc = self.gpc is not None and self.gpc.strip(" \t") == "1"
        return self.oracle.allowed_categories(self.granted, gpc)


def consent_value(
    rng: random.Random, state: str, granted: frozenset[str], revision: int
) -> str | None:
    now = int(time.time())
    payload = [sorted(granted), revision, "c0ffee"]
    if state == "valid":
        return sign(payload)
    if state == "old-key":  # signed with the previous key, still in the key list
        return sign(payload, OLD_KEY)
    if state == "stale":  # a consent to another revision of the policy
        return sign([sorted(granted), revision + rng.choice((-1, 1)), "c0ffee"])
    if state == "forged":
        return sign(payload, WRONG_KEY)
    if state == "expired":
        return sign(payload, timestamp=now - 2 * MAX_AGE)
    if state == "future":
        return sign(payload, timestamp=now + 2 * MAX_AGE)
    if state == "junk":
        return text(rng, "abcXYZ019-_.", 0, 40)
    return None


def random_case(seed: int) -> Case:
    rng = random.Random(seed)
    oracle = random_oracle(rng)
    granted = frozenset(rng.sample(CATEGORY_NAMES + ("bogus",), rng.randint(0, 5)))
    state = rng.choice(CONSENT_STATES)
    value = consent_value(rng, state, granted, oracle.revision)
    valid = granted if state in ("valid", "old-key") else None

    request_cookies = [
        (name, text(rng, "xyz019", 0, 3))
        for name in (random_name(rng, oracle) for _ in range(rng.randint(0, 5)))
        if name and name != oracle.consent_cookie  # a request cookie has a name
    ]
    for _ in range(rng.randint(0, 2) if rng.random() < 0.3 else 0):  # other parsers split these
        name = rng.choice(ODD_PREFIXES) + random_name(rng, oracle)
        if name == oracle.consent_cookie:
            continue  # a second consent cookie before the real one is another test
        odd = text(rng, "xyz", 0, 2) + rng.choice(ODD_VALUES) + random_name(rng, oracle) + "=1"
        request_cookies.insert(rng.randint(0, len(request_cookies)), (name, odd))
    if value is not None:
        request_cookies.insert(rng.randint(0, len(request_cookies)), (oracle.consent_cookie, value))

    gpc = rng.choice(GPC_VALUES)
    allowed = oracle.allowed_categories(valid, gpc is not None and gpc.strip(" \t") == "1")
    headers: list[tuple[str, str]] = []
    leaves: list[tuple[str, str] | None] = []
    deletes: list[str | None] = []
    for _ in range(rng.randint(0, 8)):
        roll = rng.random()
        if roll < 0.25:
            header = (any_case(rng, rng.choice(OTHER_HEADERS)), rng.choice(OTHER_VALUES))
            headers.append(header)
            leaves.append(header)
            deletes.append(None)
            continue
        if roll < 0.3:
            headers.append(rng.choice(BROKEN_HEADERS))
            leaves.append(None)
            deletes.append(None)
            continue
        name = random_name(rng, oracle)
        value_text = text(rng, "xyz=019\xe9", 0, 5)
        shape = rng.choice(("named", "named", "named", "no-equals", "empty-name"))
        if shape == "named":
            pad = ("", " ", "\t", "  ")
            pair, judged = f"{rng.choice(pad)}{name}{rng.choice(pad)}={value_text}", name
        elif shape == "no-equals":
            pair, judged = name, ""
        else:
            pair, judged = f"={value_text}", ""
        attributes = [rng.choice(ATTRIBUTES) for _ in range(rng.randint(0, 5))]
        header = rng.choice(("; ", ";")).join([pair, *(a.text for a in attributes)])
        if rng.random() < 0.1:  # written verbatim, the browser reads a Set-Cookie
            headers.append((rng.choice(SMUGGLED_NAMES), header))
            sent_as = ("Set-Cookie", header.strip(" \t"))
        else:
            headers.append((any_case(rng, "Set-Cookie"), header))
            sent_as = headers[-1]
        if oracle.may_set(judged, allowed):
            leaves.append(sent_as)
            deletes.append(None)
        else:
            leaves.append(None)
            deletes.append(judged if judged and is_deletion(attributes) else None)

    return Case(
        oracle=oracle,
        report_only=rng.random() < 0.15,
        clean_request=rng.random() < 0.5,
        consent_state=state,
        granted=valid,
        request_cookies=request_cookies,
        split_cookie_header=rng.random() < 0.3,
        gpc=gpc,
        status=rng.choice((200, 201, 204, 302, 404, 500)),
        headers=headers,
        leaves=leaves,
        deletes=deletes,
        chunks=[rng.randbytes(rng.randint(0, 8)) for _ in range(rng.randint(0, 3))],
        asgi_start=rng.choice((*["http.response.start"] * 8, *WEBSOCKET_STARTS)),
        spellings=tuple(
            (rng.choice(SPELLINGS), rng.choice(SPELLINGS)) if rng.random() < 0.2 else (0, 0)
            for _ in headers
        ),
    )


# Hypothesis draws the seed (and replays failures from its database); the case is
# built from it with plain ``random``, which keeps a case near a millisecond, so
# the CI profile can afford its 100k cases. A failing case is printed in full.
cases = st.integers(0, 2**64 - 1).map(random_case)


def options(case: Case) -> dict[str, Any]:
    return {
        "registry": registry_of(case.oracle),
        "secret_key": [KEY, OLD_KEY],
        "cookie_name": case.oracle.consent_cookie,
        "max_age": MAX_AGE,
        "unknown": case.oracle.unknown,
        "report_only": case.report_only,
        "honor_gpc": case.oracle.honor_gpc,
        "clean_request": case.clean_request,
    }


# Under ASGI, a value with a line break in a header other than Set-Cookie is left to the
# server, which refuses it (h11, httptools); under WSGI it never leaves.
ASGI_SERVER_REFUSES = {h for h in BROKEN_HEADERS if h[0] in ("X-Note", "Location")}


def check_headers(case: Case, sent: list[tuple[str, str]], asgi: bool = False) -> None:
    """The response headers that left against the oracle (see the module docstring)."""
    if asgi:
        leaves = [
            h if h in ASGI_SERVER_REFUSES else w
            for h, w in zip(case.headers, case.leaves, strict=True)
        ]
        case = dataclasses.replace(case, leaves=leaves)
    if case.report_only:
        expected = case.leaves_in_report_only(asgi)
        assert [(k.lower(), v) for k, v in sent] == [(k.lower(), v) for k, v in expected]
        return
    kept = [h for h in case.leaves if h is not None]
    assert [(k.lower(), v) for k, v in sent[: len(kept)]] == [(k.lower(), v) for k, v in kept]
    extra = sent[len(kept) :]
    if extra and extra[-1][0].lower() == "vary":
        tokens = {t.strip().lower() for t in extra[-1][1].split(",")}
        assert tokens <= {"cookie", "sec-gpc"}
        extra = extra[:-1]
    # Rule 6: a deletion for every cookie the request carries in a category not allowed now,
    # whatever the application sent for it; rule 2: the app's deletions of refused cookies
    # leave as the middleware's own.
    oracle, allowed = case.oracle, case.allowed
    withdrawn = {
        name
        for name, _ in case.request_cookies
        if oracle.category_of(name) is not None
        and not oracle.may_set(name, allowed)
        and name  # no deletion of a nameless cookie can be written (Chromium refuses "=")
        and not any(c < " " or c == "\x7f" for c in name)  # a browser holds no such name
    }
    app_deleted = {name for name in case.deletes if name is not None}
    added = set()
    for key, value in extra:
        assert key.lower() == "set-cookie", (key, value)
        pair, _, attributes = value.partition(";")
        name, _, cookie_value = pair.partition("=")
        assert name in withdrawn | app_deleted and cookie_value == "", value
        assert "max-age=0" in attributes.lower().replace(" ", ""), value
        added.add(name)
    assert added == withdrawn | app_deleted


def parsers_read(cookie_header: str) -> set[str]:
    """Every name any common parser reads from a Cookie header."""
    from http.cookies import CookieError, SimpleCookie

    from django.http.cookie import parse_cookie as django_parse
    from starlette.requests import cookie_parser
    from werkzeug.http import parse_cookie as werkzeug_parse

    names = set(cookie_parser(cookie_header)) | set(django_parse(cookie_header))
    names |= set(werkzeug_parse(cookie_header.encode("latin-1").decode("utf-8", "replace")))
    simple: SimpleCookie = SimpleCookie()
    try:
        simple.load(cookie_header)
    except CookieError:
        pass
    return names | set(simple)


def clean(name: str, value: str) -> bool:
    """The oracle's notion of a pair every parser reads alike: token name, cookie-octet value."""
    tchar = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    octets = {chr(c) for c in range(0x21, 0x7F)} - set('",;\\')
    name, value = name.strip(" \t"), value.strip(" \t")  # what a browser would have sent
    inner = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return bool(name) and set(name) <= tchar and set(inner) <= octets


def check_app_view(case: Case, consent: Any, cookie_header: str | None) -> None:
    for category in case.oracle.categories:
        assert consent.allows(category.name) == (category.name in case.allowed)
    if case.clean_request and not case.report_only:
        expected = [
            n
            for n, v in case.request_cookies
            if clean(n, v) and case.oracle.may_set(n, case.allowed)
        ]
        seen = [p.partition("=")[0].strip() for p in (cookie_header or "").split(";") if p.strip()]
        assert seen == expected
        # What the application's own parser reads is allowed, whichever parser it is.
        for name in parsers_read(cookie_header or ""):
            assert case.oracle.may_set(name, case.allowed), (name, cookie_header)
    else:
        joined = "; ".join(f"{n}={v}" for n, v in case.request_cookies)
        assert (cookie_header or "") == joined or case.split_cookie_header


def cookie_header(case: Case) -> list[str]:
    pairs = [f"{n}={v}" for n, v in case.request_cookies]
    if case.split_cookie_header and len(pairs) > 1:
        return ["; ".join(pairs[:1]), "; ".join(pairs[1:])]
    return ["; ".join(pairs)] if pairs else []


@given(cases)
def test_asgi_middleware_lets_out_exactly_what_the_contract_allows(case: Case) -> None:
    FIGURES["property cases (ASGI)"] += 1
    note(repr(case))
    seen: dict[str, Any] = {}
    headers = [
        (spell(k, ks), spell(v, vs))
        for (k, v), (ks, vs) in zip(case.headers, case.spellings, strict=True)
    ]
    start_message: dict[str, Any] = {"type": case.asgi_start, "headers": headers}
    if case.asgi_start == "websocket.accept":
        rest: list[dict[str, Any]] = [{"type": "websocket.close", "code": 1000}]
    else:
        start_message["status"] = case.status
        body = case.asgi_start.replace(".start", ".body")  # http. or websocket.http.response
        rest = [{"type": body, "body": chunk, "more_body": True} for chunk in case.chunks]
        rest.append({"type": body, "body": b""})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["consent"] = scope["cookieguard.consent"]
        seen["cookie"] = [v for k, v in scope["headers"] if k == b"cookie"]
        await send(start_message)
        for message in rest:
            await send(message)

    request_headers = [(b"cookie", h.encode("latin-1")) for h in cookie_header(case)]
    if case.gpc is not None:
        request_headers.append((b"sec-gpc", case.gpc.encode()))
    scope = http_scope(request_headers)
    if case.asgi_start != "http.response.start":
        scope = {**scope, "type": "websocket", "scheme": "ws"}
    send = Recorder()
    run_sync(ASGIGuard(app, **options(case))(scope, receive_from(), send))

    start, *others = send.messages
    assert start["type"] == case.asgi_start
    assert start.get("status") == start_message.get("status")
    # A header other than Set-Cookie may leave spelled as the app spelled it (a server
    # accepts it so): read each as text.
    sent = [(as_text(k), as_text(v)) for k, v in start["headers"]]
    check_headers(case, sent, asgi=True)
    assert others == rest  # the very same messages, in order
    assert all(a is b for a, b in zip(others, rest, strict=True))
    joined = "; ".join(v.decode("latin-1") for v in seen["cookie"])
    check_app_view(case, seen["consent"], joined)


@given(cases)
def test_wsgi_middleware_lets_out_exactly_what_the_contract_allows(case: Case) -> None:
    FIGURES["property cases (WSGI)"] += 1
    note(repr(case))
    seen: dict[str, Any] = {}
    result = list(case.chunks)
    status = f"{case.status} Whatever"

    def app(environ: Any, start_response: Any) -> list[bytes]:
        seen["consent"] = environ["cookieguard.consent"]
        seen["cookie"] = environ.get("HTTP_COOKIE")
        start_response(status, list(case.headers))
        return result

    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    joined = "; ".join(cookie_header(case)) or None
    environ = wsgi_environ(cookie=joined, gpc=case.gpc)
    returned = WSGIGuard(app, **options(case))(environ, start_response)

    assert returned is result  # the application's iterable, untouched
    [(sent_status, sent)] = started
    assert sent_status == status
    check_headers(case, sent)
    check_app_view(case, seen["consent"], seen["cookie"])
