"""What the WSGI and ASGI adapters hold alike, built once for both."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from . import endpoint
from .endpoint import ConsentEvent
from .guard import Guard, GuardOptions, SecretKey
from .registry import Registry

if TYPE_CHECKING:
    from typing_extensions import Unpack

App = TypeVar("App")


class Adapter(Generic[App]):
    """The application, its :class:`~cookieguard.guard.Guard`, the ``on_consent`` hook
    and the paths the middleware answers itself; no state of any request."""

    def __init__(
        self,
        app: App,
        *,
        registry: Registry,
        secret_key: SecretKey,
        on_consent: Callable[[ConsentEvent], object] | None = None,
        **options: Unpack[GuardOptions],
    ) -> None:
        self.app = app
        self.guard = Guard.create(registry=registry, secret_key=secret_key, **options)
        self.on_consent = on_consent
        self.own_paths = endpoint.own_paths(self.guard)
