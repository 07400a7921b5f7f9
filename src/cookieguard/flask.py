"""Flask integration: ``CookieGuard(app, registry=...)`` installs the WSGI middleware.

It wraps ``app.wsgi_app`` rather than using ``after_request``: an
``after_request`` hook never sees the session cookie Flask sets after it, and
the middleware must judge every ``Set-Cookie`` the response carries.

.. code-block:: python

    app = Flask(__name__)
    app.secret_key = "..."
    guard = CookieGuard(app, registry=registry)

Flask is the only framework this module imports, and only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flask import Flask, request
from werkzeug.local import LocalProxy

from .guard import GuardOptions, RequestConsent
from .keys import CONSENT_KEY, UI_KEY
from .registry import Registry
from .ui import ConsentUI, for_environ
from .wsgi import CookieGuardMiddleware

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["CookieGuard", "current_consent", "current_ui"]


class CookieGuard:
    """The Flask extension. ``secret_key`` defaults to ``app.secret_key``.

    With Flask's ``SECRET_KEY_FALLBACKS`` set, consents signed with those older
    keys keep verifying (key rotation). Other options are the middleware's.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        registry: Registry,
        secret_key: str | bytes | Sequence[str | bytes] | None = None,
        **options: Unpack[GuardOptions],
    ) -> None:
        self.registry = registry
        self.secret_key = secret_key
        self.options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Wrap ``app.wsgi_app``, register in ``app.extensions["cookieguard"]``, and
        make ``cookieguard`` (the request's :class:`~cookieguard.ui.ConsentUI`) a Jinja global."""
        key = self.secret_key
        if key is None:
            if not app.secret_key:
                raise RuntimeError(
                    "CookieGuard needs a key to sign consents: set app.secret_key "
                    "(SECRET_KEY) before init_app, or pass secret_key=..."
                )
            key = [app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ())]
        middleware = CookieGuardMiddleware(
            app.wsgi_app, registry=self.registry, secret_key=key, **self.options
        )
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions["cookieguard"] = middleware
        app.jinja_env.globals["cookieguard"] = LocalProxy(current_ui)

    @staticmethod
    def consent() -> RequestConsent:
        """The consent that applies to the current request."""
        return current_consent()


def current_consent() -> RequestConsent:
    """The consent of the current Flask request (set by the middleware)."""
    consent = request.environ.get(CONSENT_KEY)
    if not isinstance(consent, RequestConsent):
        raise RuntimeError("cookieguard is not installed on this app: call CookieGuard(app, ...)")
    return consent


def current_ui() -> ConsentUI:
    """The template helper of the current Flask request, built once per request."""
    environ = request.environ
    ui = environ.get(UI_KEY)
    if not isinstance(ui, ConsentUI):
        ui = environ[UI_KEY] = for_environ(environ)
    return ui
