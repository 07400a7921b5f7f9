"""Server-side cookie consent for WSGI and ASGI applications.

Declare the cookies a site sets in a :class:`Registry`, wrap the application in
:class:`cookieguard.wsgi.CookieGuardMiddleware` or
:class:`cookieguard.asgi.CookieGuardMiddleware`, and every ``Set-Cookie`` the
visitor did not consent to is removed before it leaves the server.
"""

from .consent import DEFAULT_MAX_AGE, Consent, ConsentCodec
from .guard import Guard, RequestConsent, Verdict, is_deletion, set_cookie_name
from .registry import DEFAULT_CONSENT_COOKIE, Category, Cookie, Registry, Service

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_CONSENT_COOKIE",
    "DEFAULT_MAX_AGE",
    "Category",
    "Consent",
    "ConsentCodec",
    "Cookie",
    "Guard",
    "Registry",
    "RequestConsent",
    "Service",
    "Verdict",
    "is_deletion",
    "set_cookie_name",
]
