"""The cookie policy page, rendered from the registry instead of written by hand.

The registry already says which cookies a site sets, who sets them, why and
for how long; :func:`render` turns it into the page regulators ask for, as an
HTML fragment to include in a site's own layout, a standalone HTML page,
Markdown, or JSON for other tools (its shape is ``docs/policy-schema.json``).
Headings come from the ``policy`` message catalogues (English, French,
German); the registry's own text (labels, providers, purposes, durations) is
shown as declared, escaped for the format.

.. code-block:: python

    from cookieguard.policy import render

    html = render(registry, "fragment", lang="fr")
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from . import i18n
from .registry import Cookie, Registry

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "Format",
    "policy_context",
    "policy_data",
    "render",
    "template_loader",
]

Format = Literal["fragment", "html", "md", "json"]
#: Every format :func:`render` knows: ``html`` is the standalone page.
FORMATS: tuple[Format, ...] = ("fragment", "html", "md", "json")
#: Bumped only when the JSON shape changes incompatibly.
SCHEMA_VERSION = 1

_TEMPLATES: Mapping[str, str] = {
    "fragment": "policy/fragment.html",
    "html": "policy/page.html",
    "md": "policy/policy.md",
}

# ASCII punctuation that means something to Markdown (inline or in a table cell);
# CommonMark lets any of it be backslash-escaped.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#!~])")


def template_loader() -> PackageLoader:
    """The loader of cookieguard's templates, for a site's own Jinja2 environment.

    Its policy templates are ``policy/fragment.html`` and ``policy/page.html``;
    render them with the variables of :func:`policy_context`.
    """
    return PackageLoader("cookieguard", "templates")


def _cookie_entry(cookie: Cookie) -> dict[str, Any]:
    return {
        "name": cookie.name,
        "pattern": cookie.is_pattern,
        "provider": cookie.provider,
        "purpose": cookie.purpose,
        "duration": cookie.duration,
        "path": cookie.path,
        "domain": cookie.domain,
    }


def policy_data(
    registry: Registry, lang: str = i18n.DEFAULT_LANGUAGE, *, include_consent_cookie: bool = True
) -> dict[str, Any]:
    """The policy as plain data: the JSON form, and what every template renders.

    Unless the registry declares it, the consent cookie is listed first in the
    first required category (the site sets it whenever a visitor chooses), with
    a provider and purpose in ``lang``.
    """
    t = i18n.messages(lang)
    categories: list[dict[str, Any]] = []
    for category in registry.categories:
        cookies = [_cookie_entry(c) for c in registry.cookies_in(category.name)]
        categories.append(
            {
                "name": category.name,
                "title": category.title,
                "description": category.description,
                "required": category.required,
                "gpc_opt_out": category.gpc_opt_out,
                "cookies": cookies,
            }
        )
    consent_cookie = registry.consent_cookie
    if include_consent_cookie and registry.lookup(consent_cookie) is None:
        first_required = next(c for c in categories if c["required"])
        first_required["cookies"].insert(
            0,
            {
                "name": consent_cookie,
                "pattern": False,
                "provider": t["policy.consent_cookie.provider"],
                "purpose": t["policy.consent_cookie.purpose"],
                "duration": "",
                "path": "/",
                "domain": None,
            },
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "revision": registry.revision,
        "language": lang,
        "title": t["policy.title"],
        "categories": categories,
    }


def policy_context(registry: Registry, lang: str = i18n.DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The variables the policy templates expect: ``policy`` and ``t`` (the messages)."""
    return {"policy": policy_data(registry, lang), "t": i18n.messages(lang)}


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


_html_env = Environment(
    loader=template_loader(),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
_markdown_env = Environment(
    loader=template_loader(),
    autoescape=False,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    finalize=_markdown_text,
)
_markdown_env.filters["code"] = _markdown_code


def render(
    registry: Registry, format: Format = "fragment", lang: str = i18n.DEFAULT_LANGUAGE
) -> str:
    """The cookie policy of ``registry`` in ``format``, with headings in ``lang``.

    ``fragment`` is an HTML ``<section>`` to place in a site's own page, ``html``
    a complete page, ``md`` Markdown, ``json`` the documented JSON form.
    """
    if format == "json":
        return json.dumps(policy_data(registry, lang), ensure_ascii=False, indent=2) + "\n"
    if format not in _TEMPLATES:
        raise ValueError(f"unknown policy format {format!r}; choose one of {', '.join(FORMATS)}")
    env = _markdown_env if format == "md" else _html_env
    return env.get_template(_TEMPLATES[format]).render(policy_context(registry, lang))
