"""Starlette and FastAPI helpers: read the visitor's consent from a request.

.. code-block:: python

    from fastapi import Depends
    from cookieguard.starlette import get_consent

    @app.get("/")
    def home(consent: RequestConsent = Depends(get_consent)):
        return {"statistics": consent.allows("statistics")}
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection

from .guard import RequestConsent
from .keys import CONSENT_KEY
from .ui import ConsentUI, for_scope

__all__ = ["get_consent", "get_ui", "template_context"]


def get_consent(request: HTTPConnection) -> RequestConsent:
    """The consent of this request or WebSocket; usable as a FastAPI dependency."""
    consent = request.scope.get(CONSENT_KEY)
    if not isinstance(consent, RequestConsent):
        raise RuntimeError(
            "cookieguard is not installed: add Middleware(CookieGuardMiddleware, ...) to the app"
        )
    return consent


def get_ui(request: HTTPConnection) -> ConsentUI:
    """The template helper of this request (:class:`~cookieguard.ui.ConsentUI`)."""
    return for_scope(request.scope)


def template_context(request: HTTPConnection) -> dict[str, Any]:
    """Puts ``cookieguard`` in templates.

    Use it as ``Jinja2Templates(directory=..., context_processors=[template_context])``.
    """
    return {"cookieguard": for_scope(request.scope)}
