"""``{% load cookieguard %}``: the banner, its assets and consent checks in Django templates.

Each tag needs the request in the context (``django.template.context_processors.request``,
which ``startproject`` enables) and renders what the
:class:`~cookieguard.ui.ConsentUI` of :func:`cookieguard.django.templating.consent_ui`
renders for Flask and Starlette:

.. code-block:: html+django

    {% load cookieguard %}
    <head>{% cookieguard_consent_mode %}{% cookieguard_assets %}</head>
    <body>
      {% cookieguard_allows "statistics" as statistics %}
      {% if statistics %}<script src="/matomo.js"></script>{% endif %}
      {% cookieguard_embed "youtube" src="https://www.youtube-nocookie.com/embed/..." title="..." %}
      {% cookieguard_banner %}
      <footer>{% cookieguard_preferences_link %}</footer>
    </body>
"""

from __future__ import annotations

from typing import Any

from django import template  # type: ignore[import-untyped]
from django.utils.safestring import SafeString, mark_safe  # type: ignore[import-untyped]
from markupsafe import Markup

from ...ui import ConsentUI
from ..templating import consent_ui

register = template.Library()


def _ui(context: Any) -> ConsentUI:
    request = context.get("request")
    if request is None:
        raise template.TemplateSyntaxError(
            "cookieguard's tags need the request in the template context: add "
            '"django.template.context_processors.request" to the context_processors '
            "of TEMPLATES, or render with the request"
        )
    return consent_ui(request)


def _safe(html: Markup) -> SafeString:
    return mark_safe(str(html))


def cookieguard_assets(context: Any, nonce: str | None = None) -> SafeString:
    """The banner's stylesheet and deferred script, served by the middleware."""
    return _safe(_ui(context).assets(nonce=nonce))


def cookieguard_banner(context: Any) -> SafeString:
    """The banner (only until the visitor chooses) and the preferences dialog."""
    return _safe(_ui(context).banner())


def cookieguard_preferences_link(context: Any, text: str | None = None) -> SafeString:
    """A link that opens the preferences dialog, to change or withdraw consent."""
    return _safe(_ui(context).preferences_link(text))


def cookieguard_consent_mode(context: Any, nonce: str | None = None) -> SafeString:
    """Google Consent Mode v2 defaults for this visitor (see :mod:`cookieguard.consent_mode`)."""
    return _safe(_ui(context).consent_mode(nonce=nonce))


def cookieguard_allows(context: Any, category: str) -> bool:
    """``{% cookieguard_allows "statistics" as ok %}``: the effective consent for a category."""
    return _ui(context).allows(category)


def cookieguard_allows_service(context: Any, service: str) -> bool:
    """``{% cookieguard_allows_service "youtube" as ok %}``: its category, or a one-by-one grant."""
    return _ui(context).allows_service(service)


def cookieguard_embed(context: Any, service: str, **options: Any) -> SafeString:
    """The service's ``<iframe>`` when allowed, else its click-to-load placeholder.

    Takes the options of :meth:`cookieguard.ui.ConsentUI.embed`: ``src`` and
    ``title`` (required), ``width`` and ``height``, ``aspect_ratio``, ``allow``,
    ``button``, ``id``.
    """
    try:
        return _safe(_ui(context).embed(service, **options))
    except TypeError as exc:  # a missing or misspelt option: say it where templates do
        raise template.TemplateSyntaxError(f"cookieguard_embed {service!r}: {exc}") from exc


for _tag in (
    cookieguard_assets,
    cookieguard_banner,
    cookieguard_preferences_link,
    cookieguard_consent_mode,
    cookieguard_allows,
    cookieguard_allows_service,
    cookieguard_embed,
):
    register.simple_tag(_tag, takes_context=True)
