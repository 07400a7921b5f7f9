"""The header rewrite: what of a response's headers may leave, and what is added.

:func:`rewrite` is the one function both adapters (and the consent endpoint)
call on a response's headers. It

- sends no header that a browser could read as a ``Set-Cookie`` unjudged: names
  are matched case-insensitively, and a name that is not an RFC 9110 token but
  that a server writing headers verbatim would turn into a ``Set-Cookie`` line
  (``"Set-Cookie "``, ``"Set-Cookie\\t"``, ``"Set-Cookie:"``) is judged as one;
  any other name that is not a token is dropped;
- sends no ``Set-Cookie`` whose value holds CR, LF or NUL, and under WSGI no
  header at all with them (wsgiref and Werkzeug's server write values verbatim:
  the browser would read a new header). ASGI servers refuse such a value
  themselves (h11, httptools, h2 raise; uvicorn answers 500), so there only
  ``Set-Cookie`` values are checked, and a name with them is never a token;
- reads header names and values given as ``str``, ``bytes``, ``bytearray`` or
  ``memoryview`` alike (ASGI servers accept several): every ``Set-Cookie`` is
  judged whatever its spelling (one it cannot read as it is makes it judge the
  list normalised to the adapter's type); another header passes with its value
  as the application spelled it, as the server would take it without the
  middleware. It drops what is not a name-value pair of text, and never raises
  on what an application sends;
- removes each ``Set-Cookie`` whose cookie the visitor did not consent to and
  replaces a deletion of such a cookie by the middleware's own canonical one
  (:func:`cookieguard.setcookie.deletion`: empty, ``Max-Age=0``, a past
  ``Expires``, the application's ``Path``, ``Domain``, ``Secure``,
  ``SameSite``, ``Partitioned``), so that no disguised deletion plants a cookie;
- appends, after every header of the application, the deletion of each cookie
  the request carries that is not allowed now (rule 6, whatever the application
  sent for that name), and a ``Vary`` when it changed anything;
- with the ``csp`` option on, appends to an HTML response (a ``Content-Type`` of
  ``text/html`` or ``application/xhtml+xml``, parameters and case aside) the
  policy of :mod:`cookieguard.csp` for this consent, and a ``Vary``; the
  application's own policy headers pass as they are.

Headers are returned as ``(name, value)`` tuples of the adapter's type
(``str`` for WSGI, ``bytes`` for ASGI).
"""

from __future__ import annotations

from collections.abc import Sequence
from logging import DEBUG
from typing import Any, cast

from werkzeug.http import parse_options_header

from .. import setcookie
from .._cache import memoize
from ..guard import Guard, logger
from ..state import RequestState, Verdict, withdrawal_text
from .kinds import BYTES_HEADERS, HTTP_WS, SET_COOKIE, TEXT_HEADERS, VARY, H, HeaderKind, classify
from .normalize import normalize

__all__ = ["BYTES_HEADERS", "TEXT_HEADERS", "HeaderKind", "normalize", "rewrite"]

# The document types a policy applies to (a browser renders both, and runs their scripts).
_DOCUMENTS = frozenset({"text/html", "application/xhtml+xml"})


class _Unclean(Exception):
    """A header the fast loop cannot take as it is: normalise the list first."""


def rewrite(
    guard: Guard,
    headers: Sequence[Any],
    state: RequestState,
    kind: HeaderKind[H],
    normalized: bool = False,
    # Not keyword-only: a call fills positional defaults from a tuple, keyword-only
    # ones by dictionary lookups.
    page: bool = True,
    root: str = "",
) -> list[tuple[H, H]] | None:
    """The response headers to send, or None when ``headers`` may leave unchanged.

    ``page``: whether the response may be a page a browser renders (the ``csp``
    policy is for those); a WebSocket handshake is not. ``root``: the mount
    prefix (WSGI ``SCRIPT_NAME``) that the policy's report URL carries.
    """
    # The hot path of every response, in one frame: a header costs a dictionary probe
    # of its name (and under WSGI, whose servers write values verbatim, three scans of
    # its value for CR, LF and NUL); a Set-Cookie a probe of its name's verdict, and the
    # three scans when it leaves as it is. Anything unexpected raises, and the
    # normalised list is then judged instead: a name that is not a token of the
    # adapter's type (never in ``names``), a Set-Cookie value of another type (the scans
    # or ``partition`` raise, and a ``bytearray`` is no key), a header that is no pair,
    # CR, LF or NUL where they are refused. Any other header with a name in ``names``
    # passes with its value as it came (a ``str`` or ``memoryview`` an ASGI server
    # accepts), as it would without the middleware.
    what_of, check_all, cr, lf, nul, equals, table = kind.loop
    verdicts: dict[H, Verdict] | None = None
    removed: list[tuple[H, H]] | None = None
    deletions: dict[str, None] | None = None  # an ordered set of deletions to append
    has_vary = document = False
    csp = guard.csp if page else None
    try:
        for header in headers:
            key, value = header
            what = what_of(key)
            if what is None:
                what = classify(key, kind)
                if what is None:
                    raise _Unclean
            if what != SET_COOKIE:
                # WSGI: a server writes every value verbatim, and a list could change later.
                if check_all and (
                    type(header) is not tuple or cr in value or lf in value or nul in value
                ):
                    raise _Unclean
                if not what:  # OTHER, the most common
                    continue
                if what == VARY:
                    if type(value) is not kind.type:  # read again below, as text
                        raise _Unclean
                    has_vary = True
                elif csp is not None and not document:  # any HTML type makes it a page
                    found = kind.documents.get(value)
                    document = _is_document(value, kind) if found is None else found
                continue
            if verdicts is None:
                verdicts = table(state.verdicts)
            spelled, eq, _ = value.partition(equals)
            if not eq:  # no "=": the name is empty
                spelled = spelled[:0]
            verdict = verdicts.get(spelled)
            if verdict is None:
                verdict = _judge_spelling(guard, spelled, state, kind)
            if verdict.allowed or guard.report_only:  # it leaves as it is
                if type(header) is not tuple or cr in value or lf in value or nul in value:
                    raise _Unclean  # a tuple, which no one can change once judged
                if verdict.category is None or not verdict.allowed:
                    guard._report(verdict)  # unknown and kept (unknown="allow"), or report_only
                continue
            rest = value.partition(kind.semicolon)[2]
            attributes = kind.attributes.get(rest)
            if attributes is None:
                attributes = _read_attributes(rest, kind)
            # A Max-Age that says "no" (most refused cookies) spares the clock and the parse.
            if attributes.max_age is not False and attributes.deletes():
                text = _canonical_deletion(guard, verdict, value, kind)
                if text is not None:
                    if deletions is None:
                        deletions = {}
                    deletions[text] = None
            elif verdict.category is None or guard._always_report or logger.isEnabledFor(DEBUG):
                guard._report(verdict)  # otherwise the report is a disabled logger.debug
            if removed is None:  # its bytes never leave, whatever they hold
                removed = [header]
            else:
                removed.append(header)
    except (_Unclean, TypeError, ValueError, AttributeError):
        if normalized:  # pragma: no cover - normalize() leaves nothing to refuse
            raise
        return rewrite(guard, normalize(headers, kind), state, kind, True, page=page, root=root)
    withdrawals = state.withdrawals
    if removed is None and not withdrawals and not document:
        return list(headers) if normalized else None
    # Something to change: removals, deletions, withdrawals, the policy, a Vary.
    if withdrawals and not guard.report_only:
        if deletions is None:
            deletions = {}
        report = guard._always_report or logger.isEnabledFor(DEBUG)
        for name, declared, raw in withdrawals:
            if report:
                guard._report(Verdict(name, declared.category, False, "not-granted"))
            deletions[withdrawal_text(raw, declared)] = None
    elif withdrawals:
        for name, declared, _ in withdrawals:
            guard._report(Verdict(name, declared.category, False, "not-granted"))
    policy: tuple[tuple[H, H], ...] = ()
    if document and csp is not None:
        consent = state.consent
        if root:
            entry = csp.headers_for(consent.services, consent, root)
        else:
            entry = csp.cached.get(consent.services) or csp.headers_for(consent.services, consent)
        policy = cast("tuple[tuple[H, H], ...]", entry[0] if kind.type is str else entry[1])
    if removed is None and deletions is None and not policy:
        return list(headers) if normalized else None
    kept = list(headers)
    position = 0
    for header in removed or ():  # each search starts where the last one ended: linear
        position = kept.index(header, position)  # equal headers have equal verdicts
        del kept[position]
    encode = kind.encode
    if deletions is not None:
        add_set_cookie = kind.add_set_cookie
        for text in deletions:
            kept.append((add_set_cookie, encode(text)))
    if policy:
        kept += policy
    if has_vary:
        names = kind.names
        to_add = guard._vary_to_add([kind.decode(v) for k, v in kept if names.get(k) == VARY])
    else:
        to_add = guard._vary
    if to_add:
        vary = kind.vary_values.get(to_add)
        if vary is None:
            vary = kind.vary_values.put(to_add, encode(to_add))
        kept.append((kind.add_vary, vary))
    return kept


def _read_attributes(rest: H, kind: HeaderKind[H]) -> setcookie.Attributes:
    return kind.attributes.put(rest, setcookie.read_attributes(kind.decode(rest)))


def _canonical_deletion(
    guard: Guard, verdict: Verdict, value: H, kind: HeaderKind[H]
) -> str | None:
    """The middleware's own deletion in place of a refused ``Set-Cookie`` that deletes.

    None when the browser would not read it as a deletion, or when ``value`` holds CR,
    LF or NUL (where its lines would end: no deletion is read from it); the verdict
    is reported.
    """
    text = kind.decode(value)
    parsed = None if setcookie.has_line_break(text) else setcookie.parse(text)
    if parsed is not None and parsed.deletes() and setcookie.is_writable_name(parsed.name):
        if verdict.category is None:
            guard._report(Verdict(verdict.name, None, True, "deletion"))
        return _canonical(parsed)
    if verdict.category is None or guard._always_report or logger.isEnabledFor(DEBUG):
        guard._report(verdict)
    return None


def _judge_spelling(guard: Guard, spelled: H, state: RequestState, kind: HeaderKind[H]) -> Verdict:
    """The verdict on a ``Set-Cookie`` whose text before the first ``=`` is ``spelled``."""
    text = kind.decode(spelled)
    name = "" if ";" in text else text.strip(HTTP_WS)
    if not name.isascii():
        try:  # a UTF-8 name, as the registry declares it
            name = name.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
    verdict = guard.decide(name, state.consent)
    if len(spelled) <= 256:
        kind.table(state.verdicts)[spelled] = verdict  # a BoundedCache: bounded
    return verdict


def _canonical(parsed: setcookie.ParsedSetCookie) -> str:
    a = parsed.attributes
    return _deletion(parsed.name, a.path, a.domain, a.secure, a.samesite, a.partitioned)


@memoize(4096, 1024 * 1024, max_item_bytes=4096)
def _deletion(
    name: str,
    path: str | None,
    domain: str | None,
    secure: bool,
    samesite: str | None,
    partitioned: bool,
) -> str:
    return setcookie.deletion(
        name, path=path, domain=domain, secure=secure, samesite=samesite, partitioned=partitioned
    )


def _is_document(content_type: H, kind: HeaderKind[H]) -> bool:
    """Whether a ``Content-Type`` value names an HTML document (remembered, bounded)."""
    found = kind.documents.get(content_type)
    if found is None:
        mimetype = parse_options_header(kind.decode(content_type))[0].lower()
        found = kind.documents.put(content_type, mimetype in _DOCUMENTS)
    return found
