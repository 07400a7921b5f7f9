"""What the audit produces: the report, its findings, and the lifetimes it reads."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, overload

from ..setcookie import read_attributes

__all__ = [
    "CNIL_MAX_LIFETIME",
    "AuditReport",
    "ConsentState",
    "Finding",
    "FindingKind",
    "GuardOutcome",
    "Interface",
    "Observation",
    "cookie_lifetime",
    "declared_lifetime",
]

#: The CNIL's ceiling for a tracker's lifetime, 13 months, counted at their
#: longest (a year and a 31-day month) so that no honest "13 months" is flagged.
CNIL_MAX_LIFETIME = 397 * 86_400

Interface = Literal["wsgi", "asgi"]
FindingKind = Literal["undeclared", "leak", "long-lived", "error", "third-party", "unused-host"]
GuardOutcome = Literal["passed", "stripped", "bypassed"]
_UNIT_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3_600,
    "day": 86_400,
    "week": 7 * 86_400,
    "month": 2_629_800,  # a twelfth of a Julian year
    "year": 31_557_600,
}
# RFC 6265 section 5.2.2: an optional "-" and ASCII digits, or the attribute is ignored.
_DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(second|minute|hour|day|week|month|year)s?", re.IGNORECASE
)

# -- what the audit produces -------------------------------------------------------


@dataclass(frozen=True)
class ConsentState:
    """One consent a visitor can be in: ``granted`` is None for no consent cookie at all.

    ``services`` are the services granted one by one (``service:youtube``).
    """

    name: str
    granted: frozenset[str] | None
    services: frozenset[str] = frozenset()


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


class _FindingsOf:
    """A read-only attribute of the report: its findings of one kind, in report order."""

    def __init__(self, kind: FindingKind) -> None:
        self.kind: FindingKind = kind

    @overload
    def __get__(self, report: None, owner: type[AuditReport]) -> _FindingsOf: ...

    @overload
    def __get__(self, report: AuditReport, owner: type[AuditReport]) -> tuple[Finding, ...]: ...

    def __get__(
        self, report: AuditReport | None, owner: type[AuditReport]
    ) -> _FindingsOf | tuple[Finding, ...]:
        return self if report is None else report._of(self.kind)


@dataclass(frozen=True)
class AuditReport:
    """Every cookie seen and every finding; ``clean`` when nothing must be fixed."""

    app: str
    """The application audited, as named on the command line (``module:attribute``)."""
    interface: Interface
    """``wsgi`` or ``asgi``: how the application was called."""
    guarded: bool
    """Whether the application is wrapped in cookieguard's middleware."""
    paths: tuple[str, ...]
    """The paths requested, in each consent state."""
    states: tuple[str, ...]
    """The consent states the paths were requested in (``none``, ``all``, each category...)."""
    observations: tuple[Observation, ...]
    """Every cookie seen, one per response that set it."""
    findings: tuple[Finding, ...]
    """What to fix or look at, in report order."""
    revision: int
    """The revision of the registry the findings judge by."""

    undeclared = _FindingsOf("undeclared")
    leaks = _FindingsOf("leak")
    long_lived = _FindingsOf("long-lived")
    errors = _FindingsOf("error")
    third_parties = _FindingsOf("third-party")
    unused_hosts = _FindingsOf("unused-host")

    def _of(self, kind: FindingKind) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == kind)

    @property
    def clean(self) -> bool:
        """No undeclared cookie, no leak, no error, no undeclared third party.

        Long lifetimes and unused service hosts are warnings.
        """
        return not (self.undeclared or self.leaks or self.errors or self.third_parties)

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
            for kind in ("undeclared", "leak", "error", "third-party", "long-lived", "unused-host")
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
    """Seconds a ``Set-Cookie`` keeps its cookie (``Max-Age``, else ``Expires``); None: session.

    Read by :func:`cookieguard.setcookie.read_attributes`, as Chromium reads them.
    """
    attributes = read_attributes(set_cookie.partition(";")[2])
    if attributes.max_age_seconds is not None:
        return float(attributes.max_age_seconds)
    if attributes.expires is not None:
        return attributes.expires - (time.time() if now is None else now)
    return None


def declared_lifetime(duration: str) -> float | None:
    """Seconds in a declared duration such as ``"13 months"``; None when it is not one."""
    match = _DURATION.fullmatch(duration.strip())
    if match is None:
        return None
    return float(match[1].replace(",", ".")) * _UNIT_SECONDS[match[2].lower()]
