"""Where the middleware leaves what the application may read, in every request.

The WSGI adapter writes them into the ``environ``, the ASGI adapter into the
``scope``, the Django middleware into ``request.META``:

- :data:`CONSENT_KEY`: the effective consent, a
  :class:`~cookieguard.state.RequestConsent` (``.allows(category)``).
- :data:`GUARD_KEY`: the :class:`~cookieguard.guard.Guard` that judged the request,
  for the template helpers (:mod:`cookieguard.ui`).
- :data:`UI_KEY`: the template helper built for the request, once (Flask).

.. code-block:: python

    from cookieguard.keys import CONSENT_KEY

    def app(environ, start_response):
        statistics = environ[CONSENT_KEY].allows("statistics")
"""

from __future__ import annotations

from typing import Final

__all__ = ["CONSENT_KEY", "GUARD_KEY", "UI_KEY"]

CONSENT_KEY: Final = "cookieguard.consent"
GUARD_KEY: Final = "cookieguard.guard"
UI_KEY: Final = "cookieguard.ui"
