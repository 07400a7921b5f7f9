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
  that audits nothing) or a 5xx;
- **third parties** a page loads (scripts, frames, images, media, stylesheets on
  another host) that no service declares, and service hosts that no page loads
  from (a warning): see :mod:`~cookieguard.audit.hosts`.

When the app is wrapped in cookieguard, the consent cookies are signed with its
own key, and the audit calls copies of the objects on the way to the middleware,
the last a copy of the middleware around a recorder of what the app sets: the
application itself is never changed. When it is not wrapped, pass the registry:
the audit then runs the app behind a throwaway cookieguard to show what the
middleware would strip.

The package: :mod:`~cookieguard.audit.report` (what the audit produces, and the
lifetimes it reads), :mod:`~cookieguard.audit.drive` (finding the middleware,
recorders, the in-process clients), :mod:`~cookieguard.audit.rules` (the
consent states and the findings).

.. code-block:: python

    from cookieguard.audit import audit_app

    def test_no_cookie_without_consent():
        report = audit_app(app, paths=["/", "/shop"])
        assert report.clean, report.to_text()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..guard import Guard
from ..registry import Registry
from .drive import Client, client, find_middleware, harness, interface_of
from .hosts import host_findings, loaded_urls, third_parties
from .report import (
    CNIL_MAX_LIFETIME,
    AuditReport,
    ConsentState,
    Finding,
    Interface,
    Observation,
    cookie_lifetime,
    declared_lifetime,
)
from .rules import consent_states, error, findings, observe, state_consent

__all__ = [
    "CNIL_MAX_LIFETIME",
    "AuditReport",
    "ConsentState",
    "Finding",
    "Observation",
    "audit_app",
    "audit_with",
    "consent_states",
    "cookie_lifetime",
    "declared_lifetime",
    "find_middleware",
    "interface_of",
]


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
    is needed only when the app is not wrapped in cookieguard, and for a wrapped
    app may only be the middleware's own (another is a ``ValueError``). ``app`` is
    left unchanged. ``progress`` is called with each path before it is audited.
    """
    interface = interface_of(app)
    paths = tuple(paths)
    if not paths or any(not p.startswith("/") for p in paths):
        raise ValueError(f"paths must be non-empty and start with '/', got {paths!r}")
    run = harness(app, interface, registry)
    return audit_with(
        client(run.target, interface),
        run.recorder.seen,
        run.guard,
        paths,
        guarded=run.guarded,
        app=name or _describe(app),
        interface=interface,
        progress=progress,
    )


def audit_with(
    calls: Client,
    seen: list[str],
    guard: Guard,
    paths: Sequence[str],
    *,
    guarded: bool,
    app: str,
    interface: Interface,
    progress: Callable[[str], object] | None = None,
) -> AuditReport:
    """The audit's loop, for any client: each path under every consent state, then the report.

    ``calls.get(path, cookie)`` serves one request and gives its status and the
    ``Set-Cookie`` values that reached the client; ``seen`` is where the
    recorder inside the middleware lists what the application set (it is
    cleared before each request). ``calls`` is closed at the end. :func:`audit_app`
    drives WSGI and ASGI apps with it; ``manage.py cookieguard_audit`` Django's
    test client.
    """
    states = consent_states(guard.registry)
    observations: list[Observation] = []
    errors: list[Finding] = []
    loaded: dict[str, dict[str, list[str]]] = {}  # path -> state -> third-party URLs
    try:
        for path in paths:
            if progress is not None:
                progress(path)
            for state in states:
                cookie = None
                consent = state_consent(state, guard.registry.revision)
                if consent is not None:
                    cookie = f"{guard.cookie_name}={guard.codec.dumps(consent)}"
                seen.clear()
                try:
                    status, out = calls.get(path, cookie)
                except Exception as exc:
                    errors.append(error(path, state.name, f"raised {type(exc).__name__}: {exc}"))
                    continue
                if status == 404 or status >= 500:
                    errors.append(error(path, state.name, f"answered {status}"))
                if calls.html is not None:
                    urls = third_parties(loaded_urls(calls.html))
                    loaded.setdefault(path, {})[state.name] = urls
                observations += observe(guard, path, state, seen, out, guarded=guarded)
    finally:
        calls.close()
    return AuditReport(
        app=app,
        interface=interface,
        guarded=guarded,
        revision=guard.registry.revision,
        paths=tuple(paths),
        states=tuple(s.name for s in states),
        observations=tuple(observations),
        findings=tuple(errors)
        + findings(guard.registry, observations)
        + host_findings(guard.registry, guard.csp.sources if guard.csp else {}, loaded),
    )


def _describe(app: object) -> str:
    module = getattr(app, "__module__", None) or type(app).__module__
    return f"{module}:{getattr(app, '__name__', type(app).__name__)}"
