"""Google Consent Mode v2, computed from the consent the server already knows.

Google's tags read their consent state from ``gtag('consent', 'default', {...})``
before they load. Because the middleware knows the visitor's choice on every
request, that default can be the real answer, not a blanket "denied" waiting
for a banner script to update it.

Each registry category maps to the consent types it stands for. A consent type
is ``"granted"`` only when every category that maps to it is allowed, and
``"denied"`` when no category maps to it at all: nothing was consented to.
``security_storage`` is the exception: it covers storage a site needs to stay
secure, which needs no consent, so it is granted unless a category that needs
consent claims it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from .guard import RequestConsent
from .registry import Registry

__all__ = [
    "CONSENT_TYPES",
    "DEFAULT_MAPPING",
    "ConsentMapping",
    "consent_defaults",
    "consent_requirements",
    "consent_script",
]

ConsentMapping = Mapping[str, Iterable[str]]
State = Literal["granted", "denied"]

#: The consent types of Consent Mode v2, in Google's order.
CONSENT_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)

_ADS = ("ad_storage", "ad_user_data", "ad_personalization")

#: The category names most cookie policies use, and the consent types each covers.
#: Pass your own mapping for other names; categories it leaves out grant nothing.
DEFAULT_MAPPING: Mapping[str, tuple[str, ...]] = {
    "necessary": ("security_storage",),
    "essential": ("security_storage",),
    "functional": ("functionality_storage",),
    "functionality": ("functionality_storage",),
    "preferences": ("functionality_storage", "personalization_storage"),
    "personalization": ("personalization_storage",),
    "statistics": ("analytics_storage",),
    "analytics": ("analytics_storage",),
    "performance": ("analytics_storage",),
    "marketing": _ADS,
    "advertising": _ADS,
    "advertisement": _ADS,
    "targeting": _ADS,
}


def consent_requirements(
    registry: Registry, mapping: ConsentMapping | None = None
) -> dict[str, list[str]]:
    """For each consent type that can be granted, the categories it needs allowed.

    A type missing from the result is always denied; an empty list means the
    type needs no consent (it maps only to required categories, or it is
    ``security_storage``).
    """
    mapping = DEFAULT_MAPPING if mapping is None else mapping
    unknown = {t for types in mapping.values() for t in types} - set(CONSENT_TYPES)
    if unknown:
        raise ValueError(f"unknown consent type {sorted(unknown)[0]!r}; expected {CONSENT_TYPES}")
    needs: dict[str, list[str]] = {}
    for category in registry.categories:
        for consent_type in mapping.get(category.name, ()):
            needed = needs.setdefault(consent_type, [])
            if not category.required:
                needed.append(category.name)
    needs.setdefault("security_storage", [])
    return {t: needs[t] for t in CONSENT_TYPES if t in needs}


def consent_defaults(
    consent: RequestConsent, registry: Registry, mapping: ConsentMapping | None = None
) -> dict[str, State]:
    """The ``gtag('consent', 'default', ...)`` argument for this request's consent."""
    needs = consent_requirements(registry, mapping)
    return {
        t: "granted" if t in needs and all(consent.allows(c) for c in needs[t]) else "denied"
        for t in CONSENT_TYPES
    }


_INLINE = (
    "window.dataLayer=window.dataLayer||[];"
    "window.gtag=window.gtag||function(){window.dataLayer.push(arguments);};"
    "window.gtag('consent','default',{defaults});"
)


def consent_script(
    consent: RequestConsent,
    registry: Registry,
    mapping: ConsentMapping | None = None,
    *,
    src: str,
    nonce: str | None = None,
) -> Markup:
    """A ``<script>`` that sets the Consent Mode defaults; put it before Google's tag.

    Without ``nonce`` it is the external script at ``src`` (static, so a CSP of
    ``script-src 'self'`` allows it) reading the defaults from a data attribute.
    With ``nonce`` the call is written inline, for a CSP built on nonces. Either
    way the tag carries the requirements, so ``cookieguard.js`` can send
    ``gtag('consent', 'update', ...)`` when the visitor chooses on the page.
    """
    defaults = consent_defaults(consent, registry, mapping)
    config = htmlsafe_json_dumps(
        {"default": defaults, "requires": consent_requirements(registry, mapping)}
    )
    attribute = Markup(' data-cookieguard-consent-mode="{}"').format(str(config))
    if nonce is None:
        return Markup('<script src="{}"{}></script>').format(src, attribute)
    code = _INLINE.replace("{defaults}", str(htmlsafe_json_dumps(defaults)))
    return Markup('<script nonce="{}"{}>{}</script>').format(nonce, attribute, Markup(code))
