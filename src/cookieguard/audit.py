"""Audit an application's cookies in-process: learn in CI, not from a regulator.

:func:`audit_app` calls a WSGI or ASGI application directly (no server, no
network) for each path under every consent state a visitor can be in — no
consent, the required categories only, each optional category alone, and
everything — and records every ``Set-Cookie`` twice: what the application
tried to set, and what reached the client. It finds:

- **undeclared** cookies, which the registry does not list;
- **leaks**, cookies of a category the visitor did not consent to that reached
  the client (an app not wrapped in cookieguard leaks whatever it sets);
- **long-lived** cookies of an optional category, kept longer than the 13 months
  the CNIL allows (a warning: it fails the audit only when ``strict``);
- **errors**, requests the application raised on, or answered with a 404 (a path
  that audits nothing) or a 5xx.

When the app is wrapped in cookieguard, the consent cookies are signed with its
own key and the audit briefly wraps the middleware's inner application to record
what it sets. When it is not, pass the registry: the audit then also runs the app
behind a throwaway cookieguard to show what the middleware would strip.

.. code-block:: python

    from cookieguard.audit import audit_app

    def test_no_cookie_without_consent():
        report = audit_app(app, paths=["/", "/shop"])
        assert report.clean, report.to_text()
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol
from urllib.parse import unquote

from werkzeug.http import parse_date
from werkzeug.test import EnvironBuilder, run_wsgi_app

from . import asgi, wsgi
from .consent import new_consent
from .guard import Guard, is_deletion, set_cookie_name
from .registry import Registry

__all__ = [
    "CNIL_MAX_LIFETIME",
    "AuditReport",
    "ConsentState",
    "Finding",
    "Observation",
    "audit_app",
    "consent_states",
    "cookie_lifetime",
    "declared_lifetime",
    "find_middleware",
    "interface_of",
]

#: The CNIL's ceiling for a tracker's lifetime, 13 months, counted at their
#: longest (a year and a 31-day month) so that no honest "13 months" is flagged.
CNIL_MAX_LIFETIME = 397 * 86_400

Interface = Literal["wsgi", "asgi"]
FindingKind = Literal["undeclared", "leak", "long-lived", "error"]
GuardOutcome = Literal["passed", "stripped", "bypassed"]
Middleware = wsgi.CookieGuardMiddleware | asgi.CookieGuardMiddleware

_KIND_ORDER: dict[str, int] = {"error": 0, "undeclared": 1, "leak": 2, "long-lived": 3}
_UNIT_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3_600,
    "day": 86_400,
    "week": 7 * 86_400,
    "month": 2_629_800,  # a twelfth of a Julian year
    "year": 31_557_600,
}
_DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(second|minute|hour|day|week|month|year)s?", re.IGNORECASE
)
_CONSENT_KEY = "cookieguard.consent"
# How deep to look for the middleware through wrappers (``.app``, ``.wsgi_app``...).
_MAX_DEPTH = 64


# -- what the audit produces -------------------------------------------------------


@dataclass(frozen=True)
class ConsentState:
    """One consent a visitor can be in: ``granted`` is None for no consent cookie at all."""

    name: str
    granted: frozenset[str] | None


@dataclass(frozen=True)
class Observation:
    """One cookie in one response: the path, the consent state, and what became of it.

    ``guard`` is what cookieguard did with it: ``passed``, ``stripped``, or
    ``bypassed`` (it reached the client without going through the middleware,
    set by a layer outside it). For an app that is not wrapped, ``guard`` is
    what a cookieguard would do, and everything the app sets reaches the client.
    """

    path: str
    state: str
    name: str
    category: str | None
    consented: bool
    set_by_app: bool
    reached_client: bool
    guard: GuardOutcome
    lifetime: float | None  # seconds; None for a session cookie


@dataclass(frozen=True)
class Finding:
    """Something to fix (or, for ``long-lived``, to look at), with a readable message."""

    kind: FindingKind
    name: str
    category: str | None
    path: str | None
    states: tuple[str, ...]
    reached_client: bool
    message: str


@dataclass(frozen=True)
class AuditReport:
    """Every cookie seen and every finding; ``clean`` when nothing must be fixed."""

    app: str
    interface: Interface
    guarded: bool
    revision: int
    paths: tuple[str, ...]
    states: tuple[str, ...]
    observations: tuple[Observation, ...]
    findings: tuple[Finding, ...]

    def _of(self, kind: FindingKind) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == kind)

    @property
    def undeclared(self) -> tuple[Finding, ...]:
        return self._of("undeclared")

    @property
    def leaks(self) -> tuple[Finding, ...]:
        return self._of("leak")

    @property
    def long_lived(self) -> tuple[Finding, ...]:
        return self._of("long-lived")

    @property
    def errors(self) -> tuple[Finding, ...]:
        return self._of("error")

    @property
    def clean(self) -> bool:
        """No undeclared cookie, no leak, no error (long lifetimes are warnings)."""
        return not (self.undeclared or self.leaks or self.errors)

    def exit_code(self, *, strict: bool = False) -> int:
        """0 when clean, 1 otherwise; ``strict`` also fails on long-lived cookies."""
        return 0 if self.clean and not (strict and self.long_lived) else 1

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["clean"] = self.clean
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n"

    def to_text(self) -> str:
        wrapped = "wrapped in cookieguard" if self.guarded else "NOT wrapped in cookieguard"
        lines = [
            f"cookieguard audit of {self.app} ({self.interface.upper()}, {wrapped}, "
            f"registry revision {self.revision})",
            f"consent states: {', '.join(self.states)}",
        ]
        for path in self.paths:
            lines += ["", f"GET {path}"]
            seen = [o for o in self.observations if o.path == path]
            if not seen:
                lines.append("  no cookie set")
            width = max((len(f"{o.name}  [{o.category or 'UNDECLARED'}]") for o in seen), default=0)
            for name in dict.fromkeys(o.name for o in seen):
                mine = [o for o in seen if o.name == name]
                label = f"{name}  [{mine[0].category or 'UNDECLARED'}]".ljust(width)
                set_in = _states_text([o.state for o in mine if o.set_by_app], self.states)
                reached = _states_text([o.state for o in mine if o.reached_client], self.states)
                line = f"  {label}  set in: {set_in}; reached the client in: {reached}"
                if any(o.guard == "bypassed" for o in mine):
                    line += "; set outside cookieguard, which never saw it"
                if not self.guarded:
                    passed = _states_text(
                        [o.state for o in mine if o.guard == "passed"], self.states
                    )
                    line += f"; cookieguard would let it through in: {passed}"
                lines.append(line)
        lines += ["", "findings:" if self.findings else "findings: none"]
        lines += [f"  {f.kind:<10}  {f.message}" for f in self.findings]
        counts = ", ".join(
            f"{len(self._of(kind))} {kind}"
            for kind in ("undeclared", "leak", "error", "long-lived")
        )
        lines += ["", f"result: {'clean' if self.clean else 'NOT CLEAN'} ({counts})"]
        return "\n".join(lines) + "\n"


def _states_text(states: Sequence[str], every: Sequence[str]) -> str:
    if not states:
        return "none of the states"
    if len(states) == len(every):
        return "every state"
    return ", ".join(states)


# -- lifetimes ---------------------------------------------------------------------


def cookie_lifetime(set_cookie: str, now: float | None = None) -> float | None:
    """Seconds a ``Set-Cookie`` keeps its cookie (``Max-Age``, else ``Expires``); None: session."""
    max_age: float | None = None
    expires: float | None = None
    for attribute in set_cookie.split(";")[1:]:
        key, _, value = attribute.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key == "max-age" and value.lstrip("-").isdigit():
            max_age = float(value)
        elif key == "expires":
            date = parse_date(value)
            if date is not None:
                expires = date.timestamp() - (time.time() if now is None else now)
    return max_age if max_age is not None else expires


def declared_lifetime(duration: str) -> float | None:
    """Seconds in a declared duration such as ``"13 months"``; None when it is not one."""
    match = _DURATION.fullmatch(duration.strip())
    if match is None:
        return None
    return float(match[1].replace(",", ".")) * _UNIT_SECONDS[match[2].lower()]


# -- finding and calling the application ---------------------------------------------


def interface_of(app: object) -> Interface:
    """``asgi`` for a coroutine ``app(scope, receive, send)``, ``wsgi`` for a plain callable."""
    if isinstance(app, asgi.CookieGuardMiddleware):
        return "asgi"
    if isinstance(app, wsgi.CookieGuardMiddleware) or hasattr(app, "wsgi_app"):
        return "wsgi"  # a Flask app, or any object with Werkzeug's convention
    if not callable(app) or isinstance(app, type):
        raise TypeError(f"{app!r} is not a WSGI or ASGI application")
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    return "asgi" if inspect.iscoroutinefunction(call) else "wsgi"


def find_middleware(app: object) -> Middleware | None:
    """The cookieguard middleware wrapping ``app``, looked for through common wrappers.

    Follows Flask's ``extensions["cookieguard"]``, ``wsgi_app``, Starlette's
    middleware stack (built the way Starlette builds it on its first request)
    and the ``app`` attribute middleware conventionally keep.
    """
    seen: set[int] = set()
    todo: list[object] = [app]
    while todo and len(seen) < _MAX_DEPTH:
        obj = todo.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (wsgi.CookieGuardMiddleware, asgi.CookieGuardMiddleware)):
            return obj
        extensions = getattr(obj, "extensions", None)
        if isinstance(extensions, dict):
            found = extensions.get("cookieguard")
            if isinstance(found, (wsgi.CookieGuardMiddleware, asgi.CookieGuardMiddleware)):
                return found
        build = getattr(obj, "build_middleware_stack", None)
        if callable(build) and getattr(obj, "middleware_stack", False) is None:
            obj.middleware_stack = build()  # type: ignore[attr-defined]
        for attribute in ("wsgi_app", "middleware_stack", "app"):
            child = getattr(obj, attribute, None)
            if child is not None and not isinstance(child, (str, bytes, int)):
                todo.append(child)
    return None


class _WsgiRecorder:
    """Passes a WSGI app through, noting the ``Set-Cookie`` values it sends.

    ``unguarded``: the app runs without cookieguard in production, so it must not
    see the consent the audit's own middleware found.
    """

    def __init__(self, app: Any, *, unguarded: bool = False) -> None:
        self.app = app
        self.unguarded = unguarded
        self.seen: list[str] = []

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if self.unguarded:
            environ.pop(_CONSENT_KEY, None)

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.seen.extend(v for k, v in headers if k.lower() == "set-cookie")
            return start_response(status, headers, exc_info)

        return self.app(environ, recording)


class _AsgiRecorder:
    """Passes an ASGI app through, noting the ``Set-Cookie`` values it sends (see above)."""

    def __init__(self, app: Any, *, unguarded: bool = False) -> None:
        self.app = app
        self.unguarded = unguarded
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.unguarded:
            scope = {k: v for k, v in scope.items() if k != _CONSENT_KEY}

        async def recording(message: Any) -> None:
            if message["type"] == "http.response.start":
                for key, value in message.get("headers") or ():
                    if key.lower() == b"set-cookie":
                        self.seen.append(value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, recording)


class _Client(Protocol):
    def get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        """The response's status and its ``Set-Cookie`` values."""
        ...

    def close(self) -> None: ...


class _WsgiClient:
    def __init__(self, app: Any) -> None:
        self.app = app

    def get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        headers = [("Cookie", cookie)] if cookie else []
        builder = EnvironBuilder(path=path, headers=headers)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        _, status, sent = run_wsgi_app(self.app, environ, buffered=True)
        return int(status.split(None, 1)[0]), sent.getlist("Set-Cookie")

    def close(self) -> None:
        pass


class _AsgiClient:
    """Calls an ASGI app on a private event loop, with its lifespan run around the requests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.state: dict[str, Any] = {}
        self.lifespan: asyncio.Task[None] | None = None
        self.to_app: asyncio.Queue[dict[str, Any]] | None = None
        self.from_app: asyncio.Queue[dict[str, Any]] | None = None
        try:
            self.loop.run_until_complete(self._lifespan("startup"))
        except BaseException:
            self.loop.close()
            raise

    async def _lifespan(self, event: str) -> None:
        if event == "startup":
            self.to_app, self.from_app = asyncio.Queue(), asyncio.Queue()
            scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
            self.lifespan = asyncio.ensure_future(
                self.app(scope, self.to_app.get, self.from_app.put)
            )
        if self.lifespan is None or self.to_app is None or self.from_app is None:
            return
        await self.to_app.put({"type": f"lifespan.{event}"})
        reply = asyncio.ensure_future(self.from_app.get())
        await asyncio.wait({reply, self.lifespan}, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():  # the app does not speak lifespan: fine, as for any server
            reply.cancel()
            if not self.lifespan.cancelled():
                self.lifespan.exception()
            self.lifespan = None
            return
        message = reply.result()
        if message["type"] == f"lifespan.{event}.failed":
            raise RuntimeError(f"the application's {event} failed: {message.get('message', '')}")
        if event == "shutdown":  # let the lifespan task end before the loop closes
            await asyncio.gather(self.lifespan, return_exceptions=True)

    def get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        return self.loop.run_until_complete(self._get(path, cookie))

    async def _get(self, path: str, cookie: str | None) -> tuple[int, list[str]]:
        path_only, _, query = path.partition("?")
        headers = [(b"host", b"localhost")]
        if cookie:
            headers.append((b"cookie", cookie.encode("latin-1")))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": unquote(path_only),
            "raw_path": path_only.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50_000),
            "server": ("localhost", 80),
            "state": dict(self.state),
        }
        requested = False
        finished = asyncio.Event()
        set_cookies: list[str] = []
        status = 500  # an app that never starts its response failed

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers") or ():
                    if key.lower() == b"set-cookie":
                        set_cookies.append(value.decode("latin-1"))
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished.set()

        try:
            await self.app(scope, receive, send)
        finally:
            finished.set()
        return status, set_cookies

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self._lifespan("shutdown"))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


@contextmanager
def _recording(app: Any, interface: Interface, middleware: Middleware | None) -> Iterator[Any]:
    """Put a recorder right inside the middleware for the audit's duration."""
    recorder: _WsgiRecorder | _AsgiRecorder
    if middleware is None:
        recorder = (_WsgiRecorder if interface == "wsgi" else _AsgiRecorder)(app, unguarded=True)
        yield recorder
        return
    inner = middleware.app
    recorder = _WsgiRecorder(inner) if interface == "wsgi" else _AsgiRecorder(inner)
    middleware.app = recorder
    try:
        yield recorder
    finally:
        middleware.app = inner


# -- the audit -----------------------------------------------------------------------


def consent_states(registry: Registry) -> tuple[ConsentState, ...]:
    """None, the required categories only, each optional category alone, and all."""
    optional = [c.name for c in registry.categories if not c.required]
    return (
        ConsentState("none", None),
        ConsentState("necessary-only", frozenset()),
        *(ConsentState(f"only:{name}", frozenset({name})) for name in optional),
        ConsentState("all", frozenset(optional)),
    )


def _set_cookies(values: Iterable[str]) -> dict[str, float | None]:
    """Cookie names set (deletions left out), with the longest lifetime each was given."""
    now = time.time()
    found: dict[str, float | None] = {}
    for value in values:
        if is_deletion(value, now):
            continue
        name = set_cookie_name(value)
        lifetime = cookie_lifetime(value, now)
        previous = found.get(name)
        found[name] = lifetime if previous is None else max(previous, lifetime or 0.0)
    return found


def audit_app(
    app: Any,
    registry: Registry | None = None,
    paths: Iterable[str] = ("/",),
    *,
    name: str | None = None,
    progress: Callable[[str], object] | None = None,
) -> AuditReport:
    """Call ``app`` for each of ``paths`` under every consent state and report its cookies.

    A wrapped app is audited with its middleware's registry and key; ``registry``
    is needed only when the app is not wrapped in cookieguard. ``progress`` is
    called with each path before it is audited.
    """
    interface = interface_of(app)
    middleware = find_middleware(app)
    paths = tuple(paths)
    if not paths or any(not p.startswith("/") for p in paths):
        raise ValueError(f"paths must be non-empty and start with '/', got {paths!r}")
    if middleware is None and registry is None:
        raise ValueError(
            "the app is not wrapped in cookieguard: pass the registry to audit it against"
        )
    observations: list[Observation] = []
    errors: list[Finding] = []
    with _recording(app, interface, middleware) as recorder:
        if middleware is None:
            assert registry is not None
            guarded_app: Any = (asgi if interface == "asgi" else wsgi).CookieGuardMiddleware(
                recorder, registry=registry, secret_key=secrets.token_urlsafe(32)
            )
            guard: Guard = guarded_app.guard
            target = guarded_app
        else:
            guard, target = middleware.guard, app
        states = consent_states(guard.registry)
        client: _Client = _AsgiClient(target) if interface == "asgi" else _WsgiClient(target)
        try:
            for path in paths:
                if progress is not None:
                    progress(path)
                for state in states:
                    cookie = None
                    if state.granted is not None:
                        consent = new_consent(state.granted, guard.registry.revision)
                        cookie = f"{guard.cookie_name}={guard.codec.dumps(consent)}"
                    recorder.seen.clear()
                    try:
                        status, out = client.get(path, cookie)
                    except Exception as exc:
                        errors.append(
                            _error(path, state.name, f"raised {type(exc).__name__}: {exc}")
                        )
                        continue
                    if status == 404 or status >= 500:
                        errors.append(_error(path, state.name, f"answered {status}"))
                    observations += _observe(
                        guard, path, state, recorder.seen, out, guarded=middleware is not None
                    )
        finally:
            client.close()
    return AuditReport(
        app=name or _describe(app),
        interface=interface,
        guarded=middleware is not None,
        revision=guard.registry.revision,
        paths=paths,
        states=tuple(s.name for s in states),
        observations=tuple(observations),
        findings=tuple(errors) + _findings(guard.registry, observations),
    )


def _observe(
    guard: Guard,
    path: str,
    state: ConsentState,
    from_app: list[str],
    out: list[str],
    *,
    guarded: bool,
) -> list[Observation]:
    """One observation per cookie name in this response."""
    consent = guard.consent_from(
        None if state.granted is None else new_consent(state.granted, guard.registry.revision),
        gpc=False,
    )
    set_by_app, passed = _set_cookies(from_app), _set_cookies(out)
    # For a wrapped app ``out`` is what reached the client; otherwise it is what a
    # cookieguard would let through, and the client got everything the app set.
    reached = passed if guarded else set_by_app
    observations = []
    for name in dict.fromkeys([*set_by_app, *passed]):
        category = guard.registry.category_of(name)
        lifetimes = [set_by_app.get(name), passed.get(name)]
        outcome: GuardOutcome = (
            "bypassed" if name not in set_by_app else "passed" if name in passed else "stripped"
        )
        observations.append(
            Observation(
                path=path,
                state=state.name,
                name=name,
                category=category,
                consented=category is not None and consent.allows(category),
                set_by_app=name in set_by_app,
                reached_client=name in reached,
                guard=outcome,
                lifetime=max((x for x in lifetimes if x is not None), default=None),
            )
        )
    return observations


def _error(path: str, state: str, what: str) -> Finding:
    """A request that did not give a page to audit (an exception, a 404, a 5xx)."""
    return Finding(
        kind="error",
        name="",
        category=None,
        path=path,
        states=(state,),
        reached_client=False,
        message=f"GET {path} {what} (state {state})",
    )


def _findings(registry: Registry, observations: list[Observation]) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    groups: dict[tuple[str, str], list[Observation]] = {}
    for o in observations:
        groups.setdefault((o.path, o.name), []).append(o)
    for (path, name), group in groups.items():
        category = group[0].category
        if category is None:
            reached = [o.state for o in group if o.reached_client]
            fate = (
                f"reached the client in: {', '.join(reached)}"
                if reached
                else "stripped before reaching the client"
            )
            findings.append(
                Finding(
                    "undeclared",
                    name,
                    None,
                    path,
                    tuple(o.state for o in group),
                    bool(reached),
                    f"{name!r} on GET {path} is not in the registry; {fate}",
                )
            )
            continue
        leaked = tuple(o.state for o in group if o.reached_client and not o.consented)
        if leaked:
            findings.append(
                Finding(
                    "leak",
                    name,
                    category,
                    path,
                    leaked,
                    True,
                    f"{name!r} ({category}) on GET {path} reached the client without consent "
                    f"in: {', '.join(leaked)}",
                )
            )
    findings += _long_lived(registry, observations)
    findings.sort(key=lambda f: (_KIND_ORDER[f.kind], f.path or "", f.name))
    return tuple(findings)


def _long_lived(registry: Registry, observations: list[Observation]) -> list[Finding]:
    """Optional-category cookies kept over 13 months, as set or as declared."""
    findings: list[Finding] = []
    flagged: set[str] = set()
    for o in observations:
        if (
            o.category is None
            or registry.is_required(o.category)
            or o.lifetime is None
            or o.lifetime <= CNIL_MAX_LIFETIME
            or o.name in flagged
        ):
            continue
        flagged.add(o.name)
        findings.append(
            Finding(
                "long-lived",
                o.name,
                o.category,
                o.path,
                (o.state,),
                o.reached_client,
                f"{o.name!r} ({o.category}) on GET {o.path} is set for {o.lifetime / 86_400:.0f} "
                "days, over the 13 months the CNIL allows",
            )
        )
    for cookie in registry.cookies:
        seconds = declared_lifetime(cookie.duration)
        if (
            seconds is None
            or seconds <= CNIL_MAX_LIFETIME
            or registry.is_required(cookie.category)
            or cookie.name in flagged
        ):
            continue
        findings.append(
            Finding(
                "long-lived",
                cookie.name,
                cookie.category,
                None,
                (),
                False,
                f"{cookie.name!r} ({cookie.category}) is declared for {cookie.duration!r}, "
                "over the 13 months the CNIL allows",
            )
        )
    return findings


def _describe(app: object) -> str:
    module = getattr(app, "__module__", None) or type(app).__module__
    return f"{module}:{getattr(app, '__name__', type(app).__name__)}"
