"""The consent endpoint, served by the middleware itself at ``consent_path``.

Framework-neutral: the adapters hand over an :class:`EndpointRequest` and send
back the :class:`EndpointResponse`. ``GET`` answers the current consent as
JSON; ``POST`` (a form or JSON) stores a new one in the signed cookie, deletes
the cookies it no longer allows, and redirects (``303``) or answers JSON.
Cross-site posts are refused, so another site cannot change a visitor's choice.
With the ``csp`` option on, ``<consent_path>/csp-report`` takes the browser's
violation reports (:func:`csp_report`), and ``<consent_path>/embed`` is the frame
page of a service's embed (:mod:`cookieguard.embedframe`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.http import dump_cookie, parse_accept_header, parse_options_header
from werkzeug.urls import iri_to_uri

from . import assets, csp, embedframe
from .consent import Consent, new_consent
from .forms import MAX_BODY, BadRequest, query_pairs, read_fields
from .guard import Guard, RequestConsent, first_value, is_gpc, logger, parse_cookies
from .response import TEXT_HEADERS, rewrite

__all__ = [
    "MAX_BODY",
    "EndpointRequest",
    "EndpointResponse",
    "body_limit",
    "csp_report",
    "handle",
    "own_paths",
]

GPC_PATH = "/.well-known/gpc.json"
ACTIONS = ("accept_all", "reject_all", "save", "grant", "revoke")
# The actions on one service (``service=<name>``), which keep the rest of the choice.
SERVICE_ACTIONS = ("grant", "revoke")
# A same-site path: one leading "/", then no "/" or "\" right after it, and no
# backslash, control character or space anywhere (browsers treat "\" as "/" and
# drop tabs and newlines, which would turn "/\tevil" into "//evil").
_SAFE_NEXT = re.compile(r"/(?![/\\])[^\\\x00-\x20\x7f]*")
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


@dataclass(frozen=True)
class EndpointRequest:
    """The parts of an HTTP request the endpoint reads. ``headers`` keys are lower-case."""

    method: str
    path: str
    scheme: str
    headers: Mapping[str, str]
    body: bytes = b""
    too_large: bool = False  # the body was over MAX_BODY and was not read whole
    query_string: str = ""
    client: str | None = None
    root: str = ""  # the mount prefix (WSGI ``SCRIPT_NAME``), which the policy's report URL carries


@dataclass(frozen=True)
class EndpointResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass(frozen=True)
class ConsentEvent:
    """A consent saved through the endpoint; what a consent log records."""

    consent: Consent
    action: str
    request: EndpointRequest
    request_consent: RequestConsent = field(repr=False)
    # The valid consent the request carried (any revision): the choice this one
    # replaces, which a consent log keeps as the record's lineage.
    previous: Consent | None = None

    @property
    def services(self) -> frozenset[str]:
        """The services granted one by one in the saved consent."""
        return self.consent.services


def header_map(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers by lower-case name; repeats joined (``Cookie`` with ``; ``, others with ``, ``)."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        name = name.lower()
        if name in headers:
            value = headers[name] + ("; " if name == "cookie" else ", ") + value
        headers[name] = value
    return headers


def own_paths(guard: Guard) -> frozenset[str]:
    """The request paths the middleware answers itself: what :func:`handle` serves.

    The adapters compute it once, so telling a request for the application from
    one of ours is a single set lookup.
    """
    base = guard.consent_path.rstrip("/")
    paths = {guard.consent_path, *(f"{base}/{name}" for name in assets.ASSETS)}
    if guard.honor_gpc:
        paths.add(GPC_PATH)
    if guard.csp is not None:
        paths |= {guard.csp.report_uri, embedframe.frame_path(guard.consent_path)}
    return frozenset(paths)


def body_limit(guard: Guard, path: str) -> int:
    """The largest body the adapters read for a request to ``path`` (one of :func:`own_paths`)."""
    if guard.csp is not None and path == guard.csp.report_uri:
        return csp.MAX_REPORT_BODY
    return MAX_BODY


def handle(
    guard: Guard, request: EndpointRequest, on_consent: Callable[[ConsentEvent], object] | None
) -> EndpointResponse:
    """Answer a request for one of the paths :func:`own_paths` lists. Never raises."""
    asset = assets.asset_name(guard.consent_path, request.path)
    if asset is not None:  # the banner's CSS and JavaScript
        return EndpointResponse(
            *assets.asset_response(
                asset,
                request.method,
                request.query_string,
                request.headers.get("if-none-match", ""),
            )
        )
    if request.path == GPC_PATH:
        body = {"gpc": True, "lastUpdate": date.today().isoformat()}
        return _json(200, body, cache="public, max-age=86400")
    if guard.csp is not None and request.path == guard.csp.report_uri:
        return csp_report(guard.csp, request)
    if guard.csp is not None and request.path == embedframe.frame_path(guard.consent_path):
        cookie, gpc = request.headers.get("cookie"), request.headers.get("sec-gpc")
        return EndpointResponse(
            *embedframe.respond(
                guard, request.method, request.query_string, cookie, gpc, root=request.root
            )
        )
    try:
        if request.method in ("GET", "HEAD"):
            state = guard.read_request(
                request.headers.get("cookie"), request.headers.get("sec-gpc")
            )
            return _json(200, _describe(guard, state.consent.consent, state.consent))
        if request.method != "POST":
            raise BadRequest(405, f"method {request.method} is not allowed; use GET or POST")
        return _save(guard, request, on_consent)
    except BadRequest as refused:
        response = _json(refused.status, {"error": str(refused)})
        if refused.status == 405:
            response.headers.append(("Allow", "GET, HEAD, POST"))
        return response


def csp_report(policy: csp.Csp, request: EndpointRequest) -> EndpointResponse:
    """Take a browser's violation reports (:meth:`cookieguard.csp.Csp.receive`): ``204``.

    Never sets a cookie; another method is ``405``, a refused body a 4xx.
    """
    if request.method != "POST":
        response = _json(405, {"error": f"method {request.method} is not allowed; use POST"})
        response.headers.append(("Allow", "POST"))
        return response
    mimetype = parse_options_header(request.headers.get("content-type", ""))[0]
    refused = policy.receive(mimetype, request.body, too_large=request.too_large)
    if refused is not None:
        return _json(refused.status, {"error": str(refused)})
    return EndpointResponse(204, [_NO_STORE])


def _save(
    guard: Guard, request: EndpointRequest, on_consent: Callable[[ConsentEvent], object] | None
) -> EndpointResponse:
    _refuse_cross_site(guard, request)
    fields, is_json = read_fields(
        request.body,
        request.headers.get("content-type", ""),
        request.query_string,
        too_large=request.too_large,
    )
    cookies = parse_cookies(request.headers.get("cookie", ""))
    previous = guard.codec.loads(first_value(cookies, guard.cookie_name))
    action, granted, services = _choice(guard, fields, previous)
    consent = new_consent(granted, guard.registry.revision, services)
    token = guard.codec.dumps(consent)
    # Judge the request's cookies against the *new* choice, so withdrawing
    # consent deletes the cookies it covered in this very response.
    state = guard.state_for(
        guard.consent_from(consent, is_gpc(request.headers.get("sec-gpc"))), cookies
    )
    body = _describe(guard, consent, state.consent)
    if is_json or _prefers_json(request.headers.get("accept", "")):
        response = _json(200, body)
    else:
        nxt = fields.get("next") or MultiDict(query_pairs(request.query_string)).get("next") or "/"
        response = EndpointResponse(303, [("Location", safe_next(nxt)), _NO_STORE], b"")
    response.headers.append(("Set-Cookie", _consent_cookie(guard, token, request.scheme)))
    headers = rewrite(guard, response.headers, state, TEXT_HEADERS)
    if on_consent is not None:
        try:
            on_consent(ConsentEvent(consent, action, request, state.consent, previous))
        except Exception:  # a failing consent log must not undo the visitor's choice
            logger.exception("on_consent callback failed for consent %s", consent.consent_id)
    return EndpointResponse(response.status, headers or response.headers, response.body)


def _refuse_cross_site(guard: Guard, request: EndpointRequest) -> None:
    headers = request.headers
    if headers.get("sec-fetch-site", "").strip().lower() == "cross-site":
        raise BadRequest(403, "cross-site consent requests are refused")
    origin = headers.get("origin")
    if origin is None:
        return
    origin = _normal_origin(origin)
    own = _origin(request.scheme, headers.get("host", ""))
    if origin != own and origin not in {_normal_origin(o) for o in guard.allowed_origins}:
        raise BadRequest(403, f"consent requests from origin {origin!r} are refused")


def _normal_origin(value: str) -> str:
    """An origin as compared: lower case, no trailing ``/``, no default port."""
    scheme, _, host = value.strip().rstrip("/").partition("://")
    return _origin(scheme, host) if host else value.strip().lower()


def _origin(scheme: str, host: str) -> str:
    """``scheme://host`` in lower case, without the scheme's default port."""
    scheme, host = scheme.strip().lower(), host.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and host.endswith(f":{default}"):
        host = host[: -len(default) - 1]
    return f"{scheme}://{host}"


Choice = tuple[str, frozenset[str], frozenset[str]]  # action, categories, services


def _choice(guard: Guard, fields: MultiDict[str, Any], previous: Consent | None) -> Choice:
    """The choice a request makes; ``previous`` is the consent it carries, if valid."""
    registry = guard.registry
    actions = fields.getlist("action")
    if len(actions) > 1:
        raise BadRequest(400, "action is given more than once")
    categories = fields.getlist("categories")
    services = fields.getlist("services")
    if not actions and "categories" not in fields and "services" not in fields:
        raise BadRequest(400, "action is missing; expected one of " + ", ".join(ACTIONS))
    action = actions[0] if actions else "save"
    if action not in ACTIONS:
        raise BadRequest(400, f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    for name in categories:
        if not registry.has_category(name):
            raise BadRequest(400, f"unknown category {name!r}")
    for name in services:
        if not registry.has_service(name):
            raise BadRequest(400, f"unknown service {name!r}")
    required = registry.required_categories
    if action in SERVICE_ACTIONS:
        return (action, *_one_service(guard, action, fields, previous))
    if action == "accept_all":
        return action, frozenset(c.name for c in registry.categories), frozenset()
    if action == "reject_all":
        return action, required, frozenset()
    return action, required | frozenset(categories), frozenset(services)


def _one_service(
    guard: Guard, action: str, fields: MultiDict[str, Any], previous: Consent | None
) -> tuple[frozenset[str], frozenset[str]]:
    """``grant`` or ``revoke`` one service, keeping the rest of the visitor's current choice."""
    registry = guard.registry
    names = fields.getlist("service")
    if len(names) != 1:
        raise BadRequest(
            400, f"action {action} takes one service=<name>, got {len(names) or 'none'}"
        )
    if "categories" in fields or "services" in fields:
        raise BadRequest(400, f"action {action} takes one service, not categories or services")
    name = names[0]
    if not registry.has_service(name):
        raise BadRequest(400, f"unknown service {name!r}")
    granted, services = registry.required_categories, frozenset[str]()
    if previous is not None and previous.revision == registry.revision:
        granted = granted | {c for c in previous.granted if registry.has_category(c)}
        services = frozenset(s for s in previous.services if registry.has_service(s))
    return granted, (services | {name}) if action == "grant" else (services - {name})


def _describe(guard: Guard, consent: Consent | None, effective: RequestConsent) -> dict[str, Any]:
    registry = guard.registry
    granted = registry.required_categories | (consent.granted if consent is not None else set())
    order = [c.name for c in registry.categories]
    services = consent.services if consent is not None else frozenset()
    return {
        "granted": [name for name in order if name in granted],
        "services": [s.name for s in registry.services if s.name in services],
        "revision": registry.revision,
        "consent_id": consent.consent_id if consent is not None else None,
        "allowed": [name for name in order if effective.allows(name)],
        "allowed_services": [s.name for s in registry.services if effective.allows_service(s.name)],
        "gpc": effective.gpc,
    }


def safe_next(target: str) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirect).

    Non-ASCII characters are percent-encoded: a ``Location`` header is latin-1 at best.
    """
    if not isinstance(target, str) or not _SAFE_NEXT.fullmatch(target):
        return "/"
    try:
        return iri_to_uri(target)
    except UnicodeError:  # a lone surrogate, say
        return "/"


def _prefers_json(accept: str) -> bool:
    if not accept:
        return False
    best = parse_accept_header(accept, MIMEAccept).best_match(["text/html", "application/json"])
    return best == "application/json"


def _consent_cookie(guard: Guard, token: str, scheme: str) -> str:
    secure = guard.secure if guard.secure is not None else scheme in ("https", "wss")
    return dump_cookie(
        guard.cookie_name,
        token,
        max_age=guard.codec.max_age,
        path="/",
        secure=secure or guard.cookie_name.startswith(("__Host-", "__Secure-")),
        httponly=True,
        samesite="Lax",
    )


_NO_STORE = ("Cache-Control", "no-store")


def _json(status: int, body: dict[str, Any], cache: str = "no-store") -> EndpointResponse:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(data))),
        ("Cache-Control", cache),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return EndpointResponse(status, headers, data)
