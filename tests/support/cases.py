"""The contract as a table, and real drivers that run an app through each adapter.

Each :class:`Case` is one request (its ``Cookie`` and ``Sec-GPC`` headers), the
response headers the application sends, the middleware options, and what a visitor
must receive: the ``Set-Cookie`` names kept (in order), the deletions added, the
``Vary`` values. ``test_contract.py`` runs every case through raw WSGI and ASGI
apps and through real Flask and Starlette apps.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TypeVar
from unittest import mock

import itsdangerous
import itsdangerous.timed
from werkzeug.http import parse_cookie

from cookieguard import Category, Consent, ConsentCodec, Cookie, Registry, Service

KEY = "current-signing-key"
OLD_KEY = "previous-signing-key"
FOREIGN_KEY = "someone-elses-key"
CONSENT_COOKIE = "cookies_preferences"

REGISTRY = Registry(
    categories=[
        Category("necessary", required=True, label="Strictly necessary"),
        Category("preferences", label="Preferences"),
        Category("statistics", label="Statistics"),
        Category("marketing", label="Marketing", gpc_opt_out=True),
    ],
    cookies=[
        Cookie("sessionid", "necessary", provider="Opendatasoft"),
        Cookie("csrftoken", "necessary", provider="Opendatasoft"),
        Cookie("django_language", "preferences", provider="Opendatasoft"),
        Cookie("_pk_id.*", "statistics", provider="Matomo", path="/stats"),
        Cookie("_pk_ses.*", "statistics", provider="Matomo"),
        Cookie("ads", "marketing", provider="Ad network", path="/shop", domain=".example.test"),
    ],
    revision=2,
)
# The same declarations, with a required category that says gpc_opt_out (it must not matter).
GPC_ON_REQUIRED = Registry(
    categories=[
        Category("necessary", required=True, gpc_opt_out=True),
        Category("marketing", gpc_opt_out=True),
    ],
    cookies=[Cookie("sessionid", "necessary"), Cookie("ads", "marketing")],
    revision=2,
)
# No category honours GPC: the Vary header never names Sec-GPC.
NO_GPC = Registry(
    categories=[Category("necessary", required=True), Category("statistics")],
    cookies=[Cookie("sessionid", "necessary"), Cookie("_pk_id.*", "statistics")],
    revision=2,
)

# Services inside categories: YouTube and DoubleClick in marketing, Matomo in statistics;
# "ads" is a marketing cookie of no service.
SERVICES = Registry(
    categories=[
        Category("necessary", required=True),
        Category("statistics"),
        Category("marketing", gpc_opt_out=True),
    ],
    services=[
        Service(
            "youtube",
            "marketing",
            label="YouTube",
            provider="Google",
            hosts=["https://www.youtube-nocookie.com", "https://*.youtube.com"],
        ),
        Service("doubleclick", "marketing", provider="Google", hosts=["https://*.doubleclick.net"]),
        Service("matomo", "statistics", provider="Matomo", hosts=["stats.example.org"]),
    ],
    cookies=[
        Cookie("sessionid", "necessary"),
        Cookie("YSC", "marketing", service="youtube"),
        Cookie("VISITOR_INFO1_LIVE", "marketing", service="youtube", path="/video"),
        Cookie("IDE", "marketing", service="doubleclick", domain=".example.test"),
        Cookie("ads", "marketing"),
        Cookie("_pk_id.*", "statistics", service="matomo"),
    ],
    revision=2,
)

# Names that are not RFC tokens, as web-platform-tests set them; a browser stores them all.
ODD_NAMES = ("тест", '"test', "@a", "(a", "test test", "春节回")
NON_TOKENS = Registry(
    categories=[Category("necessary", required=True), Category("marketing")],
    cookies=[Cookie("sessionid", "necessary"), *(Cookie(n, "marketing") for n in ODD_NAMES)],
    revision=2,
)


def as_header(text: str) -> str:
    """``text`` as a header carries it: its UTF-8 bytes, one character each (latin-1)."""
    return text.encode().decode("latin-1")


EVERYTHING = ("preferences", "statistics", "marketing")
PAST = "Thu, 01 Jan 1970 00:00:00 GMT"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"


@contextmanager
def itsdangerous_clock(seconds_ago: int) -> Iterable[None]:
    """Make itsdangerous (only it) stamp signatures ``seconds_ago`` in the past."""
    import time

    past = SimpleNamespace(time=lambda: time.time() - seconds_ago)
    with mock.patch.object(itsdangerous.timed, "time", past):
        yield


def token(
    granted: Iterable[str] = (),
    *,
    revision: int = 2,
    key: str | list[str] = KEY,
    age: int = 0,
    consent_id: str = "9f0b7cf1-52ee-4a52-9a21-30f6b0c8f1de",
    services: Iterable[str] = (),
) -> str:
    """A consent cookie value, signed ``age`` seconds ago."""
    consent = Consent(frozenset(granted), revision, consent_id, services=frozenset(services))
    with itsdangerous_clock(age):
        return ConsentCodec(key).dumps(consent)


def tampered(value: str) -> str:
    """``value`` with one character of its payload changed (the signature no longer fits)."""
    position = 2
    replacement = "A" if value[position] != "A" else "B"
    return value[:position] + replacement + value[position + 1 :]


def forged(granted: Iterable[str]) -> str:
    """A well-formed consent signed with a key the site does not have."""
    return token(granted, key=FOREIGN_KEY)


def sc(value: str, header: str = "Set-Cookie") -> tuple[str, str]:
    return (header, value)


@dataclass(frozen=True)
class Case:
    id: str
    response: tuple[tuple[str, str], ...]  # the Set-Cookie (and Vary) headers the app sends
    kept: tuple[str, ...]  # the names of the app's Set-Cookie headers a visitor receives
    # Deletions a visitor receives after the app's kept headers: name, Path, Domain (None:
    # no such attribute). The app's own deletions of refused cookies are among them,
    # rewritten as the middleware's canonical ones (rule 2); then the withdrawals (rule 6).
    deleted: tuple[tuple[str, str | None, str | None], ...] = ()
    vary: tuple[str, ...] = ()  # the Vary header values a visitor receives
    cookie: str | None = None  # the request's Cookie header
    gpc: str | None = None  # the request's Sec-GPC header
    options: Mapping[str, Any] = field(default_factory=dict)
    registry: Registry = REGISTRY
    allows: Mapping[str, bool] = field(default_factory=dict)  # what the app reads
    allows_service: Mapping[str, bool] = field(default_factory=dict)  # the same, per service
    seen_cookies: tuple[str, ...] | None = None  # cookie names the app sees, in order

    def __str__(self) -> str:
        return self.id


ALL_SET = (
    sc("sessionid=s1; Path=/; HttpOnly"),
    sc("django_language=fr; Path=/"),
    sc("_pk_id.1.abcd=x; Path=/stats; Max-Age=33955200"),
    sc("ads=y; Domain=.example.test; Path=/shop"),
)
VARY = ("Cookie, Sec-GPC",)


SERVICE_SET = (
    sc("sessionid=s1; Path=/; HttpOnly"),
    sc("YSC=y; Path=/"),
    sc("VISITOR_INFO1_LIVE=v; Path=/video"),
    sc("IDE=i; Domain=.example.test"),
    sc("ads=a"),
    sc("_pk_id.1.abcd=x"),
)
# A consent minted as versions without services did: [categories, revision, id], signed.
OLD_STYLE_TOKEN = itsdangerous.URLSafeTimedSerializer(
    KEY, salt="cookieguard.consent", serializer_kwargs={"separators": (",", ":")}
).dumps([["statistics"], 2, "0d5c1bd2-31d3-4b6a-8d2a-7d8a2a0b9f10"])


def consent_cookie(value: str, *others: str) -> str:
    return "; ".join((*others, f"{CONSENT_COOKIE}={value}"))


CASES: tuple[Case, ...] = (
    # -- rule 3: what a valid consent of the current revision grants ------------
    Case(
        "no-consent",
        ALL_SET,
        kept=("sessionid",),
        vary=VARY,
        allows={"necessary": True, "preferences": False, "statistics": False, "marketing": False},
    ),
    Case(
        "partial-consent",
        ALL_SET,
        cookie=consent_cookie(token(["statistics"])),
        kept=("sessionid", "_pk_id.1.abcd"),
        vary=VARY,
        allows={"necessary": True, "statistics": True, "preferences": False, "marketing": False},
    ),
    Case(
        "full-consent-changes-nothing",
        ALL_SET,
        cookie=consent_cookie(token(EVERYTHING)),
        kept=("sessionid", "django_language", "_pk_id.1.abcd", "ads"),
        allows={"necessary": True, "preferences": True, "statistics": True, "marketing": True},
    ),
    Case(
        "undeclared-category-in-consent-grants-nothing",
        ALL_SET,
        cookie=consent_cookie(token(["advertising", "statistics"])),
        kept=("sessionid", "_pk_id.1.abcd"),
        vary=VARY,
        allows={"advertising": False, "statistics": True},
    ),
    Case(
        "stale-revision",
        ALL_SET,
        cookie=consent_cookie(token(EVERYTHING, revision=1)),
        kept=("sessionid",),
        vary=VARY,
        allows={"necessary": True, "statistics": False},
    ),
    Case(
        "expired-consent",
        ALL_SET,
        cookie=consent_cookie(token(EVERYTHING, age=3600)),
        options={"max_age": 600},
        kept=("sessionid",),
        vary=VARY,
        allows={"necessary": True, "statistics": False},
    ),
    Case(
        "consent-within-max-age",
        ALL_SET,
        # Tokens are minted when the table is imported: the margin outlasts a slow suite.
        cookie=consent_cookie(token(EVERYTHING, age=300)),
        options={"max_age": 86_400},
        kept=("sessionid", "django_language", "_pk_id.1.abcd", "ads"),
        allows={"statistics": True},
    ),
    Case(
        "tampered-token",
        ALL_SET,
        cookie=consent_cookie(tampered(token(EVERYTHING))),
        kept=("sessionid",),
        vary=VARY,
        allows={"statistics": False},
    ),
    Case(
        "forged-token",
        ALL_SET,
        cookie=consent_cookie(forged(EVERYTHING)),
        kept=("sessionid",),
        vary=VARY,
        allows={"statistics": False},
    ),
    Case(
        "garbage-token",
        ALL_SET,
        cookie=consent_cookie("not.a.token"),
        kept=("sessionid",),
        vary=VARY,
        allows={"statistics": False},
    ),
    Case(
        "rotated-key-old-key-listed",
        ALL_SET,
        cookie=consent_cookie(token(["statistics"], key=OLD_KEY)),
        options={"secret_key": [KEY, OLD_KEY]},
        kept=("sessionid", "_pk_id.1.abcd"),
        vary=VARY,
        allows={"statistics": True},
    ),
    Case(
        "rotated-key-current-key-verifies",
        ALL_SET,
        cookie=consent_cookie(token(["statistics"], key=KEY)),
        options={"secret_key": [KEY, OLD_KEY]},
        kept=("sessionid", "_pk_id.1.abcd"),
        vary=VARY,
        allows={"statistics": True},
    ),
    Case(
        "rotated-key-old-key-dropped",
        ALL_SET,
        cookie=consent_cookie(token(["statistics"], key=OLD_KEY)),
        options={"secret_key": [KEY]},
        kept=("sessionid",),
        vary=VARY,
        allows={"statistics": False},
    ),
    # -- rule 3: Global Privacy Control -------------------------------------------
    Case(
        "gpc-refuses-opt-out-category",
        ALL_SET,
        cookie=consent_cookie(token(EVERYTHING)),
        gpc="1",
        kept=("sessionid", "django_language", "_pk_id.1.abcd"),
        vary=VARY,
        allows={"marketing": False, "statistics": True, "necessary": True},
    ),
    Case(
        "gpc-header-not-1-is-ignored",
        ALL_SET,
        cookie=consent_cookie(token(EVERYTHING)),
        gpc="0",
        kept=("sessionid", "django_language", "_pk_id.1.abcd", "ads"),
        allows={"marketing": True},
    ),
    Case(
        "gpc-ignored-when-honor-gpc-off",
        (*ALL_SET, sc("mystery=1")),
        cookie=consent_cookie(token(EVERYTHING)),
        gpc="1",
        options={"honor_gpc": False},
        kept=("sessionid", "django_language", "_pk_id.1.abcd", "ads"),
        vary=("Cookie",),
        allows={"marketing": True},
    ),
    Case(
        "gpc-never-refuses-required",
        (sc("sessionid=1"), sc("ads=1")),
        cookie=consent_cookie(token(["marketing"])),
        gpc="1",
        registry=GPC_ON_REQUIRED,
        kept=("sessionid",),
        vary=VARY,
        allows={"necessary": True, "marketing": False},
    ),
    # -- rule 2: always kept --------------------------------------------------
    Case(
        "consent-cookie-always-kept",
        (sc(f"{CONSENT_COOKIE}=whatever; Path=/"), sc("csrftoken=t")),
        kept=(CONSENT_COOKIE, "csrftoken"),
    ),
    Case(
        "custom-consent-cookie-name",
        (sc("cg=whatever"), sc(f"{CONSENT_COOKIE}=x"), sc("_pk_ses.1=1")),
        cookie=f"cg={token(['statistics'])}",
        options={"cookie_name": "cg"},
        kept=("cg", "_pk_ses.1"),
        vary=VARY,
        allows={"statistics": True},
    ),
    Case(
        "app-deletes-non-consented-cookies",
        (
            sc("django_language=; Max-Age=0; Path=/"),
            sc("_pk_id.1.a=; Path=/stats; Max-Age=-1"),
            sc(f"_pk_ses.1.a=; Path=/; Expires={PAST}"),
            sc(f"ads=; max-age=0; expires={FUTURE}"),  # Max-Age wins
            sc(f"ads=y; Max-Age=3600; Expires={PAST}"),  # Max-Age wins: not a deletion
            sc(f"_pk_ses.2.a=y; Expires={FUTURE}"),
        ),
        kept=(),
        deleted=(
            ("django_language", "/", None),
            ("_pk_id.1.a", "/stats", None),
            ("_pk_ses.1.a", "/", None),
            ("ads", None, None),
        ),
        vary=VARY,
    ),
    # -- rule 4: unknown names --------------------------------------------------
    Case(
        "unknown-stripped",
        (
            sc("mystery=1"),
            sc("sessionid=2"),
            sc("Sessionid=3"),
            sc("_PK_ID.1=4"),
            sc("mystery=; Max-Age=0"),  # deleting is always allowed
        ),
        kept=("sessionid",),
        deleted=(("mystery", None, None),),
        vary=VARY,
    ),
    Case(
        "unknown-allowed",
        (sc("mystery=1"), sc("sessionid=2"), sc("django_language=en")),
        options={"unknown": "allow"},
        kept=("mystery", "sessionid"),
        vary=VARY,
    ),
    Case(
        "malformed-set-cookie-is-unknown",
        (
            sc("no-equals-sign"),
            sc("=nameless"),
            sc(""),
            sc("\xa0sessionid=1"),
            sc("sessionid\xa0=1"),
            sc("\u2603=snow"),
            sc(";sessionid=1"),
            sc(" \tsessionid =kept"),
            sc("csrftoken"),
        ),
        kept=("sessionid",),
        vary=VARY,
    ),
    # -- rule 5: report-only ----------------------------------------------------
    Case(
        "report-only-removes-nothing",
        (*ALL_SET, sc("mystery=1")),
        cookie="_pk_id.9=old; ads=old",
        options={"report_only": True},
        kept=("sessionid", "django_language", "_pk_id.1.abcd", "ads", "mystery"),
        allows={"statistics": False},
    ),
    # -- rule 6: withdrawal -------------------------------------------------------
    Case(
        "withdrawal-deletes-carried-cookies",
        (),
        cookie=consent_cookie(
            token(["preferences"]), "sessionid=s", "django_language=fr", "_pk_id.1.x=1", "ads=2"
        ),
        kept=(),
        deleted=(("_pk_id.1.x", "/stats", None), ("ads", "/shop", ".example.test")),
        vary=VARY,
    ),
    Case(
        "withdrawal-without-consent-and-unknown-left-alone",
        (sc("sessionid=s"),),
        cookie="mystery=1; _pk_ses.7=2; sessionid=old",
        kept=("sessionid",),
        deleted=(("_pk_ses.7", "/", None),),
        vary=VARY,
    ),
    Case(
        "withdrawal-not-doubled-when-app-deletes-it",
        (sc("ads=; Max-Age=0; Path=/shop; Domain=.example.test"),),
        cookie="ads=1; _pk_ses.1=2",
        kept=(),
        deleted=(("ads", "/shop", ".example.test"), ("_pk_ses.1", "/", None)),
        vary=VARY,
    ),
    Case(
        "withdrawal-under-gpc",
        (),
        cookie=consent_cookie(token(EVERYTHING), "ads=1", "_pk_ses.1=2"),
        gpc="1",
        kept=(),
        deleted=(("ads", "/shop", ".example.test"),),
        vary=VARY,
    ),
    # -- rule 2: deletions as Chromium reads them (security round 2, class 1) ------
    Case(
        "disguised-deletions-are-removed",
        (
            sc("ads=1; Max-Age=0; Max-Age=abc"),  # Chromium: the last Max-Age, not a number
            sc("ads=2; Max-Age=0; Max-Age="),
            sc("ads=3; Max-Age=0; Max-Age"),
            sc("ads=4; Max-Age=0; Max-Age=+100"),
            sc("ads=5; Max-Age=0; Max-Age=1e3"),
            sc("ads=6; Max-Age=" + "0" * 1100),  # over 1024 bytes: ignored
            sc("ads=7; Expires=Thu, 01 Jan 69 00:00:00 GMT"),  # 2069
            sc("ads=8; Expires=Thu, 01 Jan 1970 00:00 GMT"),  # no seconds: no date
            sc("sessionid=s"),
        ),
        cookie="sessionid=old",
        kept=("sessionid",),
        vary=VARY,
    ),
    Case(
        "a-refused-deletion-leaves-as-the-middlewares-own",
        (
            sc("ads=gotcha; Max-Age=0; Path=/shop; Domain=.example.test; Secure; SameSite=None"),
            sc("_pk_id.1=x; Expires=Thu, 01 Jan 70 00:00:00 GMT; Path=/stats"),  # 1970
            sc("mystery=x; max-age=-0"),
        ),
        kept=(),
        deleted=(
            ("ads", "/shop", ".example.test"),
            ("_pk_id.1", "/stats", None),
            ("mystery", None, None),
        ),
        vary=VARY,
    ),
    Case(
        "a-disguised-deletion-never-suppresses-the-withdrawal",
        (sc("_pk_id.1=1; Max-Age=0; Max-Age=abc; Path=/stats"),),
        cookie="_pk_id.1=old",
        kept=(),
        deleted=(("_pk_id.1", "/stats", None),),
        vary=VARY,
    ),
    # -- rule 7: header names a verbatim server turns into Set-Cookie (class 2) ---
    Case(
        "smuggled-set-cookie-names-are-judged",
        (sc("ads=1", "Set-Cookie "), sc("ads=2", "Set-Cookie\t"), sc("sessionid=1", "Set-Cookie ")),
        kept=("sessionid",),
        vary=VARY,
    ),
    # -- rule 6 as an invariant (issue 21) ----------------------------------------
    Case(
        "an-app-deletion-without-path-never-suppresses-the-withdrawal",
        (sc("_pk_id.1=3; max-age=0"),),  # deletes at the default path only
        cookie="_pk_id.1=old",
        kept=(),
        deleted=(("_pk_id.1", None, None), ("_pk_id.1", "/stats", None)),
        vary=VARY,
    ),
    Case(
        "an-expired-set-beside-a-stripped-set-never-suppresses-the-withdrawal",
        (sc(f"ads=1; Expires={PAST}"), sc("ads=2; Max-Age=3600")),
        cookie="ads=old",
        kept=(),
        deleted=(("ads", None, None), ("ads", "/shop", ".example.test")),
        vary=VARY,
    ),
    Case(
        "names-that-are-not-tokens-are-withdrawn-byte-for-byte",
        tuple(sc(f"{as_header(n)}=1") for n in ODD_NAMES),
        cookie="; ".join(["sessionid=s", *(f"{as_header(n)}=1" for n in ODD_NAMES)]),
        registry=NON_TOKENS,
        kept=(),
        deleted=tuple((as_header(n), "/", None) for n in ODD_NAMES),
        vary=("Cookie",),
    ),
    # -- clean_request ------------------------------------------------------------
    Case(
        "clean-request",
        (),
        cookie=consent_cookie(
            token(["statistics"]), "sessionid=s", "django_language=fr", "_pk_id.1=i", "mystery=m"
        ),
        options={"clean_request": True},
        kept=(),
        deleted=(("django_language", "/", None),),
        vary=VARY,
        seen_cookies=("sessionid", "_pk_id.1", CONSENT_COOKIE),
    ),
    Case(
        "clean-request-without-consent",
        (),
        cookie="sessionid=s; ads=1; csrftoken=t",
        options={"clean_request": True},
        kept=(),
        deleted=(("ads", "/shop", ".example.test"),),
        vary=VARY,
        seen_cookies=("sessionid", "csrftoken"),
    ),
    Case(
        "clean-request-drops-what-other-parsers-split",
        (),
        cookie="sessionid=a _pk_id.1=1; csrftoken=t,_pk_id.2=2; \x0b_pk_id.3=3; ok=1",
        options={"clean_request": True, "unknown": "allow"},
        kept=(),
        seen_cookies=("ok",),
    ),
    Case(
        "clean-request-drops-names-other-parsers-strip",
        (),
        cookie="\x1cads=1; \xa0ads=2; \tads=3; sessionid=s",
        options={"clean_request": True, "unknown": "allow"},
        kept=(),
        deleted=(("ads", "/shop", ".example.test"),),
        vary=VARY,
        seen_cookies=("sessionid",),
    ),
    Case(
        "request-cookie-header-not-utf8",
        (),
        cookie="sessionid=\xff\xfe; _pk_ses.1=\xe9t\xe9",
        kept=(),
        deleted=(("_pk_ses.1", "/", None),),
        vary=VARY,
    ),
    Case(
        "request-left-alone-without-clean-request",
        (),
        cookie="sessionid=s; ads=1",
        kept=(),
        deleted=(("ads", "/shop", ".example.test"),),
        vary=VARY,
        seen_cookies=("sessionid", "ads"),
    ),
    # -- rule 1: header names, many headers -----------------------------------
    Case(
        "mixed-case-header-names",
        (
            sc("ads=1", "SET-COOKIE"),
            sc("sessionid=1", "set-cookie"),
            sc("_pk_id.1=1", "Set-Cookie"),
            sc("csrftoken=1", "sEt-CoOkIe"),
        ),
        kept=("sessionid", "csrftoken"),
        vary=VARY,
    ),
    Case(
        "many-set-cookie-headers",
        tuple(
            header
            for i in range(60)
            for header in (
                sc(
                    f"sessionid=s{i}"
                    if i % 3 == 0
                    else f"_pk_ses.{i}=x"
                    if i % 3 == 1
                    else f"u{i}=1"
                ),
                (f"X-Between-{i}", str(i)),
            )
        ),
        kept=("sessionid",) * 20,
        vary=VARY,
    ),
    # -- rule 7: Vary -------------------------------------------------------------
    Case(
        "no-set-cookie-no-vary", (("Vary", "Accept-Encoding"),), kept=(), vary=("Accept-Encoding",)
    ),
    Case(
        "vary-added-beside-the-apps",
        (("Vary", "Accept-Encoding"), sc("ads=1")),
        kept=(),
        vary=("Accept-Encoding", "Cookie, Sec-GPC"),
    ),
    Case(
        "vary-cookie-not-duplicated",
        (("Vary", "Accept-Encoding, cookie"), sc("ads=1")),
        kept=(),
        vary=("Accept-Encoding, cookie", "Sec-GPC"),
    ),
    Case(
        "vary-complete-not-duplicated",
        (("vary", "Cookie"), ("VARY", "Sec-GPC"), sc("ads=1")),
        kept=(),
        vary=("Cookie", "Sec-GPC"),
    ),
    Case("vary-star-left-alone", (("Vary", "*"), sc("ads=1")), kept=(), vary=("*",)),
    Case(
        "vary-without-gpc-categories",
        (sc("_pk_id.1=1"), sc("sessionid=1")),
        registry=NO_GPC,
        kept=("sessionid",),
        vary=("Cookie",),
    ),
    # -- services: rule 3 and rule 6 by the service's answer ------------------------
    Case(
        "services-follow-their-category",
        SERVICE_SET,
        registry=SERVICES,
        cookie=consent_cookie(token(["marketing"])),
        kept=("sessionid", "YSC", "VISITOR_INFO1_LIVE", "IDE", "ads"),
        vary=VARY,
        allows={"marketing": True, "statistics": False},
        allows_service={"youtube": True, "doubleclick": True, "matomo": False},
    ),
    Case(
        "a-service-granted-one-by-one-without-its-category",
        SERVICE_SET,
        registry=SERVICES,
        cookie=consent_cookie(token(services=["youtube"])),
        kept=("sessionid", "YSC", "VISITOR_INFO1_LIVE"),
        vary=VARY,
        allows={"marketing": False, "statistics": False},
        allows_service={"youtube": True, "doubleclick": False, "matomo": False},
    ),
    Case(
        "gpc-leaves-a-service-granted-one-by-one",
        SERVICE_SET,
        registry=SERVICES,
        cookie=consent_cookie(token(["marketing", "statistics"], services=["youtube"])),
        gpc="1",
        kept=("sessionid", "YSC", "VISITOR_INFO1_LIVE", "_pk_id.1.abcd"),
        vary=VARY,
        allows={"marketing": False, "statistics": True},
        allows_service={"youtube": True, "doubleclick": False, "matomo": True},
    ),
    Case(
        "gpc-undoes-services-granted-by-their-category",
        SERVICE_SET,
        registry=SERVICES,
        cookie=consent_cookie(token(["marketing"])),
        gpc="1",
        kept=("sessionid",),
        vary=VARY,
        allows_service={"youtube": False, "doubleclick": False},
    ),
    Case(
        "gpc-off-keeps-services-granted-by-their-category",
        SERVICE_SET,
        registry=SERVICES,
        cookie=consent_cookie(token(["marketing"])),
        gpc="1",
        options={"honor_gpc": False},
        kept=("sessionid", "YSC", "VISITOR_INFO1_LIVE", "IDE", "ads"),
        vary=("Cookie",),
        allows_service={"youtube": True, "doubleclick": True},
    ),
    Case(
        "withdrawal-by-the-service-answer",
        (),
        registry=SERVICES,
        cookie=consent_cookie(
            token(services=["doubleclick"]), "YSC=1", "IDE=2", "VISITOR_INFO1_LIVE=3", "ads=4"
        ),
        kept=(),
        deleted=(("YSC", "/", None), ("VISITOR_INFO1_LIVE", "/video", None), ("ads", "/", None)),
        vary=VARY,
        allows_service={"youtube": False, "doubleclick": True},
    ),
    Case(
        "an-old-consent-without-services-is-honoured",
        SERVICE_SET,
        registry=SERVICES,
        cookie=consent_cookie(OLD_STYLE_TOKEN, "_pk_id.1.abcd=1", "YSC=2"),
        kept=("sessionid", "_pk_id.1.abcd"),
        deleted=(("YSC", "/", None),),
        vary=VARY,
        allows={"statistics": True, "marketing": False},
        allows_service={"matomo": True, "youtube": False},
    ),
    Case(
        "services-of-a-stale-revision-grant-nothing",
        SERVICE_SET,
        registry=SERVICES,
        cookie=consent_cookie(token(["statistics"], services=["youtube"], revision=1)),
        kept=("sessionid",),
        vary=VARY,
        allows_service={"youtube": False, "matomo": False},
    ),
    Case(
        "undeclared-service-in-consent-grants-nothing",
        SERVICE_SET,
        registry=SERVICES,
        cookie=consent_cookie(token(services=["vimeo", "YouTube"])),
        kept=("sessionid",),
        vary=VARY,
        allows_service={"vimeo": False, "youtube": False},
    ),
    Case(
        "clean-request-by-the-service-answer",
        (),
        registry=SERVICES,
        cookie=consent_cookie(token(services=["youtube"]), "sessionid=s", "YSC=1", "IDE=2"),
        options={"clean_request": True},
        kept=(),
        deleted=(("IDE", "/", ".example.test"),),
        vary=VARY,
        seen_cookies=("sessionid", "YSC", CONSENT_COOKIE),
    ),
    Case(
        "vary-for-an-added-deletion-only",
        (),
        cookie="_pk_id.1=1",
        kept=(),
        deleted=(("_pk_id.1", "/stats", None),),
        vary=VARY,
    ),
)

# -- what a visitor receives ------------------------------------------------------

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, in a worker thread when this thread already runs a loop.

    Playwright's sync API (the browser tests) keeps a loop running in the main thread
    for the whole session.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def set_cookies(self) -> list[str]:
        return self.values("set-cookie")

    def cookie_names(self) -> list[str]:
        return [v.partition("=")[0] for v in self.set_cookies]


@dataclass
class Seen:
    """What the application saw of the request."""

    cookie: str | None = None
    consent: Any = None


def middleware_options(case: Case) -> dict[str, Any]:
    options = {"registry": case.registry, "secret_key": KEY}
    options.update(case.options)
    return options


def request_headers(case: Case) -> list[tuple[str, str]]:
    headers = [("Host", "testserver")]
    if case.cookie is not None:
        headers.append(("Cookie", case.cookie))
    if case.gpc is not None:
        headers.append(("Sec-GPC", case.gpc))
    return headers


def seen_names(cookie_header: str | None) -> tuple[str, ...]:
    return tuple(parse_cookie(cookie_header or "").keys())


# -- WSGI driver ------------------------------------------------------------------

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_environ(
    *,
    method: str = "GET",
    path: str = "/",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    scheme: str = "http",
    query: str = "",
) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)) if body else "",
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]}; {value}" if key in environ else value
    return environ


def call_wsgi(app: WSGIApp, **request: Any) -> Response:
    """Call a WSGI app the way a server does, keeping every header as sent."""
    environ = wsgi_environ(**request)
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, list(headers)))
        return lambda data: None

    iterable = app(environ, start_response)
    try:
        chunks = list(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return Response(int(status[:3]), headers, b"".join(chunks), chunks)


def raw_wsgi_app(response: Sequence[tuple[str, str]], seen: Seen) -> WSGIApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.cookie = environ.get("HTTP_COOKIE")
        seen.consent = environ.get("cookieguard.consent")
        start_response(
            "200 OK",
            [("Content-Type", "text/plain"), ("X-Before", "1"), *response, ("X-After", "2")],
        )
        return [b"hello"]

    return app


# -- ASGI driver ------------------------------------------------------------------

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def http_scope(
    *,
    method: str = "GET",
    path: str = "/",
    headers: Sequence[tuple[str, str]] = (),
    scheme: str = "http",
    query: str = "",
    kind: str = "http",
) -> dict[str, Any]:
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443 if scheme == "https" else 80),
    }


def call_asgi(app: ASGIApp, *, body: bytes = b"", **request: Any) -> Response:
    """Call an ASGI app for one HTTP request, recording every message it sends."""
    scope = http_scope(**request)
    messages: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    run_async(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    chunks = [m.get("body", b"") for m in messages if m["type"] == "http.response.body"]
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    return Response(start["status"], headers, b"".join(chunks), chunks)


def raw_asgi_app(response: Sequence[tuple[str, str]], seen: Seen) -> ASGIApp:
    """An ASGI app sending header names exactly as given (raw ``b"Set-Cookie"`` too)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        cookies = [v.decode("latin-1") for k, v in scope["headers"] if k == b"cookie"]
        seen.cookie = "; ".join(cookies) if cookies else None
        seen.consent = scope.get("cookieguard.consent")
        headers = [("Content-Type", "text/plain"), ("X-Before", "1"), *response, ("X-After", "2")]
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(k.encode(), v.encode()) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": b"hello"})

    return app
