"""The cookie registry: which category every cookie a site sets belongs to.

The registry is declared in code, next to the application, so that the list of
cookies a site may set is reviewed like any other change. It is immutable and
compiled once: exact names go into a dict; glob patterns are indexed by the
literal text before their first ``*``, and each candidate is matched by
:func:`glob_match`, in time linear in the name's length whatever the glob (no
backtracking regular expression: a request's cookie names are the client's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["DEFAULT_CONSENT_COOKIE", "Category", "Cookie", "Registry"]

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

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a cookie needs a non-empty name, got {self.name!r}")

    @property
    def is_pattern(self) -> bool:
        """True when the name is a glob such as ``_pk_id.*``."""
        return "*" in self.name


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
    # Literal prefix (text before the first "*") -> (declaration order, segments, cookie).
    _by_prefix: dict[str, tuple[tuple[int, tuple[str, ...], Cookie], ...]] = field(
        init=False, repr=False, compare=False
    )
    _prefix_lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _required: frozenset[str] = field(init=False, repr=False, compare=False)

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

    def with_consent_cookie(self, name: str) -> Registry:
        """The same registry with another consent cookie name."""
        if name == self.consent_cookie:
            return self
        return Registry(self.categories, self.cookies, revision=self.revision, consent_cookie=name)
