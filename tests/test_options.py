"""Each option is declared once, in Options: its keyword form and its docs agree with it."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import typing
from pathlib import Path

import pytest
from tests.support.cases import KEY, REGISTRY

from cookieguard.guard import Guard
from cookieguard.options import GuardOptions, Options

CONCEPTS = Path(__file__).resolve().parent.parent / "docs" / "concepts.md"
# Taken by the adapters beside the options: not Guard options.
ADAPTER_ARGUMENTS = {"registry", "secret_key", "on_consent"}


def test_the_keyword_form_has_the_options_names_and_types() -> None:
    fields = {f.name: f for f in dataclasses.fields(Options)}
    assert list(GuardOptions.__annotations__) == list(fields)
    assert GuardOptions.__required_keys__ == frozenset()
    assert typing.get_type_hints(GuardOptions) == typing.get_type_hints(Options)


def test_every_option_has_a_docstring() -> None:
    body = ast.parse(inspect.getsource(Options)).body[0]
    assert isinstance(body, ast.ClassDef)
    documented = {
        statement.target.id
        for statement, after in zip(body.body, body.body[1:], strict=False)
        if isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and isinstance(after, ast.Expr)
        and isinstance(after.value, ast.Constant)
        and isinstance(after.value.value, str)
    }
    assert documented == {f.name for f in dataclasses.fields(Options)}


def _concepts_table() -> dict[str, str]:
    """Option -> its default, as the concepts page's options table gives them."""
    text = CONCEPTS.read_text(encoding="utf-8")
    section = text.split("\n## Options\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    return {name: default.strip() for name, default in rows}


def _spelled(default: object) -> str:
    if isinstance(default, str):
        return f'"{default}"'
    return "{}" if default == {} else repr(default)


def test_the_concepts_table_lists_exactly_the_declared_options_and_their_defaults() -> None:
    table = _concepts_table()
    assert set(table) == ADAPTER_ARGUMENTS | {f.name for f in dataclasses.fields(Options)}
    defaults = Options()
    for f in dataclasses.fields(Options):
        written = table[f.name].split(" (")[0]  # "`None` (from the scheme)"
        assert written == f"`{_spelled(getattr(defaults, f.name))}`", f.name


def test_a_guard_built_without_options_has_the_declared_defaults() -> None:
    guard = Guard.create(registry=REGISTRY, secret_key=KEY)
    assert guard.options == Options()
    assert guard.consent_path == Options().consent_path == "/cookieguard/consent"
    assert guard.codec.max_age == Options().max_age
    assert guard.csp is None


def test_the_options_cannot_change_under_a_guard() -> None:
    guard = Guard.create(registry=REGISTRY, secret_key=KEY, report_only=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        guard.options.report_only = False  # type: ignore[misc]
    with pytest.raises(AttributeError):  # no attribute but those the guard declares
        guard.report_onyl = False  # type: ignore[attr-defined]


def test_options_given_by_keyword_are_validated_by_the_declaration() -> None:
    with pytest.raises(ValueError, match="consent_path must start with '/'"):
        Options(consent_path="consent")
    guard = Guard.create(
        registry=REGISTRY,
        secret_key=KEY,
        consent_path="/consent/",
        allowed_origins=["https://Partner.example/"],
        csp="enforce",
    )
    assert guard.consent_path == "/consent"
    assert guard.allowed_origins == frozenset({"https://partner.example"})
    assert guard.csp is not None and guard.csp.report_uri == "/consent/csp-report"
