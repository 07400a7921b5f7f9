"""The added policy beside the site's own: Django 6's ``SECURE_CSP`` and django-csp 4.

Both set ``Content-Security-Policy`` (and ``-Report-Only``) only on a response that
has none yet. With cookieguard's middleware first in ``MIDDLEWARE`` it sees the
response after theirs: the site's policy is there, byte for byte as its middleware
wrote it, nonce included, and cookieguard's follows after a comma — two policies,
each enforced by the browser. The other way round the site's policy would be lost,
which ``cookieguard.W003`` reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import django
import pytest
from csp.middleware import CSPMiddleware
from django.core.checks import run_checks
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test import Client, override_settings
from django.urls import path
from django.utils.deprecation import MiddlewareMixin
from tests.support.cases import consent_cookie, token
from tests.test_csp_contract import FONTS, REGISTRY, YOUTUBE, hosts

from . import DRIVERS, OURS

ENFORCE = "Content-Security-Policy"
REPORT_ONLY = "Content-Security-Policy-Report-Only"
VIDEO = "https://www.youtube-nocookie.com/embed/x"
# The site's own policy: its scripts by nonce, frames from itself and the video host.
SITE_DIRECTIVES: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "NONCE"],
    "frame-src": ["'self'", "https://www.youtube-nocookie.com"],
}


@dataclass(frozen=True)
class Provider:
    """A CSP middleware of the site's: its dotted path, its settings, its nonce."""

    middleware: str
    setting: Mapping[str, str]  # header -> the setting that holds the policy for it
    nonce_sentinel: Callable[[], object]
    shape: Callable[[dict[str, list[Any]]], Any]  # the directives, as the setting holds them
    nonce: Callable[[HttpRequest], str]

    def settings(self, *headers: str) -> dict[str, Any]:
        """The settings that give the site a policy in each of ``headers``."""
        sentinel = self.nonce_sentinel()
        directives = {
            name: [sentinel if v == "NONCE" else v for v in values]
            for name, values in SITE_DIRECTIVES.items()
        }
        return {self.setting[header]: self.shape(directives) for header in headers}


def _django_nonce(request: HttpRequest) -> str:
    from django.middleware.csp import get_nonce

    return str(get_nonce(request))


def _django_sentinel() -> object:
    from django.utils.csp import CSP

    return CSP.NONCE


def _csp_sentinel() -> object:
    from csp.constants import NONCE

    return NONCE


PROVIDERS = {
    "secure-csp": Provider(
        "django.middleware.csp.ContentSecurityPolicyMiddleware",
        {ENFORCE: "SECURE_CSP", REPORT_ONLY: "SECURE_CSP_REPORT_ONLY"},
        _django_sentinel,
        lambda directives: directives,
        _django_nonce,
    ),
    "django-csp": Provider(
        "csp.middleware.CSPMiddleware",
        {ENFORCE: "CONTENT_SECURITY_POLICY", REPORT_ONLY: "CONTENT_SECURITY_POLICY_REPORT_ONLY"},
        _csp_sentinel,
        lambda directives: {"DIRECTIVES": directives},
        lambda request: str(request.csp_nonce),
    ),
}
NO_SECURE_CSP = pytest.mark.skipif(
    django.VERSION < (6,),
    reason=f"SECURE_CSP is Django 6's (django.middleware.csp); this is Django "
    f"{django.get_version()} (make test-django-matrix runs it under Django 6)",
)
PROVIDER_PARAMS = [
    pytest.param("secure-csp", marks=NO_SECURE_CSP),
    pytest.param("django-csp"),
]


class Recorder(MiddlewareMixin):
    """Right inside cookieguard's middleware: the CSP headers as the site's middleware left them."""

    seen: ClassVar[dict[str, str | None]] = {}

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        Recorder.seen = {name: response.headers.get(name) for name in (ENFORCE, REPORT_ONLY)}
        return response


class SiteCSPMiddleware(CSPMiddleware):
    """A project's own subclass of django-csp's middleware, as its docs suggest."""


current: list[Provider] = []


def page(request: HttpRequest) -> HttpResponse:
    """A page with a nonce'd inline script, one without, and the video's iframe."""
    nonce = current[0].nonce(request)
    return HttpResponse(
        f'<!doctype html><html><head><script nonce="{nonce}">'
        'document.documentElement.dataset.nonced = "ran"</script>'
        '<script>document.documentElement.dataset.plain = "ran"</script></head>'
        f'<body><iframe id="video" src="{VIDEO}" title="A video"></iframe></body></html>'
    )


urlpatterns = [path("page", page)]


@pytest.fixture(params=PROVIDER_PARAMS)
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    current[:] = [PROVIDERS[request.param]]
    yield current[0]
    current.clear()


def site(
    provider: Provider,
    *,
    csp: str = "enforce",
    theirs: tuple[str, ...] = (ENFORCE,),
    ours_first: bool = True,
) -> Any:
    """Settings of a site with its own CSP middleware (recorded) and cookieguard's."""
    middleware = [OURS, f"{__name__}.Recorder", provider.middleware]
    if not ours_first:
        middleware = [provider.middleware, OURS]
    return override_settings(
        ROOT_URLCONF=__name__,
        MIDDLEWARE=middleware,
        COOKIEGUARD={"REGISTRY": REGISTRY, "OPTIONS": {"csp": csp}},
        **provider.settings(*theirs),
    )


def split(value: str) -> list[str]:
    """The policies of a header value: CSP's list syntax is a comma between policies."""
    return [policy.strip() for policy in value.split(",")]


def nonce_in(body: bytes) -> str:
    found = re.search(rb'nonce="([^"]+)"', body)
    assert found is not None
    return found.group(1).decode()


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_the_site_s_policy_leaves_byte_identical_and_the_added_one_follows(
    provider: Provider, driver: str
) -> None:
    with site(provider):
        response = DRIVERS[driver]()(path="/page", headers=[("Host", "testserver")])
    (value,) = response.values(ENFORCE)
    theirs = Recorder.seen[ENFORCE]
    assert theirs is not None and f"'nonce-{nonce_in(response.body)}'" in theirs
    assert value.startswith(f"{theirs}, ")  # untouched, then cookieguard's after a comma
    own, added = split(value)
    assert own == theirs and "nonce" not in added  # ours carries no nonce: see below
    assert hosts(added) == FONTS  # no YouTube before consent
    assert response.values(REPORT_ONLY) == []


def test_the_added_policy_carries_unsafe_inline_without_a_nonce(provider: Provider) -> None:
    """A nonce'd script the site's policy allows runs under cookieguard's too.

    CSP3 ignores ``'unsafe-inline'`` only in a source list that has a nonce, a hash
    or ``'strict-dynamic'``: the added ``script-src`` has none of them.
    """
    with site(provider):
        response = Client().get("/page")
    added = split(response.headers[ENFORCE])[1]
    script_src = next(d.split()[1:] for d in added.split(";") if d.split()[0] == "script-src")
    assert "'unsafe-inline'" in script_src
    assert not [s for s in script_src if s.startswith(("'nonce-", "'sha", "'strict-dynamic"))]


def test_granting_the_service_opens_the_added_policy_and_leaves_the_site_s(
    provider: Provider,
) -> None:
    with site(provider):
        client = Client()
        before = client.get("/page")
        assert hosts(split(before.headers[ENFORCE])[1]) == FONTS
        answer = client.post("/cookieguard/consent", {"action": "grant", "service": "youtube"})
        assert answer.status_code == 303
        after = client.get("/page")
    own, added = split(after.headers[ENFORCE])
    assert own == Recorder.seen[ENFORCE]
    assert f"'nonce-{nonce_in(after.content)}'" in own
    assert hosts(added) == FONTS | YOUTUBE
    assert "Cookie" in after.headers["Vary"]


REPORT_ONLY_CASES = {
    # (cookieguard's csp, the site's headers): the site's headers after, by name
    "both report-only": ("report-only", (REPORT_ONLY,)),
    "ours report-only, theirs both": ("report-only", (ENFORCE, REPORT_ONLY)),
    "ours enforced, theirs report-only": ("enforce", (REPORT_ONLY,)),
}


@pytest.mark.parametrize("case", list(REPORT_ONLY_CASES))
def test_report_only_policies_coexist_as_enforced_ones_do(provider: Provider, case: str) -> None:
    csp, theirs = REPORT_ONLY_CASES[case]
    ours = ENFORCE if csp == "enforce" else REPORT_ONLY
    consent = consent_cookie(token(services=["youtube"]))
    with site(provider, csp=csp, theirs=theirs):
        response = DRIVERS["client"]()(path="/page", headers=[("Cookie", consent)])
    for header in (ENFORCE, REPORT_ONLY):
        site_s = Recorder.seen[header]
        assert (site_s is not None) == (header in theirs)
        (value,) = response.values(header) or [None]
        if header != ours:
            assert value == site_s  # untouched, or absent as it was
            continue
        assert value is not None
        *own, added = split(value)
        assert own == ([site_s] if site_s is not None else [])
        assert hosts(added) == FONTS | YOUTUBE


def test_the_other_way_round_the_site_s_policy_is_lost_and_the_check_says_so(
    provider: Provider,
) -> None:
    with site(provider, ours_first=False):
        response = Client().get("/page")
        messages = run_checks(tags=["cookieguard"])
    value = response.headers[ENFORCE]
    assert split(value) == [value] and hosts(value) == FONTS  # cookieguard's alone
    warned = {m.id: m for m in messages if m.id.startswith("cookieguard.W")}
    assert sorted(warned) == ["cookieguard.W001", "cookieguard.W003"]
    assert provider.middleware in warned["cookieguard.W003"].msg
    assert "Content-Security-Policy" in warned["cookieguard.W003"].msg
    assert "first in MIDDLEWARE" in warned["cookieguard.W003"].hint


def check_ids(middleware: list[str], csp: str = "enforce") -> list[str]:
    """The ids of the warnings (this registry leaves Django's cookies undeclared: errors)."""
    options = {"csp": csp}
    with override_settings(
        MIDDLEWARE=middleware, COOKIEGUARD={"REGISTRY": REGISTRY, "OPTIONS": options}
    ):
        messages = run_checks(tags=["cookieguard"])
    return sorted(m.id for m in messages if m.id.startswith("cookieguard.W"))


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_the_order_check(name: str) -> None:
    theirs = PROVIDERS[name].middleware
    assert check_ids([OURS, theirs]) == []
    assert check_ids([OURS, "django.middleware.common.CommonMiddleware", theirs]) == []
    assert check_ids([theirs, OURS]) == ["cookieguard.W001", "cookieguard.W003"]
    assert check_ids([theirs, OURS], csp="report-only") == [
        "cookieguard.W001",
        "cookieguard.W003",
    ]
    assert check_ids([theirs, OURS], csp="off") == ["cookieguard.W001"]  # nothing added
    assert check_ids([theirs]) == ["cookieguard.W002"]


def test_the_order_check_knows_a_subclass_and_nothing_else() -> None:
    assert check_ids([f"{__name__}.SiteCSPMiddleware", OURS]) == [
        "cookieguard.W001",
        "cookieguard.W003",
    ]
    assert check_ids([f"{__name__}.Recorder", OURS]) == ["cookieguard.W001"]
    assert check_ids(["no.such.Middleware", OURS]) == ["cookieguard.W001"]
