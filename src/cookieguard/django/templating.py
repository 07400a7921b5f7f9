"""The template helper of a Django request, in the active Django language.

:func:`consent_ui` gives the same :class:`~cookieguard.ui.ConsentUI` object the
Flask and Starlette integrations put in templates as ``cookieguard``; the
``{% load cookieguard %}`` tags and :func:`context_processor` (for the Jinja2
backend) both use it. The banner speaks the language Django activated for the
request (``get_language()``: ``LocaleMiddleware``, ``set_language``, or
``translation.override``), whatever ``Accept-Language`` says.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest  # type: ignore[import-untyped]
from django.utils.encoding import escape_uri_path  # type: ignore[import-untyped]
from django.utils.translation import get_language  # type: ignore[import-untyped]

from ..guard import Guard, RequestConsent
from ..keys import CONSENT_KEY, GUARD_KEY
from ..ui import ConsentUI

__all__ = ["consent_ui", "context_processor"]

_UI_ATTRIBUTE = "_cookieguard_ui"


def consent_ui(request: HttpRequest) -> ConsentUI:
    """The template helper for ``request``, built once per request and language."""
    language = get_language()
    ui = getattr(request, _UI_ATTRIBUTE, None)
    if isinstance(ui, ConsentUI) and ui.accept_language == language:
        return ui
    guard, consent = request.META.get(GUARD_KEY), request.META.get(CONSENT_KEY)
    if not isinstance(guard, Guard) or not isinstance(consent, RequestConsent):
        raise RuntimeError(
            "cookieguard's middleware did not see this request: put "
            '"cookieguard.django.CookieGuardMiddleware" first in MIDDLEWARE'
        )
    ui = ConsentUI(
        guard,
        consent,
        path=escape_uri_path(request.path),
        query_string=request.META.get("QUERY_STRING", ""),
        # The active language, as the only one the visitor accepts: the banner
        # speaks it when cookieguard has it, else English.
        accept_language=language,
        root=request.META.get("SCRIPT_NAME", "").rstrip("/"),
    )
    setattr(request, _UI_ATTRIBUTE, ui)
    return ui


def context_processor(request: HttpRequest) -> dict[str, Any]:
    """``cookieguard`` in every template: for the Jinja2 backend's ``context_processors``.

    .. code-block:: python

        TEMPLATES = [{
            "BACKEND": "django.template.backends.jinja2.Jinja2",
            "OPTIONS": {"context_processors": ["cookieguard.django.context_processor"]},
        }]

    Templates then call ``{{ cookieguard.banner() }}``, ``{{ cookieguard.assets() }}``,
    ``{% if cookieguard.allows("statistics") %}``, as with Flask.
    """
    return {"cookieguard": consent_ui(request)}
