"""The WSGI middleware as a server sees it: start_response, exc_info, write, close, streaming.

The error paths run under :class:`wsgiref.handlers.SimpleHandler`, a real server
handler: Werkzeug's test client re-raises ``exc_info`` itself, so it could not tell
whether the middleware forwarded it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.handlers import SimpleHandler
from wsgiref.util import FileWrapper

import pytest
from tests.support.cases import KEY, REGISTRY, token, wsgi_environ

from cookieguard.wsgi import CookieGuardMiddleware

NOT_CONSENTED = ("Set-Cookie", "_pk_id.1=x")
REQUIRED = ("Set-Cookie", "sessionid=s")

StartResponse = Callable[..., Callable[[bytes], object]]


def guard(app: Any, **options: Any) -> CookieGuardMiddleware:
    return CookieGuardMiddleware(app, registry=REGISTRY, secret_key=KEY, **options)


def serve(app: Any, **request: Any) -> tuple[bytes, str]:
    """Run ``app`` under wsgiref's SimpleHandler; the raw HTTP output and what it logged."""
    environ = wsgi_environ(**request)
    stdout, stderr = io.BytesIO(), io.StringIO()
    handler = SimpleHandler(
        environ["wsgi.input"], stdout, stderr, environ, multithread=False, multiprocess=False
    )
    handler.server_software = "wsgiref"
    handler.run(app)
    return stdout.getvalue(), stderr.getvalue()


def header_lines(output: bytes) -> list[str]:
    head = output.partition(b"\r\n\r\n")[0].decode("latin-1")
    return head.split("\r\n")


def test_headers_filtered_under_a_real_handler() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), REQUIRED, NOT_CONSENTED])
        return [b"ok"]

    output, _ = serve(guard(app))
    lines = header_lines(output)
    assert lines[0].endswith("200 OK")
    assert "Set-Cookie: sessionid=s" in lines
    assert not any("_pk_id" in line for line in lines)
    assert output.endswith(b"\r\n\r\nok")


def test_streaming_response_is_returned_untouched_and_read_chunk_by_chunk() -> None:
    produced: list[bytes] = []
    calls: list[list[tuple[str, str]]] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [REQUIRED, NOT_CONSENTED])
        for chunk in (b"one ", b"two ", b"three"):
            produced.append(chunk)
            yield chunk

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        calls.append(headers)
        return lambda data: None

    middleware = guard(app)
    iterable = middleware(wsgi_environ(), start_response)
    assert produced == []  # nothing read before the server asks
    iterator = iter(iterable)
    assert next(iterator) == b"one "
    assert [(k.lower(), v) for k, v in calls[0]] == [
        ("set-cookie", "sessionid=s"),
        ("vary", "Cookie, Sec-GPC"),
    ]
    assert produced == [b"one "]
    assert next(iterator) == b"two "
    assert produced == [b"one ", b"two "]
    assert list(iterator) == [b"three"]


def test_the_apps_iterable_is_returned_and_closed() -> None:
    class Body:
        closed = False

        def __iter__(self) -> Iterator[bytes]:
            yield b"body"

        def close(self) -> None:
            self.closed = True

    body = Body()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Body:
        start_response("200 OK", [NOT_CONSENTED])
        return body

    middleware = guard(app)
    assert middleware(wsgi_environ(), lambda *a: lambda data: None) is body
    body.closed = False
    output, _ = serve(middleware)
    assert body.closed
    assert output.endswith(b"body")


def test_file_wrapper_kept() -> None:
    wrappers: list[object] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), NOT_CONSENTED])
        wrapper = environ["wsgi.file_wrapper"](io.BytesIO(b"file body"), 4)
        wrappers.append(wrapper)
        return wrapper

    environ = wsgi_environ()
    environ["wsgi.file_wrapper"] = FileWrapper
    middleware = guard(app)
    returned = middleware(environ, lambda *a: lambda data: None)
    assert isinstance(returned, FileWrapper)
    assert returned is wrappers[0]
    output, _ = serve(middleware)
    assert output.endswith(b"file body")


def test_the_servers_write_callable_is_returned() -> None:
    def server_write(data: bytes) -> None:
        raise AssertionError("not called in this test")

    returned: list[object] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        returned.append(start_response("200 OK", [NOT_CONSENTED]))
        return []

    guard(app)(wsgi_environ(), lambda *a: server_write)
    assert returned == [server_write]


def test_write_callable_works_under_a_real_handler() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Length", "10"), REQUIRED, NOT_CONSENTED])
        write(b"via write ")
        return []

    output, _ = serve(guard(app))
    assert "Set-Cookie: sessionid=s" in header_lines(output)
    assert "_pk_id" not in output.decode("latin-1")
    assert output.endswith(b"via write ")


def test_app_raising_before_start_response() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        raise LookupError("before start_response")

    with pytest.raises(LookupError, match="before start_response"):
        guard(app)(wsgi_environ(), lambda *a: lambda data: None)
    output, errors = serve(guard(app))
    assert header_lines(output)[0].endswith("500 Internal Server Error")
    assert "LookupError: before start_response" in errors


def test_error_page_after_start_response_is_filtered_too() -> None:
    """The classic pattern: start, fail, start again with exc_info before anything is sent."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [REQUIRED])
        try:
            raise ValueError("while rendering")
        except ValueError:
            start_response(
                "500 Oops", [NOT_CONSENTED, ("Set-Cookie", "csrftoken=t")], sys.exc_info()
            )
        return [b"error page"]

    output, _ = serve(guard(app))
    lines = header_lines(output)
    assert lines[0].endswith("500 Oops")
    assert "Set-Cookie: csrftoken=t" in lines
    assert "Set-Cookie: sessionid=s" not in lines  # replaced by the error headers
    assert "_pk_id" not in output.decode("latin-1")
    assert output.endswith(b"error page")


def test_exc_info_forwarded_after_headers_were_sent() -> None:
    """Once headers are out, the server re-raises exc_info; it must be the app's exception."""
    raised: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), REQUIRED])
        yield b"first chunk"
        try:
            raise KeyError("after the first chunk")
        except KeyError:
            try:
                start_response("500 Oops", [], sys.exc_info())
            except BaseException as error:
                raised.append(error)
                raise

    output, errors = serve(guard(app))
    assert len(raised) == 1
    assert isinstance(raised[0], KeyError)  # without exc_info the server says "headers already set"
    assert "KeyError: 'after the first chunk'" in errors
    assert b"first chunk" in output


def test_exc_info_by_keyword_is_forwarded() -> None:
    forwarded: list[object] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
            start_response("500 Oops", [NOT_CONSENTED], exc_info=info)
            return [b""]

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        forwarded.append(exc_info)
        return lambda data: None

    guard(app)(wsgi_environ(), start_response)
    assert isinstance(forwarded[0], tuple)
    assert isinstance(forwarded[0][1], ValueError)


def test_environ_carries_the_consent_the_app_reads() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        seen["consent"] = environ["cookieguard.consent"]
        start_response("200 OK", [])
        return []

    value = token(["statistics", "marketing"])
    headers = [("Cookie", f"cookies_preferences={value}"), ("Sec-GPC", "1")]
    guard(app)(wsgi_environ(headers=headers), lambda *a: lambda data: None)
    consent = seen["consent"]
    assert consent.allows("necessary")
    assert consent.allows("statistics")
    assert not consent.allows("marketing")  # Sec-GPC applied
    assert not consent.allows("preferences")
    assert consent.has_consent


# -- security round 2: what a server writing headers verbatim would let through --------


def test_a_set_cookie_appended_after_start_response_never_leaves() -> None:
    # wsgiref keeps the list start_response receives and writes it later.
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = [("Content-Type", "text/plain"), REQUIRED]
        start_response("200 OK", headers)
        headers.append(("Set-Cookie", "_pk_id.1=late"))
        headers.append(("set-cookie", "ads=late; Max-Age=3600"))
        return [b"ok"]

    output, _ = serve(guard(app))
    lines = header_lines(output)
    assert "Set-Cookie: sessionid=s" in lines
    assert not any("late" in line for line in lines)


def test_a_header_entry_changed_after_start_response_never_leaves() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        entry = ["Set-Cookie", "sessionid=s"]
        start_response("200 OK", [("Content-Type", "text/plain"), entry])
        entry[1] = "_pk_id.1=swapped"  # a list entry, mutated once judged
        return [b"ok"]

    assert not any("swapped" in line for line in header_lines(serve(guard(app))[0]))


@pytest.mark.parametrize(
    "header",
    [
        ("Set-Cookie", "sessionid=s\r\nSet-Cookie: _pk_id.1=x"),
        ("Set-Cookie", "sessionid=s\nSet-Cookie: _pk_id.1=x"),
        ("Set-Cookie", "sessionid=s\rSet-Cookie: _pk_id.1=x"),
        ("X-Note", "1\r\nSet-Cookie: _pk_id.1=x"),
        ("X-Note\r\nSet-Cookie", "_pk_id.1=x"),
        ("Set-Cookie ", "_pk_id.1=x"),
        ("Set-Cookie\t", "_pk_id.1=x"),
        ("Set-Cookie:", "_pk_id.1=x"),
    ],
)
def test_no_line_a_browser_reads_as_a_refused_set_cookie_leaves(header: tuple[str, str]) -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), header])
        return [b"ok"]

    output, _ = serve(guard(app))
    assert b"_pk_id" not in output.partition(b"\r\n\r\n")[0]


def test_a_smuggled_set_cookie_name_that_is_allowed_leaves_as_set_cookie() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Set-Cookie ", "sessionid=s; Path=/")])
        return [b"ok"]

    assert "Set-Cookie: sessionid=s; Path=/" in header_lines(serve(guard(app))[0])
