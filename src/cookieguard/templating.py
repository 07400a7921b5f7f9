"""The one Jinja2 environment over cookieguard's templates (``cookieguard/templates``).

The banner, the preferences dialog and the HTML policy pages render through
:func:`environment`: autoescaping on, undefined names an error, block tags
taking their own line with them. The Markdown policy renders through an
overlay of it (:func:`markdown_environment`), the same loader and cache with
Markdown's escaping instead of HTML's.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

__all__ = ["environment", "markdown_environment", "template_loader"]

# ASCII punctuation that means something to Markdown (inline or in a table cell);
# CommonMark lets any of it be backslash-escaped.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#!~])")


def template_loader() -> PackageLoader:
    """The loader of cookieguard's templates, for a site's own Jinja2 environment."""
    return PackageLoader("cookieguard", "templates")


@cache
def environment() -> Environment:
    """The environment of the HTML templates (banner, dialog, policy pages)."""
    return Environment(
        loader=template_loader(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _markdown_text(value: Any) -> Any:
    """Escape a value for Markdown: literal text, on one line, safe in a table cell."""
    if value is None or isinstance(value, Markup):
        return value
    text = " ".join(str(value).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _markdown_code(name: str) -> Markup:
    """A cookie name as a code span; names with a backtick fall back to escaped text."""
    if "`" in name:
        return Markup(_markdown_text(name))
    return Markup(f"`{name}`")


@cache
def markdown_environment() -> Environment:
    """:func:`environment` for Markdown: every ``{{ }}`` value escaped for Markdown."""
    markdown = environment().overlay(
        autoescape=False, finalize=_markdown_text, trim_blocks=False, lstrip_blocks=False
    )
    markdown.filters = {**markdown.filters, "code": _markdown_code}
    return markdown
