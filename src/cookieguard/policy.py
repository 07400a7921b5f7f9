"""The cookie policy page, rendered from the registry instead of written by hand.

The registry already says which cookies a site sets, who sets them, why and
for how long; :func:`render` turns it into the page regulators ask for, as an
HTML fragment to include in a site's own layout, a standalone HTML page,
Markdown, or JSON for other tools (its shape is ``docs/policy-schema.json``).
Within each category, the cookies of no service come first, then each service
(its provider and the hosts it loads from) with its cookies.
Headings come from the ``policy`` message catalogues (English, French,
German); the registry's own text (labels, descriptions, purposes, durations)
is shown as declared or as the site translated it
(:func:`cookieguard.i18n.add_language`), escaped for the format.

.. code-block:: python

    from cookieguard.policy import render

    html = render(registry, "fragment", lang="fr")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from jinja2 import PackageLoader

from . import i18n, templating
from .consent import DEFAULT_MAX_AGE
from .registry import Cookie, Registry, Service

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "Format",
    "cookie_entry",
    "lifetime",
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


def template_loader() -> PackageLoader:
    """The loader of cookieguard's templates, for a site's own Jinja2 environment.

    Its policy templates are ``policy/fragment.html`` and ``policy/page.html``;
    render them with the variables of :func:`policy_context`.
    """
    return templating.template_loader()


def cookie_entry(cookie: Cookie, t: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A declared cookie as a dict: what the policy lists for it, and the consent log hashes.

    Its purpose and duration are translated by the messages ``t`` where they name
    them, as :func:`cookieguard.i18n.cookie_text` does; without ``t``, as declared.
    The one conversion of a :class:`~cookieguard.registry.Cookie` to data, for
    :func:`policy_data` and :func:`cookieguard.consentlog.fingerprint.registry_declarations`.
    """
    t = t or {}
    return {
        "name": cookie.name,
        "pattern": cookie.is_pattern,
        "provider": cookie.provider,
        "purpose": i18n.cookie_text(t, cookie, "purpose"),
        "duration": i18n.cookie_text(t, cookie, "duration"),
        "path": cookie.path,
        "domain": cookie.domain,
        "service": cookie.service,
    }


def _service_entry(
    service: Service, cookies: tuple[Cookie, ...], t: Mapping[str, str]
) -> dict[str, Any]:
    """A service as the policy lists it; its label and purpose translated like a cookie's."""
    return {
        "name": service.name,
        "title": t.get(f"service.{service.name}.label") or service.title,
        "provider": service.provider,
        "purpose": t.get(f"service.{service.name}.purpose") or service.purpose,
        "hosts": list(service.hosts),
        "cookies": [c.name for c in cookies if c.service == service.name],
    }


# Largest first: a lifetime is written in the largest unit that divides it exactly.
_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def lifetime(seconds: int, lang: str = i18n.DEFAULT_LANGUAGE) -> str:
    """A cookie lifetime in seconds as a visitor reads it: ``15724800`` is "182 days"."""
    t = i18n.messages(lang)
    unit, size = next((u, n) for u, n in _UNITS if seconds % n == 0)
    count = seconds // size
    key = f"policy.lifetime.{unit}" if count == 1 else f"policy.lifetime.{unit}s"
    return t[key].replace("{count}", str(count))


def policy_data(
    registry: Registry,
    lang: str = i18n.DEFAULT_LANGUAGE,
    *,
    include_consent_cookie: bool = True,
    consent_max_age: int = DEFAULT_MAX_AGE,
) -> dict[str, Any]:
    """The policy as plain data: the JSON form, and what every template renders.

    Category and cookie texts are those of ``registry``, or their translations
    into ``lang`` (:func:`cookieguard.i18n.add_language`). Unless the registry
    declares it, the consent cookie is listed first in the first required
    category (the site sets it whenever a visitor chooses), with a provider and
    purpose in ``lang`` and ``consent_max_age`` (the middleware's ``max_age``)
    as its duration.
    """
    t = i18n.messages(lang, registry)
    categories: list[dict[str, Any]] = []
    for category in registry.categories:
        declared = registry.cookies_in(category.name)
        cookies = [cookie_entry(c, t) for c in declared]
        services = [_service_entry(s, declared, t) for s in registry.services_in(category.name)]
        categories.append(
            {
                "name": category.name,
                "title": i18n.category_text(t, category, "label"),
                "description": i18n.category_text(t, category, "description"),
                "required": category.required,
                "gpc_opt_out": category.gpc_opt_out,
                "cookies": cookies,
                "services": services,
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
                "duration": lifetime(consent_max_age, lang),
                "path": "/",
                "domain": None,
                "service": None,
            },
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "revision": registry.revision,
        "language": lang,
        "title": t["policy.title"],
        "categories": categories,
    }


def policy_context(
    registry: Registry,
    lang: str = i18n.DEFAULT_LANGUAGE,
    *,
    consent_max_age: int = DEFAULT_MAX_AGE,
) -> dict[str, Any]:
    """The variables the policy templates expect: ``policy`` and ``t`` (the messages)."""
    policy = policy_data(registry, lang, consent_max_age=consent_max_age)
    return {"policy": policy, "t": i18n.messages(lang, registry)}


def render(
    registry: Registry,
    format: Format = "fragment",
    lang: str = i18n.DEFAULT_LANGUAGE,
    *,
    consent_max_age: int = DEFAULT_MAX_AGE,
) -> str:
    """The cookie policy of ``registry`` in ``format``, with headings in ``lang``.

    ``fragment`` is an HTML ``<section>`` to place in a site's own page, ``html``
    a complete page, ``md`` Markdown, ``json`` the documented JSON form.
    ``consent_max_age`` is the middleware's ``max_age``, shown as the consent
    cookie's duration (templates get both from ``cookieguard.policy()``).
    """
    if format == "json":
        data = policy_data(registry, lang, consent_max_age=consent_max_age)
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if format not in _TEMPLATES:
        raise ValueError(f"unknown policy format {format!r}; choose one of {', '.join(FORMATS)}")
    env = templating.markdown_environment() if format == "md" else templating.environment()
    context = policy_context(registry, lang, consent_max_age=consent_max_age)
    return env.get_template(_TEMPLATES[format]).render(context)
