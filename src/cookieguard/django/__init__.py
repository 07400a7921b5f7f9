"""cookieguard for Django: an app, a middleware, template tags and system checks.

.. code-block:: python

    INSTALLED_APPS = [..., "cookieguard.django"]
    MIDDLEWARE = ["cookieguard.django.CookieGuardMiddleware", ...]  # first
    COOKIEGUARD = {"REGISTRY": "portal.cookies.registry", "OPTIONS": {"unknown": "strip"}}

- ``REGISTRY``: a :class:`~cookieguard.Registry` or its dotted path.
- ``SECRET_KEY`` (optional): signs the consent cookie; by default ``settings.SECRET_KEY``,
  with ``settings.SECRET_KEY_FALLBACKS`` still verifying (key rotation).
- ``OPTIONS``: the middleware's options (those of
  :class:`cookieguard.wsgi.CookieGuardMiddleware`, ``on_consent`` included; callables may
  be given as dotted paths).

Views read ``request.cookieguard.allows("statistics")``; templates use
``{% load cookieguard %}`` or, with Jinja2, :func:`context_processor`.
"""

from __future__ import annotations

from .middleware import CookieGuardMiddleware
from .templating import consent_ui, context_processor

__all__ = ["CookieGuardMiddleware", "consent_ui", "context_processor"]
