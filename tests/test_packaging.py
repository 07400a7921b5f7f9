"""The release artefacts: what `python -m build` makes is what a user gets.

Builds the sdist and, from it, the wheel (as `python -m build` does), checks them with
twine, checks the wheel carries every file of the package (templates, scripts, styles,
catalogues, `py.typed`), then installs the wheel into a throwaway virtual environment
and runs a Flask and a Starlette app through it.

The throwaway environment has no pip and no network: the package is installed into it
with this environment's pip, `--no-deps`, and its dependencies come from this
environment's site-packages through a `.pth` file. Only the files a `.pth` names are
added, not the `.pth` files they hold, so this checkout's editable install stays out.
"""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

import cookieguard

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "cookieguard"
NAME = f"cookieguard-{cookieguard.__version__}"


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, with the hatchling installed here."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    return dist / f"{NAME}-py3-none-any.whl"


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    return dist / f"{NAME}.tar.gz"


def package_files() -> set[str]:
    """Every file of the package in the source tree, as a path inside the wheel."""
    return {
        p.relative_to(PACKAGE.parent).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_twine_check_passes(dist: Path) -> None:
    output = run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert output.count("PASSED") == 2


def test_the_wheel_carries_the_whole_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    packaged = {n for n in names if n.startswith("cookieguard/")}
    assert packaged == package_files()
    # The package data the middleware serves and renders, not only the code:
    for suffix in (".html", ".js", ".css", ".json"):
        assert any(n.endswith(suffix) for n in packaged), f"no {suffix} file in the wheel"
    assert "cookieguard/py.typed" in packaged
    assert f"{NAME}.dist-info/licenses/LICENSE" in names


def test_the_metadata_is_complete(wheel: Path) -> None:
    info = f"{NAME}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        metadata = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert metadata["Version"] == cookieguard.__version__  # single-sourced from __init__.py
    assert metadata["License-Expression"] == "MIT"
    assert metadata["License-File"] == "LICENSE"
    assert metadata["Requires-Python"] == ">=3.10"
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert set(urls) == {"Documentation", "Source", "Changelog"}
    classifiers = metadata.get_all("Classifier")
    assert "License :: OSI Approved :: MIT License" in classifiers
    assert "Typing :: Typed" in classifiers
    assert "Server-side cookie consent" in metadata.get_payload()  # the README
    assert "cookieguard = cookieguard.cli:main" in entry_points


def test_the_sdist_has_what_a_rebuild_needs(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {n.partition("/")[2] for n in archive.getnames()}
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "mkdocs.yml"} <= names
    assert {f"src/{f}" for f in package_files()} <= names
    assert "tests/test_packaging.py" in names


SMOKE = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import cookieguard

    assert Path(cookieguard.__file__).is_relative_to(sys.prefix), cookieguard.__file__

    from flask import Flask, make_response
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from cookieguard import Category, Cookie, Registry, i18n
    from cookieguard.asgi import CookieGuardMiddleware
    from cookieguard.assets import asset_url
    from cookieguard.flask import CookieGuard

    registry = Registry(
        categories=[Category("necessary", required=True), Category("marketing")],
        cookies=[Cookie("sessionid", "necessary"), Cookie("_ga", "marketing")],
    )

    flask_app = Flask("smoke")
    flask_app.secret_key = "smoke"
    CookieGuard(flask_app, registry=registry)


    @flask_app.get("/")
    def flask_home():
        response = make_response("hello")
        response.set_cookie("sessionid", "s1")
        response.set_cookie("_ga", "GA1.1")
        return response


    sent = flask_app.test_client().get("/").headers.getlist("Set-Cookie")
    assert [c.partition("=")[0] for c in sent] == ["sessionid"], sent


    def starlette_home(request):
        response = PlainTextResponse("hello")
        response.set_cookie("sessionid", "s1")
        response.set_cookie("_ga", "GA1.1")
        return response


    starlette_app = Starlette(
        routes=[Route("/", starlette_home)],
        middleware=[Middleware(CookieGuardMiddleware, registry=registry, secret_key="smoke")],
    )
    client = TestClient(starlette_app)
    assert list(client.get("/").cookies) == ["sessionid"]

    # The package data came along: the banner's script and the translations.
    script = client.get(asset_url("/cookieguard/consent", "cookieguard.js"))
    assert script.status_code == 200 and script.content, script
    assert {"en", "fr", "de"} <= set(i18n.languages())
    print("smoke test passed")
    """
)


def throwaway_venv(where: Path) -> Path:
    """A venv without pip whose dependencies are this environment's; its python."""
    run(sys.executable, "-m", "venv", "--without-pip", where)
    python = where / "bin" / "python"
    target = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    (Path(target.strip()) / "_host_dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    return python


def test_the_wheel_installs_and_guards_flask_and_starlette(wheel: Path, tmp_path: Path) -> None:
    python = throwaway_venv(tmp_path / "venv")
    pip = (sys.executable, "-m", "pip", "--python", python)
    run(*pip, "install", "--no-deps", "--no-index", wheel)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    assert "smoke test passed" in run(python, "-W", "error", "-c", SMOKE, cwd=tmp_path, env=env)
    # The console script is installed too.
    assert "usage: cookieguard" in run(tmp_path / "venv" / "bin" / "cookieguard", "--help", env=env)


def test_the_sdist_installs(sdist: Path, tmp_path: Path) -> None:
    python = throwaway_venv(tmp_path / "venv")
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--no-build-isolation",
        sdist,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    check = "import cookieguard, sys; assert cookieguard.__file__.startswith(sys.prefix)"
    run(python, "-c", check + "; print(cookieguard.__version__)", cwd=tmp_path, env=env)
