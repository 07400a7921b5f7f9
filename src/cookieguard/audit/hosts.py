"""The third parties a page loads, against the hosts its services declare.

The audit reads every HTML page it fetched with the standard library's
:class:`html.parser.HTMLParser` and lists what the browser would load from it:
the ``src`` of ``script``, ``iframe``, ``img``, ``video``, ``audio`` and
``source``, and the ``href`` of stylesheet links. A URL on another host than the
page's is a third party; it is *declared* when a service's host source (or one
of the ``csp_sources``) matches it as CSP Level 3 matches a URL against a host
source (:func:`cookieguard.hostsource.declares`). The findings:

- ``third-party``: a host a page loads that no service declares (fails the
  audit: with ``csp`` on, the browser refuses it; with it off, it loads without
  any consent);
- ``unused-host``: a service's host source that no audited page loads from (a
  warning: a stale declaration, or a page the audit did not visit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from ..hostsource import declares
from ..registry import Registry
from .report import Finding

__all__ = ["PAGE_URL", "declares", "host_findings", "loaded_urls", "third_parties"]

#: Where the audit's requests claim to come from (its clients' Host).
PAGE_URL = "http://localhost/"
_LOADED_BY_SRC = frozenset({"script", "iframe", "img", "video", "audio", "source"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_MAX_URLS = 10_000  # URLs read from one page


class _Loads(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.urls) >= _MAX_URLS:
            return
        values = {name: value for name, value in attrs if value}
        if tag in _LOADED_BY_SRC and "src" in values:
            self.urls.append(values["src"])
        elif tag == "link" and "href" in values:
            rel = (values.get("rel") or "").lower().split()
            if "stylesheet" in rel:
                self.urls.append(values["href"])


def loaded_urls(html: str, page_url: str = PAGE_URL) -> list[str]:
    """The absolute URLs a browser loads from ``html`` (scripts, frames, media, styles)."""
    parser = _Loads()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; anything it still refuses ends the page
        pass
    found = []
    for url in parser.urls:
        try:
            found.append(urljoin(page_url, url.strip()))
        except ValueError:  # an unclosed IPv6 bracket, say
            continue
    return found


def third_parties(urls: Iterable[str], page_url: str = PAGE_URL) -> list[str]:
    """The URLs among ``urls`` on another host than the page's (http, https, ws, wss only)."""
    own = urlsplit(page_url).hostname
    kept = []
    for url in urls:
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            continue
        if parts.scheme in _DEFAULT_PORTS and host and host != own:
            kept.append(url)
    return kept


def host_findings(
    registry: Registry,
    sources: Mapping[str, tuple[str, ...]],
    loaded: Mapping[str, Mapping[str, Iterable[str]]],
) -> tuple[Finding, ...]:
    """The ``third-party`` and ``unused-host`` findings, from the third-party URLs each path
    loaded in each consent state (``loaded[path][state]``)."""
    extra = [s for directive in sources.values() for s in directive]
    used: set[tuple[str, str]] = set()
    found: list[Finding] = []
    for path, by_state in loaded.items():
        undeclared: dict[str, list[str]] = {}  # host -> states
        for state, urls in by_state.items():
            for url in urls:
                declared = False
                for service in registry.services:
                    for source in service.hosts:
                        if declares(source, url):
                            used.add((service.name, source))
                            declared = True
                if declared or any(declares(source, url) for source in extra):
                    continue
                host = urlsplit(url).hostname or url
                states = undeclared.setdefault(host, [])
                if state not in states:
                    states.append(state)
        for host, states in undeclared.items():
            found.append(
                Finding(
                    "third-party",
                    host,
                    None,
                    path,
                    tuple(states),
                    True,
                    f"GET {path} loads from {host}, which no service declares "
                    f"(in: {', '.join(states)}); declare it in a Service(..., hosts=[...])",
                )
            )
    for service in registry.services:
        for source in service.hosts:
            if (service.name, source) not in used:
                found.append(
                    Finding(
                        "unused-host",
                        source,
                        service.category,
                        None,
                        (),
                        False,
                        f"service {service.name!r} declares {source}, which no audited page "
                        "loads from",
                    )
                )
    return tuple(found)
