"""The cookie registry: which category every cookie a site sets belongs to.

The registry is declared in code, next to the application, so that the list of
cookies a site may set is reviewed like any other change. It is immutable and
compiled once: exact names go into a dict, glob patterns into one regular
expression, so a lookup costs one dict probe and at most one regex match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["DEFAULT_CONSENT_COOKIE", "Category", "Cookie", "Registry"]

#: The name of the consent cookie unless the middleware is told otherwise.
DEFAULT_CONSENT_COOKIE = "cookies_preferences"
# Glob answers remembered per registry: a site sets the same few names over and over,
# and one regex over hundreds of patterns costs microseconds per name.
_MATCH_CACHE_SIZE = 4096


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

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a cookie needs a non-empty name, got {self.name!r}")

    @property
    def is_pattern(self) -> bool:
        """True when the name is a glob such as ``_pk_id.*``."""
        return "*" in self.name


def _glob_to_regex(glob: str) -> str:
    """``*`` matches any run of characters; every other character is literal."""
    return ".*".join(re.escape(part) for part in glob.split("*"))


@dataclass(frozen=True)
class Registry:
    """Every category and cookie a site declares, with the policy's revision.

    Bump ``revision`` whenever the declarations change in a way visitors must
    agree to again: consents given for an older revision no longer count.

    The consent cookie itself (``consent_cookie``) is always necessary; the
    middleware sets it to its own ``cookie_name``.
    """

    categories: tuple[Category, ...]
    cookies: tuple[Cookie, ...]
    revision: int = field(default=1, kw_only=True)
    consent_cookie: str = field(default=DEFAULT_CONSENT_COOKIE, kw_only=True)

    # Derived lookup tables, built once in __post_init__.
    _categories: dict[str, Category] = field(init=False, repr=False, compare=False)
    _exact: dict[str, Cookie] = field(init=False, repr=False, compare=False)
    _patterns: tuple[Cookie, ...] = field(init=False, repr=False, compare=False)
    _pattern_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _required: frozenset[str] = field(init=False, repr=False, compare=False)
    _matched: dict[str, Cookie | None] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        categories: Iterable[Category],
        cookies: Iterable[Cookie],
        *,
        revision: int = 1,
        consent_cookie: str = DEFAULT_CONSENT_COOKIE,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "categories", tuple(categories))
        set_(self, "cookies", tuple(cookies))
        set_(self, "revision", revision)
        set_(self, "consent_cookie", consent_cookie)
        self.__post_init__()

    def __post_init__(self) -> None:
        if isinstance(self.revision, bool) or not isinstance(self.revision, int):
            raise ValueError(f"revision must be an integer, got {self.revision!r}")
        by_name: dict[str, Category] = {}
        for category in self.categories:
            if not isinstance(category, Category):
                raise ValueError(f"categories must be Category objects, got {category!r}")
            if category.name in by_name:
                raise ValueError(f"duplicate category {category.name!r}")
            by_name[category.name] = category
        required = frozenset(c.name for c in self.categories if c.required)
        if not required:
            declared = ", ".join(repr(name) for name in by_name) or "none"
            raise ValueError(
                f"the registry has no required category (declared: {declared}): declare one "
                'with Category("necessary", required=True) for the cookies the site needs'
            )
        exact: dict[str, Cookie] = {}
        patterns: list[Cookie] = []
        for cookie in self.cookies:
            if not isinstance(cookie, Cookie):
                raise ValueError(f"cookies must be Cookie objects, got {cookie!r}")
            if cookie.category not in by_name:
                raise ValueError(
                    f"cookie {cookie.name!r} names undeclared category {cookie.category!r}"
                )
            if cookie.is_pattern:
                patterns.append(cookie)
            elif exact.setdefault(cookie.name, cookie) is not cookie:
                raise ValueError(f"cookie {cookie.name!r} is declared twice")
        # One alternation, tried left to right: the first pattern declared wins.
        pattern_re = (
            re.compile(
                "|".join(f"({_glob_to_regex(c.name)})" for c in patterns),
                re.DOTALL,
            )
            if patterns
            else None
        )
        set_ = object.__setattr__
        set_(self, "_categories", by_name)
        set_(self, "_exact", exact)
        set_(self, "_patterns", tuple(patterns))
        set_(self, "_pattern_re", pattern_re)
        set_(self, "_required", required)
        set_(self, "_matched", {})

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
        """The declaration that covers ``cookie_name``: exact names first, then globs."""
        cookie = self._exact.get(cookie_name)
        if cookie is not None or self._pattern_re is None or not cookie_name:
            return cookie
        matched = self._matched
        try:
            return matched[cookie_name]
        except KeyError:
            pass
        match = self._pattern_re.fullmatch(cookie_name)
        cookie = self._patterns[match.lastindex - 1] if match and match.lastindex else None
        if len(matched) >= _MATCH_CACHE_SIZE:
            try:  # drop the oldest answer; another thread may be doing the same
                del matched[next(iter(matched))]
            except (KeyError, RuntimeError, StopIteration):
                pass
        matched[cookie_name] = cookie
        return cookie

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

    def with_consent_cookie(self, name: str) -> Registry:
        """The same registry with another consent cookie name."""
        if name == self.consent_cookie:
            return self
        return Registry(self.categories, self.cookies, revision=self.revision, consent_cookie=name)
