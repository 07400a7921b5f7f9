"""Starlette and FastAPI helpers: read the visitor's consent from a request.

.. code-block:: python

    from fastapi import Depends
    from cookieguard.starlette import get_consent

    @app.get("/")
    def home(consent: RequestConsent = Depends(get_consent)):
        return {"statistics": consent.allows("statistics")}
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from .guard import RequestConsent

__all__ = ["get_consent"]


def get_consent(request: HTTPConnection) -> RequestConsent:
    """The consent of this request or WebSocket; usable as a FastAPI dependency."""
    consent = request.scope.get("cookieguard.consent")
    if not isinstance(consent, RequestConsent):
        raise RuntimeError(
            "cookieguard is not installed: add Middleware(CookieGuardMiddleware, ...) to the app"
        )
    return consent
