"""The Django example under ``manage.py runserver``: a real server on a loopback port.

Before any choice only ``sessionid`` and ``csrftoken``, which Django sets itself,
reach the client; Matomo's server-side cookies and Django's ``django_language``
wait for their categories; every page the home page links answers.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "examples" / "django_app" / "manage.py"
TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def runserver(workdir: Path) -> Iterator[str]:
    """The portal under ``manage.py runserver`` on a free loopback port; its base URL."""
    db = workdir / "portal.db"
    env = {**os.environ, "PORTAL_DB": str(db), "PYTHONUNBUFFERED": "1"}
    manage = [sys.executable, "-W", "error", str(MANAGE)]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=120)
    port = free_port()
    log = (workdir / "runserver.log").open("w")  # its request log, kept out of the pipe
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # the banner comes just before the server binds its port
            if "Quit the server with" in line:
                break
        else:
            pytest.fail(f"runserver exited with {server.wait()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=TIMEOUT)
        assert server.stdout is not None
        server.stdout.close()
        log.close()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with runserver(tmp_path_factory.mktemp("portal")) as base_url:
        yield base_url


def browser(base_url: str) -> httpx.Client:
    """A client that keeps cookies, and retries the connection while the server binds."""
    transport = httpx.HTTPTransport(retries=5)
    return httpx.Client(base_url=base_url, transport=transport, timeout=TIMEOUT)


def received(response: httpx.Response) -> set[str]:
    return {v.partition("=")[0] for v in response.headers.get_list("set-cookie")}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_before_consent_only_djangos_own_cookies_reach_the_client(portal: str) -> None:
    with browser(portal) as client:
        home = client.get("/")
        assert home.status_code == 200
        assert received(home) == {"sessionid", "csrftoken"}
        assert 'id="cookieguard-banner"' in home.text
        links = set(re.findall(r'href="(/[^"#?]*)"', home.text))
        for link in sorted(links):
            page = client.get(link)
            assert page.status_code == 200, link
            assert received(page) <= {"sessionid", "csrftoken"}, link
        assert set(client.cookies) == {"sessionid", "csrftoken"}


def test_the_language_switcher_sticks_only_with_preferences(portal: str) -> None:
    with browser(portal) as client:
        token = csrf_token(client.get("/").text)
        switch = {"language": "fr", "next": "/", "csrfmiddlewaretoken": token}
        answer = client.post("/i18n/setlang/", data=switch)
        assert answer.status_code == 302
        assert "django_language" not in received(answer)
        consent = client.post("/cookieguard/consent", data={"categories": ["preferences"]})
        assert consent.status_code == 303
        answer = client.post("/i18n/setlang/", data=switch)
        assert "django_language" in received(answer)
        home = client.get("/")
        assert '<html lang="fr">' in home.text
        assert "Paramètres des cookies" in home.text  # the banner's link, in French
        assert not any(name.startswith("_pk_") for name in client.cookies)


def test_statistics_bring_matomo_and_withdrawal_deletes_it(portal: str) -> None:
    with browser(portal) as client:
        client.post("/cookieguard/consent", data={"action": "accept_all"})
        page = client.get("/explore/")
        assert {"_pk_id.1.7c3e", "_pk_ses.1.7c3e"} <= received(page)
        withdrawn = client.post("/cookieguard/consent", data={"action": "reject_all"})
        assert {"_pk_id.1.7c3e", "_pk_ses.1.7c3e"} <= received(withdrawn)
        assert not any(name.startswith("_pk_") for name in client.cookies)
