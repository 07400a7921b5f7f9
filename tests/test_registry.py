"""Declaring the registry: construction errors, glob semantics, the consent cookie."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.cases import KEY, REGISTRY

from cookieguard import Category, Cookie, Registry
from cookieguard.guard import Guard

NECESSARY = Category("necessary", required=True)


def registry(*cookies: Cookie, categories: tuple[Category, ...] = ()) -> Registry:
    return Registry(
        [NECESSARY, Category("statistics"), Category("marketing"), *categories], list(cookies)
    )


def test_contract_example() -> None:
    assert REGISTRY.category_of("_pk_id.1.abcd") == "statistics"
    assert REGISTRY.category_of("nope") is None
    assert REGISTRY.category_of("sessionid") == "necessary"
    assert REGISTRY.required_categories == {"necessary"}


def test_undeclared_category_names_the_cookie_and_category() -> None:
    with pytest.raises(ValueError, match=r"'_ga'.*'analytics'"):
        registry(Cookie("_ga", "analytics"))


def test_duplicate_category_is_named() -> None:
    with pytest.raises(ValueError, match="'statistics'"):
        Registry([NECESSARY, Category("statistics"), Category("statistics")], [])


def test_no_required_category() -> None:
    with pytest.raises(ValueError, match=r"no required category \(declared: 'statistics'\)"):
        Registry([Category("statistics")], [Cookie("_ga", "statistics")])
    with pytest.raises(ValueError, match="required"):
        Registry([], [])


def test_duplicate_exact_cookie_is_named() -> None:
    with pytest.raises(ValueError, match="'_ga'"):
        registry(Cookie("_ga", "statistics"), Cookie("_ga", "marketing"))


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("_pk_id.*", "_pk_id.1.abcd", True),
        ("_pk_id.*", "_pk_id.", True),  # * matches the empty run
        ("_pk_id.*", "_pk_id", False),
        ("_pk_id.*", "_pk_idX1", False),  # . is literal
        ("_pk_id.*", "x_pk_id.1", False),  # the whole name
        ("_pk_id.*", "_PK_ID.1", False),  # case-sensitive
        ("*", "", False),  # an empty name is never declared
        ("*", "anything", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "aXbY", False),
        ("cookielawinfo-checkbox-*", "cookielawinfo-checkbox-analytics", True),
        ("id?*", "id?1", True),  # ? is literal
        ("id?*", "idx1", False),
        ("[ab]*", "[ab]x", True),  # [ is literal
        ("[ab]*", "ax", False),
        ("a+*", "aa", False),  # regex characters are literal
        ("a+*", "a+", True),
        ("x*", "x\nnewline", True),
        ("*.$", "a.$", True),
        ("*.$", "a.", False),
    ],
)
def test_glob_semantics(pattern: str, name: str, matches: bool) -> None:
    found = registry(Cookie(pattern, "statistics")).category_of(name)
    assert found == ("statistics" if matches else None)


def test_exact_names_win_over_patterns() -> None:
    reg = registry(Cookie("_pk_*", "statistics"), Cookie("_pk_ref", "marketing"))
    assert reg.category_of("_pk_ref") == "marketing"
    assert reg.category_of("_pk_ref2") == "statistics"


def test_patterns_tried_in_declaration_order() -> None:
    first = registry(Cookie("_pk_*", "statistics"), Cookie("_pk_id*", "marketing"))
    assert first.category_of("_pk_id.1") == "statistics"
    second = registry(Cookie("_pk_id*", "marketing"), Cookie("_pk_*", "statistics"))
    assert second.category_of("_pk_id.1") == "marketing"
    assert second.category_of("_pk_ses.1") == "statistics"
    assert second.lookup("_pk_ses.1") == Cookie("_pk_*", "statistics")


def test_many_patterns() -> None:
    cookies = [Cookie(f"p{i}_*", "statistics" if i % 2 else "marketing") for i in range(500)]
    reg = registry(*cookies)
    assert reg.category_of("p499_x") == "statistics"
    assert reg.category_of("p498_x") == "marketing"
    assert reg.category_of("p500_x") is None


def test_names_are_case_sensitive() -> None:
    reg = registry(Cookie("SessionID", "necessary"))
    assert reg.category_of("SessionID") == "necessary"
    assert reg.category_of("sessionid") is None


def test_consent_cookie_is_always_necessary() -> None:
    assert REGISTRY.category_of("cookies_preferences") == "necessary"
    # Even when the registry mistakenly declares it elsewhere.
    reg = registry(Cookie("cookies_preferences", "marketing"))
    assert reg.category_of("cookies_preferences") == "necessary"


def test_custom_consent_cookie_name_is_necessary() -> None:
    guard = Guard.create(registry=REGISTRY, secret_key=KEY, cookie_name="cg_consent")
    assert guard.registry.category_of("cg_consent") == "necessary"
    assert REGISTRY.with_consent_cookie("cg_consent").category_of("cg_consent") == "necessary"
    assert REGISTRY.category_of("cg_consent") is None  # the original is unchanged


def test_declarations_are_kept() -> None:
    stats = REGISTRY.cookies_in("statistics")
    assert [c.name for c in stats] == ["_pk_id.*", "_pk_ses.*"]
    assert REGISTRY.category("marketing").gpc_opt_out
    assert REGISTRY.category("statistics").title == "Statistics"
    assert Category("social_media").title == "Social media"
    with pytest.raises(KeyError):
        REGISTRY.category("nope")


def test_immutable() -> None:
    with pytest.raises(AttributeError):
        REGISTRY.revision = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        NECESSARY.required = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "named"),
    [
        (lambda: Category(""), "category"),
        (lambda: Cookie("", "statistics"), "cookie"),
        (lambda: Registry([NECESSARY], [], revision="2"), "revision"),  # type: ignore[arg-type]
        (lambda: Registry([NECESSARY], [], revision=True), "revision"),
        (lambda: Registry([NECESSARY, "statistics"], []), "'statistics'"),  # type: ignore[list-item]
        (lambda: Registry([NECESSARY], [("_ga", "necessary")]), "_ga"),  # type: ignore[list-item]
    ],
)
def test_malformed_declarations_are_refused(build: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        build()


# -- security round 2: globs match in linear time, whatever a client sends --------------


def linear_reference(glob: str, name: str) -> bool:
    """Dynamic programming over (glob position, name position): the answer, slowly but surely."""
    reachable = {0}
    for char in glob:
        if char == "*":
            reachable = set(range(min(reachable), len(name) + 1)) if reachable else set()
        else:
            reachable = {i + 1 for i in reachable if i < len(name) and name[i] == char}
    return len(name) in reachable


@pytest.mark.parametrize(
    "name",
    [
        "a" * 600,  # a backtracking regex of a*a*a*a*b takes seconds on this
        "a" * 600 + "b",
        "ab" * 300,
        "a" * 300 + "x" + "a" * 300 + "b",
    ],
)
def test_a_glob_that_a_regex_would_backtrack_on_is_matched_correctly(name: str) -> None:
    registry = Registry(
        [Category("necessary", required=True), Category("statistics")],
        [Cookie("a*a*a*a*b", "statistics"), Cookie("*a*x*a*", "necessary")],
    )
    expected = (
        "statistics"
        if linear_reference("a*a*a*a*b", name)
        else "necessary"
        if linear_reference("*a*x*a*", name)
        else None
    )
    assert registry.category_of(name) == expected


@pytest.mark.parametrize(
    ("glob", "name"),
    [
        ("*", "x"),
        ("a*", "a"),
        ("*a", "a"),
        ("a*a", "a"),  # first and last segment may not overlap
        ("a*a", "aa"),
        ("a**b", "ab"),
        ("*ab*ab*", "abab"),
        ("*ab*ab*", "aba"),
        ("_pk_id.*", "_pk_id."),
        ("x*y*z", "xzyz"),
    ],
)
def test_globs_agree_with_the_reference(glob: str, name: str) -> None:
    registry = Registry(
        [Category("necessary", required=True), Category("statistics")],
        [Cookie(glob, "statistics")],
    )
    expected = "statistics" if linear_reference(glob, name) else None
    assert registry.category_of(name) == expected
