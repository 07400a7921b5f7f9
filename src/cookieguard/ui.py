"""What templates need to show the banner and to gate third-party content.

A :class:`ConsentUI` is built per request from the middleware's
:class:`~cookieguard.guard.Guard` and the request's consent, and is what the
Flask and Starlette integrations put in templates as ``cookieguard``:

.. code-block:: jinja

    <head>{{ cookieguard.consent_mode() }}{{ cookieguard.assets() }}</head>
    <body>
      {{ cookieguard.banner() }}
      {% if cookieguard.allows("statistics") %}<script src="/matomo.js"></script>{% endif %}
      {{ cookieguard.embed("youtube", src="https://www.youtube-nocookie.com/embed/...",
                           title="Our product in two minutes", width=560, height=315) }}
      <footer>{{ cookieguard.preferences_link() }}</footer>
    </body>

The banner goes first in ``<body>``: it shows at the bottom of the screen (it is
``position: fixed``), and the keyboard reaches "Reject all" with the first Tab.

It is framework-neutral: :func:`for_environ` (WSGI) and :func:`for_scope` (ASGI)
build it from the plain request mappings. The banner and dialog are Jinja2
templates shipped in the package, rendered with autoescaping on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode

from markupsafe import Markup

from . import assets, embedframe, i18n, policy, templating
from .consent_mode import ConsentMapping, consent_script
from .guard import Guard, RequestConsent
from .keys import CONSENT_KEY, GUARD_KEY
from .registry import Cookie, Service

__all__ = [
    "PREFERENCES_ANCHOR",
    "CategoryView",
    "ConsentUI",
    "CookieRow",
    "ServiceView",
    "for_environ",
    "for_scope",
]

#: The id of the preferences dialog; ``#cookieguard-preferences`` opens it without JavaScript.
PREFERENCES_ANCHOR = "cookieguard-preferences"
# ``?cookieguard=preferences`` renders the dialog open, for browsers without JS or CSS.
_OPEN_PARAM = ("cookieguard", "preferences")
# Characters kept as they are when a request path is written back as a URL path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


_TABLE_KEYS = ("cookie.name", "cookie.provider", "cookie.purpose", "cookie.duration")

#: One row of a category's cookie table: name, provider, purpose, duration (translated).
CookieRow = tuple[str, str, str, str]


# The cookie tables are most of the dialog and the same for every visitor of a language:
# render each once instead of escaping every cell on every page view.
@lru_cache(maxsize=512)
def _cookie_table(rows: tuple[CookieRow, ...], headings: tuple[str, ...]) -> Markup:
    template = templating.environment().get_template("cookieguard/cookies.html")
    return Markup(template.render(rows=rows, headings=headings))


@dataclass(frozen=True)
class ServiceView:
    """A service as the dialog shows it, nested under its category."""

    name: str
    label: str
    provider: str
    purpose: str
    #: The names of the cookies declared with this service.
    cookies: tuple[str, ...]
    #: Allowed now: by its category, or granted one by one.
    checked: bool
    #: Allowed by its category (its checkbox is disabled until JavaScript takes over,
    #: so that a form posted without JavaScript cannot contradict the category).
    included: bool
    #: A service of a required category: always on.
    required: bool


@dataclass(frozen=True)
class CategoryView:
    """A category as the dialog shows it, in the visitor's language."""

    name: str
    label: str
    description: str
    required: bool
    checked: bool
    gpc_blocked: bool
    cookies: tuple[Cookie, ...]
    #: ``cookies`` as the dialog lists them, their texts in the visitor's language.
    rows: tuple[CookieRow, ...]
    #: The rendered table of ``cookies`` (the same for every visitor of one language).
    table: Markup
    #: The category's services, each with its own checkbox.
    services: tuple[ServiceView, ...] = ()


@dataclass(frozen=True)
class ConsentUI:
    """The template helper for one request: ``cookieguard`` in templates."""

    guard: Guard
    consent: RequestConsent
    #: The request's path as a URL path (percent-encoded).
    path: str
    query_string: str = ""
    accept_language: str | None = None
    #: The mount prefix (WSGI ``SCRIPT_NAME``) of the middleware's own URLs.
    root: str = ""

    def allows(self, category: str) -> bool:
        """The effective consent for ``category`` (required: always; GPC applied)."""
        return self.consent.allows(category)

    def allows_service(self, name: str) -> bool:
        """The effective consent for service ``name``: its category, or a one-by-one grant."""
        return self.consent.allows_service(name)

    @property
    def allowed_services(self) -> list[str]:
        """Every declared service this request allows, in declaration order."""
        return [s.name for s in self.guard.registry.services if s.name in self.consent.services]

    @property
    def consent_id(self) -> str | None:
        return self.consent.consent_id

    @cached_property
    def lang(self) -> str:
        """The banner language, negotiated from ``Accept-Language``."""
        return i18n.negotiate(self.accept_language)

    @cached_property
    def messages(self) -> Mapping[str, str]:
        """Every message in :attr:`lang`, with the site's texts for its registry."""
        return i18n.messages(self.lang, self.guard.registry)

    @property
    def gpc_honoured(self) -> bool:
        """True when the request carries ``Sec-GPC: 1`` and the middleware honours it.

        The banner and the preferences link then say so ("Opt-out preference
        signal honoured"), as California's CCPA regulations (§ 7025(c)(6)) require.
        """
        return self.guard.honor_gpc and self.consent.gpc

    @property
    def endpoint(self) -> str:
        """The URL the consent forms post to."""
        return self.root + self.guard.consent_path

    @property
    def preferences_open(self) -> bool:
        """True when the page was asked for with ``?cookieguard=preferences``."""
        return _OPEN_PARAM in parse_qsl(self.query_string)

    def categories(self) -> list[CategoryView]:
        registry = self.guard.registry
        t = self.messages
        headings = tuple(t[key] for key in _TABLE_KEYS)
        views = []
        for c in registry.categories:
            cookies = registry.cookies_in(c.name)
            rows = tuple(
                (
                    cookie.name,
                    cookie.provider,
                    i18n.cookie_text(t, cookie, "purpose"),
                    i18n.cookie_text(t, cookie, "duration"),
                )
                for cookie in cookies
            )
            views.append(
                CategoryView(
                    name=c.name,
                    label=i18n.category_text(t, c, "label"),
                    description=i18n.category_text(t, c, "description"),
                    required=c.required,
                    checked=c.required or self.consent.allows(c.name),
                    gpc_blocked=c.name in self.consent.gpc_blocked,
                    cookies=cookies,
                    rows=rows,
                    table=_cookie_table(rows, headings),
                    services=tuple(self._service_view(s) for s in registry.services_in(c.name)),
                )
            )
        return views

    def _service_view(self, service: Service) -> ServiceView:
        registry = self.guard.registry
        t = self.messages
        category = registry.category(service.category)
        return ServiceView(
            name=service.name,
            label=i18n.service_text(t, service, "label"),
            provider=service.provider,
            purpose=i18n.service_text(t, service, "purpose"),
            cookies=tuple(c.name for c in registry.cookies_of(service.name)),
            checked=self.allows_service(service.name),
            included=self.allows(service.category),
            required=category.required,
        )

    def preferences_href(self) -> str:
        """A URL of this page that opens the dialog, with JavaScript or without."""
        query = [*self._query_without_ours(), _OPEN_PARAM]
        return f"{self.path}?{urlencode(query)}#{PREFERENCES_ANCHOR}"

    def page_href(self) -> str:
        """This page without the parameter that opens the dialog: ``next`` and "close"."""
        query = self._query_without_ours()
        return f"{self.path}?{urlencode(query)}" if query else self.path

    def _query_without_ours(self) -> list[tuple[str, str]]:
        pairs = parse_qsl(self.query_string, keep_blank_values=True)
        return [pair for pair in pairs if pair[0] != _OPEN_PARAM[0]]

    # -- what templates call -----------------------------------------------------

    def banner(self) -> Markup:
        """The banner (only without a valid consent) and the preferences dialog."""
        return self._render("cookieguard/banner.html")

    def assets(self, nonce: str | None = None) -> Markup:
        """``<link>`` and ``<script defer>`` for the CSS and JavaScript the middleware serves."""
        css = self.root + assets.asset_url(self.guard.consent_path, "cookieguard.css")
        js = self.root + assets.asset_url(self.guard.consent_path, "cookieguard.js")
        nonce_attr = Markup(' nonce="{}"').format(nonce) if nonce else Markup("")
        return Markup(
            '<link rel="stylesheet" href="{css}"{n}>\n<script src="{js}" defer{n}></script>'
        ).format(css=css, js=js, n=nonce_attr)

    def preferences_link(self, text: str | None = None) -> Markup:
        """A link that re-opens the preferences dialog, to change or withdraw consent.

        Under an honoured ``Sec-GPC: 1`` it also says "Opt-out preference signal
        honoured" (:attr:`gpc_honoured`), in the visitor's language.
        """
        notice = Markup("")
        if self.gpc_honoured:
            notice = Markup(' <span class="cookieguard-gpc-notice">({})</span>').format(
                self.messages["gpc.honoured"]
            )
        return Markup(
            '<a href="{}" class="cookieguard-preferences-link" data-cookieguard-open>{}{}</a>'
        ).format(self.preferences_href(), text or self.messages["link.preferences"], notice)

    def policy(self, format: Literal["fragment", "html", "md"] = "fragment") -> Markup:
        """The cookie policy of this site in the visitor's language (:mod:`cookieguard.policy`).

        It lists the consent cookie with the middleware's own name and lifetime.
        """
        registry = self.guard.registry
        max_age = self.guard.codec.max_age
        return Markup(policy.render(registry, format, self.lang, consent_max_age=max_age))

    def consent_mode(
        self, mapping: ConsentMapping | None = None, *, nonce: str | None = None
    ) -> Markup:
        """Google Consent Mode v2 defaults for this visitor; see :mod:`cookieguard.consent_mode`."""
        src = self.root + assets.asset_url(self.guard.consent_path, "consent-mode.js")
        return consent_script(self.consent, self.guard.registry, mapping, src=src, nonce=nonce)

    def embed(
        self,
        name: str,
        *,
        src: str,
        title: str,
        width: int | None = None,
        height: int | None = None,
        aspect_ratio: str = "16/9",
        allow: str = "encrypted-media; picture-in-picture; fullscreen",
        button: str | None = None,
        id: str | None = None,
    ) -> Markup:
        """An ``<iframe>`` of service ``name``, or a click-to-load placeholder of its size.

        When the service is allowed (:meth:`allows_service`) this is the iframe.
        Otherwise it is a placeholder naming the service and its provider, saying what
        loading it means, with a "Load video" button (``button`` to reword it) in a
        form that grants the service alone (``action=grant``): without JavaScript the
        endpoint answers ``303`` back to this page at the embed's anchor (``id``), with
        it ``cookieguard.js`` loads the iframe in place (under ``csp="enforce"``, inside
        an iframe of the frame page, :mod:`cookieguard.embedframe`). The box is
        ``width`` × ``height`` pixels at most (scaled down on narrow screens), or the full
        width at ``aspect_ratio`` (``"16/9"``), before and after loading: no jump.
        """
        registry = self.guard.registry
        if not registry.has_service(name):
            raise ValueError(f"embed() names undeclared service {name!r}")
        service = registry.service(name)
        if (width is None) != (height is None):
            raise ValueError("embed() takes width and height together, or neither")
        ratio: tuple[float, float]
        if width is not None and height is not None:
            ratio = (width, height)
        else:
            ratio = _ratio(aspect_ratio)
        anchor = id or f"cookieguard-embed-{name}-{hashlib.sha256(src.encode()).hexdigest()[:8]}"
        t = self.messages
        label = i18n.service_text(t, service, "label")
        provider = service.provider or label
        allowed = self.allows_service(name)
        # Under an enforced policy, which the page keeps until it loads again, the iframe
        # loaded in place is the frame page's, whose own policy allows the granted service.
        frame_page = None
        if not allowed and self.guard.csp is not None and self.guard.csp.mode == "enforce":
            frame_page = self.root + embedframe.frame_url(
                self.guard.consent_path, service=name, src=src, title=title, allow=allow
            )
        return self._render(
            "cookieguard/embed.html",
            service=service,
            label=label,
            provider=provider,
            text=t["embed.text"].replace("{provider}", provider).replace("{service}", label),
            allowed=allowed,
            src=src,
            title=title,
            width=width,
            height=height,
            viewbox=f"0 0 {ratio[0]:g} {ratio[1]:g}",
            allow=allow,
            button=button or t["embed.load_video"],
            anchor=anchor,
            next=f"{self.page_href()}#{anchor}",
            frame_page=frame_page,
        )

    def _render(self, template: str, **extra: Any) -> Markup:
        env = templating.environment()
        html = env.get_template(template).render(ui=self, t=self.messages, **extra)
        return Markup(html)


def _ratio(value: str) -> tuple[float, float]:
    """``"16/9"`` or ``"16:9"`` as two positive numbers."""
    wide, _, high = value.replace(":", "/").partition("/")
    try:
        ratio = (float(wide), float(high))
    except ValueError:
        raise ValueError(f"aspect_ratio must read like '16/9', got {value!r}") from None
    if not all(0 < side < float("inf") for side in ratio):
        raise ValueError(f"aspect_ratio must read like '16/9', got {value!r}")
    return ratio


def for_environ(environ: Mapping[str, Any]) -> ConsentUI:
    """The helper for a WSGI request that went through the middleware."""
    guard, consent = _installed(environ)
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return ConsentUI(
        guard,
        consent,
        path=quote(path.encode("latin-1", "replace"), safe=_PATH_SAFE) or "/",
        query_string=environ.get("QUERY_STRING", ""),
        accept_language=environ.get("HTTP_ACCEPT_LANGUAGE"),
        root=environ.get("SCRIPT_NAME", "").rstrip("/"),
    )


def for_scope(scope: MutableMapping[str, Any]) -> ConsentUI:
    """The helper for an ASGI request that went through the middleware."""
    guard, consent = _installed(scope)
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(scope.get("path", "/"), safe=_PATH_SAFE)
    language = [v for k, v in scope.get("headers", []) if k.lower() == b"accept-language"]
    return ConsentUI(
        guard,
        consent,
        path=path.partition("?")[0] or "/",
        query_string=scope.get("query_string", b"").decode("latin-1"),
        accept_language=b", ".join(language).decode("latin-1") if language else None,
    )


def _installed(request: Mapping[str, Any]) -> tuple[Guard, RequestConsent]:
    guard = request.get(GUARD_KEY)
    consent = request.get(CONSENT_KEY)
    if not isinstance(guard, Guard) or not isinstance(consent, RequestConsent):
        raise RuntimeError("cookieguard's middleware did not see this request; install it first")
    return guard, consent
