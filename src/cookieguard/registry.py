"""The cookie registry: which category every cookie a site sets belongs to.

The registry is declared in code, next to the application, so that the list of
cookies a site may set is reviewed like any other change. It is immutable and
compiled once: exact names go into a dict; glob patterns are indexed by the
literal text before their first ``*``, and each candidate is matched by
:func:`glob_match`, in time linear in the name's length whatever the glob (no
backtracking regular expression: a request's cookie names are the client's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

__all__ = ["DEFAULT_CONSENT_COOKIE", "Category", "Cookie", "Registry", "Service"]

#: The name of the consent cookie unless the middleware is told otherwise.
DEFAULT_CONSENT_COOKIE = "cookies_preferences"


@dataclass(frozen=True)
class Category:
    """A purpose cookies are grouped by, and the unit a visitor consents to.

    ``required`` categories (strictly necessary cookies) need no consent and can
    never be refused. ``gpc_opt_out`` categories are refused when the browser
    sends ``Sec-GPC: 1`` (Global Privacy Control), whatever the stored consent says.
    """

    name: str
    required: bool = field(default=False, kw_only=True)
    label: str | None = field(default=None, kw_only=True)
    description: str = field(default="", kw_only=True)
    gpc_opt_out: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a category needs a non-empty name, got {self.name!r}")

    @property
    def title(self) -> str:
        """The label to show a visitor, falling back to the name."""
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Cookie:
    """One cookie name, or a ``*`` glob over names, declared in a category.

    ``path`` and ``domain`` are where the cookie is set; cookieguard uses them to
    delete the cookie when consent for its category is withdrawn.
    """

    name: str
    category: str
    provider: str = field(default="", kw_only=True)
    purpose: str = field(default="", kw_only=True)
    duration: str = field(default="", kw_only=True)
    path: str = field(default="/", kw_only=True)
    domain: str | None = field(default=None, kw_only=True)
    #: The :class:`Service` (a third party inside the category) that sets the cookie.
    service: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a cookie needs a non-empty name, got {self.name!r}")
        if self.service is not None and (not self.service or not isinstance(self.service, str)):
            raise ValueError(f"cookie {self.name!r}: service must be a name, got {self.service!r}")

    @property
    def is_pattern(self) -> bool:
        """True when the name is a glob such as ``_pk_id.*``."""
        return "*" in self.name


# A CSP host-source (CSP 3, section 2.3.1): an optional scheme, a host (optionally
# "*." then labels), an optional port and path. Nothing a policy would read as a
# separator (whitespace, ";", ","), no quotes (keywords such as 'self'), no "*" alone.
_HOST_SOURCE = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.\-]*://)?"
    r"(?:\*\.)?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
    r"(?::(?:[0-9]+|\*))?"
    r"(?:/[A-Za-z0-9\-._~%!$&()*+=:@/]*)?"
)


def is_host_source(value: object) -> bool:
    """Whether ``value`` is a CSP host source (``https://*.example.com``, ``stats.example.org``)."""
    return isinstance(value, str) and _HOST_SOURCE.fullmatch(value) is not None


@dataclass(frozen=True)
class Service:
    """One third party inside a category (YouTube in marketing, Matomo in statistics).

    A visitor may grant a service one by one without its whole category (the
    "load this video" button on an embed). ``hosts`` are the CSP host sources
    its content is loaded from (``https://www.youtube-nocookie.com``,
    ``https://*.doubleclick.net``, ``stats.example.org``).
    """

    name: str
    category: str
    label: str | None = field(default=None, kw_only=True)
    provider: str = field(default="", kw_only=True)
    purpose: str = field(default="", kw_only=True)
    hosts: tuple[str, ...] = field(default=(), kw_only=True)

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a service needs a non-empty name, got {self.name!r}")
        if isinstance(self.hosts, str):  # a lone string would be read one character a host
            raise ValueError(f"service {self.name!r}: hosts must be a list, got {self.hosts!r}")
        hosts = tuple(self.hosts)
        for host in hosts:
            if not is_host_source(host):
                raise ValueError(
                    f"service {self.name!r}: host {host!r} is not a CSP host source "
                    "(such as https://www.example.com, https://*.example.com or example.org)"
                )
        object.__setattr__(self, "hosts", hosts)

    @property
    def title(self) -> str:
        """The label to show a visitor, falling back to the name."""
        return self.label or self.name.replace("_", " ").capitalize()


def glob_match(segments: tuple[str, ...], name: str) -> bool:
    """Whether ``name`` matches the glob whose text between ``*`` is ``segments``.

    ``*`` matches any run of characters, every other character is literal. The
    first segment must start the name and the last end it; the middle ones are
    found left to right, each at its first place after the previous one (for
    ``*``-only globs the leftmost match is always a right choice), so the cost
    is a few ``str.find`` over the name: linear, never backtracking.
    """
    first, last = segments[0], segments[-1]
    if len(segments) == 1:
        return name == first
    end = len(name) - len(last)
    if end < len(first) or not name.startswith(first) or not name.endswith(last):
        return False
    position = len(first)
    for middle in segments[1:-1]:
        if middle:
            position = name.find(middle, position, end)
            if position < 0:
                return False
            position += len(middle)
    return True


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_N = TypeVar("_N", bound=_Named)


def _by_name(items: Iterable[object], kind: type[_N], plural: str) -> dict[str, _N]:
    """``items`` by name, in order; a ``ValueError`` for one that is no ``kind`` or a name twice."""
    by_name: dict[str, _N] = {}
    for item in items:
        if not isinstance(item, kind):
            raise ValueError(f"{plural} must be {kind.__name__} objects, got {item!r}")
        if item.name in by_name:
            raise ValueError(f"duplicate {kind.__name__.lower()} {item.name!r}")
        by_name[item.name] = item
    return by_name


@dataclass(frozen=True)
class Registry:
    """Every category, service and cookie a site declares, with the policy's revision.

    Bump ``revision`` whenever the declarations change in a way visitors must
    agree to again: consents given for an older revision no longer count.

    The consent cookie itself (``consent_cookie``) is always necessary; the
    middleware sets it to its own ``cookie_name``.
    """

    categories: tuple[Category, ...]
    cookies: tuple[Cookie, ...]
    services: tuple[Service, ...] = field(default=(), kw_only=True)
    revision: int = field(default=1, kw_only=True)
    consent_cookie: str = field(default=DEFAULT_CONSENT_COOKIE, kw_only=True)

    # Derived lookup tables, built once in __post_init__.
    _categories: dict[str, Category] = field(init=False, repr=False, compare=False)
    _exact: dict[str, Cookie] = field(init=False, repr=False, compare=False)
    _patterns: tuple[Cookie, ...] = field(init=False, repr=False, compare=False)
    # Literal prefix (text before the first "*") -> (declaration order, segments, cookie).
    _by_prefix: dict[str, tuple[tuple[int, tuple[str, ...], Cookie], ...]] = field(
        init=False, repr=False, compare=False
    )
    _prefix_lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _required: frozenset[str] = field(init=False, repr=False, compare=False)
    _services: dict[str, Service] = field(init=False, repr=False, compare=False)
    _services_in: dict[str, tuple[Service, ...]] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        categories: Iterable[Category],
        cookies: Iterable[Cookie],
        *,
        services: Iterable[Service] = (),
        revision: int = 1,
        consent_cookie: str = DEFAULT_CONSENT_COOKIE,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "categories", tuple(categories))
        set_(self, "cookies", tuple(cookies))
        set_(self, "services", tuple(services))
        set_(self, "revision", revision)
        set_(self, "consent_cookie", consent_cookie)
        self.__post_init__()

    def __post_init__(self) -> None:
        if isinstance(self.revision, bool) or not isinstance(self.revision, int):
            raise ValueError(f"revision must be an integer, got {self.revision!r}")
        by_name = _by_name(self.categories, Category, "categories")
        required = frozenset(c.name for c in self.categories if c.required)
        if not required:
            declared = ", ".join(repr(name) for name in by_name) or "none"
            raise ValueError(
                f"the registry has no required category (declared: {declared}): declare one "
                'with Category("necessary", required=True) for the cookies the site needs'
            )
        services = self._check_services(by_name)
        exact: dict[str, Cookie] = {}
        patterns: list[Cookie] = []
        for cookie in self.cookies:
            if not isinstance(cookie, Cookie):
                raise ValueError(f"cookies must be Cookie objects, got {cookie!r}")
            if cookie.category not in by_name:
                raise ValueError(
                    f"cookie {cookie.name!r} names undeclared category {cookie.category!r}"
                )
            if cookie.service is not None:
                service = services.get(cookie.service)
                if service is None:
                    raise ValueError(
                        f"cookie {cookie.name!r} names undeclared service {cookie.service!r}"
                    )
                if service.category != cookie.category:
                    raise ValueError(
                        f"cookie {cookie.name!r} in category {cookie.category!r} names service "
                        f"{service.name!r} of category {service.category!r}"
                    )
            if cookie.is_pattern:
                patterns.append(cookie)
            elif exact.setdefault(cookie.name, cookie) is not cookie:
                raise ValueError(f"cookie {cookie.name!r} is declared twice")
        by_prefix: dict[str, list[tuple[int, tuple[str, ...], Cookie]]] = {}
        for order, cookie in enumerate(patterns):
            segments = tuple(cookie.name.split("*"))
            by_prefix.setdefault(segments[0], []).append((order, segments, cookie))
        set_ = object.__setattr__
        set_(self, "_categories", by_name)
        set_(self, "_exact", exact)
        set_(self, "_patterns", tuple(patterns))
        set_(self, "_by_prefix", {k: tuple(v) for k, v in by_prefix.items()})
        set_(self, "_prefix_lengths", tuple(sorted({len(k) for k in by_prefix})))
        set_(self, "_required", required)
        set_(self, "_services", services)
        in_category: dict[str, list[Service]] = {}
        for service in self.services:
            in_category.setdefault(service.category, []).append(service)
        set_(self, "_services_in", {k: tuple(v) for k, v in in_category.items()})

    def _check_services(self, categories: dict[str, Category]) -> dict[str, Service]:
        services = _by_name(self.services, Service, "services")
        for service in services.values():
            if service.name in categories:
                raise ValueError(f"service {service.name!r} is named like a category")
            if service.category not in categories:
                raise ValueError(
                    f"service {service.name!r} names undeclared category {service.category!r}"
                )
        return services

    # -- lookups ---------------------------------------------------------------

    @property
    def required_categories(self) -> frozenset[str]:
        """Names of the categories that need no consent."""
        return self._required

    @property
    def consent_category(self) -> str:
        """The category the consent cookie is reported in: the first required one."""
        return next(c.name for c in self.categories if c.required)

    def category(self, name: str) -> Category:
        """The declared category called ``name`` (``KeyError`` if there is none)."""
        return self._categories[name]

    def has_category(self, name: str) -> bool:
        return name in self._categories

    def lookup(self, cookie_name: str) -> Cookie | None:
        """The declaration that covers ``cookie_name``: exact names first, then globs.

        Nothing is remembered here: a glob costs a few ``str`` operations, and the
        guard remembers its verdicts per consent (bounded), where names repeat.
        """
        cookie = self._exact.get(cookie_name)
        if cookie is not None or not self._patterns or not cookie_name:
            return cookie
        return self._match_glob(cookie_name)

    def _match_glob(self, cookie_name: str) -> Cookie | None:
        """The first glob declared that matches: only those whose literal prefix starts the name."""
        best: tuple[int, tuple[str, ...], Cookie] | None = None
        by_prefix = self._by_prefix
        for length in self._prefix_lengths:
            if length > len(cookie_name):
                break
            for candidate in by_prefix.get(cookie_name[:length], ()):
                if best is not None and candidate[0] > best[0]:
                    break  # declared later than a match already found
                if glob_match(candidate[1], cookie_name):
                    best = candidate
                    break
        return best[2] if best is not None else None

    def category_of(self, cookie_name: str) -> str | None:
        """The category of ``cookie_name``, or None when the registry does not know it."""
        if cookie_name == self.consent_cookie:
            return self.consent_category
        cookie = self.lookup(cookie_name)
        return cookie.category if cookie is not None else None

    def is_required(self, category: str | None) -> bool:
        return category in self._required

    def cookies_in(self, category: str) -> tuple[Cookie, ...]:
        """The cookies declared in ``category``, in declaration order."""
        return tuple(c for c in self.cookies if c.category == category)

    # -- services --------------------------------------------------------------

    def service(self, name: str) -> Service:
        """The declared service called ``name`` (``KeyError`` if there is none)."""
        return self._services[name]

    def has_service(self, name: str) -> bool:
        return name in self._services

    def services_in(self, category: str) -> tuple[Service, ...]:
        """The services declared in ``category``, in declaration order."""
        return self._services_in.get(category, ())

    def service_of(self, cookie_name: str) -> str | None:
        """The service of ``cookie_name``, or None (undeclared, or declared without one)."""
        if cookie_name == self.consent_cookie:
            return None
        cookie = self.lookup(cookie_name)
        return cookie.service if cookie is not None else None

    def cookies_of(self, service: str) -> tuple[Cookie, ...]:
        """The cookies declared with ``service=service``, in declaration order."""
        return tuple(c for c in self.cookies if c.service == service)

    def with_consent_cookie(self, name: str) -> Registry:
        """The same registry with another consent cookie name."""
        if name == self.consent_cookie:
            return self
        return Registry(
            self.categories,
            self.cookies,
            services=self.services,
            revision=self.revision,
            consent_cookie=name,
        )
