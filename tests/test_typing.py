"""Users' code type-checks: the middleware options are typed, not ``**Any``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_CODE = """
    from flask import Flask
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    from cookieguard import Category, Registry
    from cookieguard.asgi import CookieGuardMiddleware
    from cookieguard.flask import CookieGuard
    from cookieguard.wsgi import CookieGuardMiddleware as WSGIMiddleware

    registry = Registry([Category("necessary", required=True)], [])
    Starlette(
        middleware=[
            Middleware(CookieGuardMiddleware, registry=registry, secret_key="k"),
            Middleware(CookieGuardMiddleware, registry=registry, secret_key="k", unknown="allow"),
        ]
    )
    flask_app = Flask(__name__)
    WSGIMiddleware(flask_app.wsgi_app, registry=registry, secret_key="k", report_only=True)
    CookieGuard(flask_app, registry=registry, honor_gpc=False)
"""


def mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    module = tmp_path / "user_app.py"
    module.write_text(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(module)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_documented_set_ups_type_check(tmp_path: Path) -> None:
    result = mypy(tmp_path, USER_CODE)
    assert result.returncode == 0, result.stdout


def test_a_misspelt_or_mistyped_option_is_a_type_error(tmp_path: Path) -> None:
    code = (
        USER_CODE
        + """
    Middleware(CookieGuardMiddleware, registry=registry, secret_key="k", unknwn="allow")
    WSGIMiddleware(flask_app.wsgi_app, registry=registry, secret_key="k", report_only="yes")
    """
    )
    result = mypy(tmp_path, code)
    assert 'Unexpected keyword argument "unknwn"' in result.stdout
    assert 'Argument "report_only"' in result.stdout
