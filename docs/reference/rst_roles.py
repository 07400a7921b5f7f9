"""A Griffe extension: render the reStructuredText bits of cookieguard's docstrings.

The docstrings are written for ``help()`` and for readers of the source, in the
usual Python style: ``:class:`Registry``` roles and ``.. code-block::``
directives. mkdocstrings renders docstrings as Markdown, so this turns roles
into inline code and directives into fenced code blocks before it does.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|mod|data|attr|exc|obj):`~?([^`]+)`")
_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. code-block::[ \t]*(?P<lang>\S*)[ \t]*$")


def _role(match: re.Match[str]) -> str:
    target = match.group(1)
    shown = target.rpartition(".")[2] if match.group(0).count("~") else target
    return f"`{shown}`"


def markdown(text: str) -> str:
    """``text`` with rST roles as inline code and code-block directives fenced."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        directive = _DIRECTIVE.match(lines[i])
        if directive is None:
            out.append(_ROLE.sub(_role, lines[i]))
            i += 1
            continue
        indent = len(directive.group("indent"))
        i += 1
        body: list[str] = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        code = textwrap.dedent("\n".join(body)).strip("\n")
        out += [f"```{directive.group('lang')}", *code.splitlines(), "```", ""]
    return "\n".join(out)


class RstRoles(griffe.Extension):
    """Rewrite every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._visit(pkg, set())

    def _visit(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._visit(member, seen)  # type: ignore[arg-type]
