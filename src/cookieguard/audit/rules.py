"""The consent states the audit visits, and the findings it draws from what it saw."""

from __future__ import annotations

import time
from collections.abc import Iterable

from ..consent import Consent, new_consent
from ..guard import Guard
from ..registry import Registry
from ..setcookie import is_deletion, set_cookie_name
from .report import (
    CNIL_MAX_LIFETIME,
    ConsentState,
    Finding,
    GuardOutcome,
    Observation,
    cookie_lifetime,
    declared_lifetime,
)

__all__ = ["consent_states", "error", "findings", "observe", "state_consent"]

_KIND_ORDER: dict[str, int] = {"error": 0, "undeclared": 1, "leak": 2, "long-lived": 3}


def consent_states(registry: Registry) -> tuple[ConsentState, ...]:
    """None, the required categories only, each optional category alone, each service
    of an optional category granted one by one (``service:<name>``), and all."""
    optional = [c.name for c in registry.categories if not c.required]
    return (
        ConsentState("none", None),
        ConsentState("necessary-only", frozenset()),
        *(ConsentState(f"only:{name}", frozenset({name})) for name in optional),
        *(
            ConsentState(f"service:{s.name}", frozenset(), frozenset({s.name}))
            for s in registry.services
            if not registry.is_required(s.category)
        ),
        ConsentState("all", frozenset(optional)),
    )


def state_consent(state: ConsentState, revision: int) -> Consent | None:
    """The consent a visitor in ``state`` carries (None: no consent cookie)."""
    if state.granted is None:
        return None
    return new_consent(state.granted, revision, state.services)


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


def observe(
    guard: Guard,
    path: str,
    state: ConsentState,
    from_app: list[str],
    out: list[str],
    *,
    guarded: bool,
) -> list[Observation]:
    """One observation per cookie name in this response."""
    registry = guard.registry
    consent = guard.consent_from(state_consent(state, registry.revision), gpc=False)
    set_by_app, passed = _set_cookies(from_app), _set_cookies(out)
    # For a wrapped app ``out`` is what reached the client; otherwise it is what a
    # cookieguard would let through, and the client got everything the app set.
    reached = passed if guarded else set_by_app
    observations = []
    for name in dict.fromkeys([*set_by_app, *passed]):
        category = registry.category_of(name)
        service = registry.service_of(name)
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
                # A cookie of a service is consented to by its category or by the service.
                consented=category is not None
                and (
                    consent.allows(category)
                    or (service is not None and consent.allows_service(service))
                ),
                set_by_app=name in set_by_app,
                reached_client=name in reached,
                guard=outcome,
                lifetime=max((x for x in lifetimes if x is not None), default=None),
            )
        )
    return observations


def error(path: str, state: str, what: str) -> Finding:
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


def findings(registry: Registry, observations: list[Observation]) -> tuple[Finding, ...]:
    found: list[Finding] = []
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
            found.append(
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
            found.append(
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
    found += _long_lived(registry, observations)
    found.sort(key=lambda f: (_KIND_ORDER[f.kind], f.path or "", f.name))
    return tuple(found)


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
