"""CSP host sources matched against URLs, as browsers match them (CSP 3, section 6.7.2.8).

One matcher for every place that asks whether a URL is on a service's hosts: the
audit (a third party no service declares) and the embed frame page (a service's
iframe, framed only from that service's hosts).
"""

from __future__ import annotations

from urllib.parse import SplitResult, unquote, urlsplit

__all__ = ["declares"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def declares(source: str, url: str) -> bool:
    """Whether the CSP host source ``source`` matches ``url`` (CSP 3, section 6.7.2.8)."""
    try:
        target = urlsplit(url)
        port = target.port or _DEFAULT_PORTS.get(target.scheme)
    except ValueError:
        return False
    scheme, sep, rest = source.partition("://")
    if not sep:
        scheme, rest = "", source
    if not _scheme_matches(scheme.lower(), target.scheme):
        return False
    host, path = rest, ""
    if "/" in rest:
        host, path = rest[: rest.index("/")], rest[rest.index("/") :]
    host, _, wanted_port = host.partition(":")
    host = host.lower().rstrip(".")
    name = (target.hostname or "").rstrip(".")
    if host.startswith("*."):
        if not name.endswith(host[1:]):
            return False
    elif host != name:
        return False
    if not _port_matches(wanted_port, port, target.scheme):
        return False
    return _path_matches(path, target)


def _scheme_matches(scheme: str, target: str) -> bool:
    if not scheme:  # the protected page's own scheme, or its secure upgrade
        return target in ("http", "https")
    upgrades = {"http": ("http", "https"), "ws": ("ws", "wss", "http", "https")}
    return target in upgrades.get(scheme, (scheme,))


def _port_matches(wanted: str, port: int | None, target: str) -> bool:
    if wanted == "*":
        return True
    if not wanted:  # the scheme's default port
        return port == _DEFAULT_PORTS.get(target)
    return port == int(wanted) or (wanted == "80" and port == 443 and target == "https")


def _path_matches(path: str, target: SplitResult) -> bool:
    if not path:
        return True
    have = unquote(target.path or "/")
    wanted = unquote(path)
    return have.startswith(wanted) if wanted.endswith("/") else have == wanted
