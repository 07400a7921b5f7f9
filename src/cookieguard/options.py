"""The middleware options, each declared once: its name, type, default and meaning.

:class:`Options` is that declaration. Every adapter takes the same options as
keyword arguments (``CookieGuardMiddleware(app, registry=..., secret_key=...,
**options)``, ``CookieGuard(app, ...)``, Django's ``COOKIEGUARD["OPTIONS"]``);
:class:`GuardOptions` is their typed keyword form, which mypy needs to check them
(``Unpack[GuardOptions]``), and a test keeps its keys and types those of
:class:`Options`. A mistake is a ``ValueError`` naming the option, at start-up.

.. code-block:: python

    from cookieguard.options import Options

    options = Options(report_only=True, csp="report-only")
    assert options.honor_gpc  # an option not given has its default
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from .consent import DEFAULT_MAX_AGE
from .csp import MODES, CspMode, CspViolation, validate_sources
from .registry import DEFAULT_CONSENT_COOKIE
from .state import Verdict

__all__ = ["DEFAULT_CONSENT_PATH", "GuardOptions", "Options", "Unknown"]

#: Where the consent endpoint is served unless ``consent_path`` says otherwise.
DEFAULT_CONSENT_PATH = "/cookieguard/consent"

Unknown = Literal["strip", "allow"]
# A cookie-name is an RFC 9110 token; the consent cookie's name must be one.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class Options:
    """Every middleware option besides ``registry`` and ``secret_key``, validated.

    Checked when built: a value that cannot work is a ``ValueError`` naming the
    option (``max_age`` is checked by :class:`~cookieguard.consent.ConsentCodec`,
    when the guard is built). :class:`~cookieguard.guard.Guard` is built from one.
    """

    cookie_name: str = DEFAULT_CONSENT_COOKIE
    """The consent cookie's name (a cookie-name token); it is always treated as necessary."""

    max_age: int = DEFAULT_MAX_AGE
    """How long a consent is valid, in seconds (182 days by default): the consent
    cookie's ``Max-Age``, and the age past which its signature no longer verifies."""

    unknown: Unknown = "strip"
    """What to do with a cookie the registry does not declare: ``"strip"`` it or
    ``"allow"`` it. Either way it is reported once per name through the
    ``cookieguard`` logger."""

    report_only: bool = False
    """Remove nothing and add no deletion; log what would have been removed."""

    honor_gpc: bool = True
    """Refuse ``gpc_opt_out`` categories to a request sending ``Sec-GPC: 1``."""

    clean_request: bool = False
    """Also remove, from the request's ``Cookie`` header, every cookie the response
    could not set now, so the application never reads one."""

    consent_path: str = DEFAULT_CONSENT_PATH
    """Where the middleware serves the consent endpoint, its assets and
    ``<consent_path>/csp-report``; a path starting with ``/``."""

    allowed_origins: Iterable[str] = ()
    """Origins besides the site's own that may post consents (``https://app.example.org``)."""

    secure: bool | None = None
    """The consent cookie's ``Secure`` flag: on or off whatever the scheme, or, with
    ``None``, on for ``https`` requests only (see the proxy recipe)."""

    on_violation: Callable[[Verdict], object] | None = None
    """Called with a :class:`~cookieguard.state.Verdict` for each cookie removed (or,
    with ``report_only``, that would be). An exception it raises is logged."""

    csp: CspMode = "off"
    """Add a ``Content-Security-Policy`` to HTML responses that lets only the hosts of
    the services allowed now load: ``"off"``, ``"enforce"`` or ``"report-only"``."""

    csp_sources: Mapping[str, Iterable[str]] = field(default_factory=dict)
    """Sources the added policy always allows besides ``'self'``, by directive
    (``{"script-src": ["https://cdn.example.org"]}``)."""

    on_csp_violation: Callable[[CspViolation], object] | None = None
    """Called with each :class:`~cookieguard.csp.CspViolation` a browser reports to
    ``<consent_path>/csp-report``."""

    def __post_init__(self) -> None:
        if self.unknown not in ("strip", "allow"):
            raise ValueError(f'unknown must be "strip" or "allow", got {self.unknown!r}')
        if not _TOKEN.fullmatch(self.cookie_name or ""):
            raise ValueError(f"cookie_name must be a valid cookie name, got {self.cookie_name!r}")
        if not self.consent_path.startswith("/"):
            raise ValueError(f"consent_path must start with '/', got {self.consent_path!r}")
        if isinstance(self.allowed_origins, str):  # a lone string would allow single characters
            raise ValueError(
                f"allowed_origins must be a list of origins, got {self.allowed_origins!r}"
            )
        if self.csp not in MODES:
            raise ValueError(f'csp must be "off", "enforce" or "report-only", got {self.csp!r}')
        validate_sources(self.csp_sources)


class GuardOptions(TypedDict, total=False):
    """:class:`Options` as keyword arguments, for ``**options: Unpack[GuardOptions]``.

    Typed so that ``Middleware(CookieGuardMiddleware, ...)`` and the adapters'
    constructors check every option name and value under mypy. Its keys and types
    are those of :class:`Options` (a test holds them equal); the meaning and default
    of each is documented there.
    """

    cookie_name: str
    max_age: int
    unknown: Unknown
    report_only: bool
    honor_gpc: bool
    clean_request: bool
    consent_path: str
    allowed_origins: Iterable[str]
    secure: bool | None
    on_violation: Callable[[Verdict], object] | None
    csp: CspMode
    csp_sources: Mapping[str, Iterable[str]]
    on_csp_violation: Callable[[CspViolation], object] | None
