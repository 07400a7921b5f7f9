"""Both example apps served for real, and Debian's Chromium driven through playwright.

One browser for the whole session and a fresh context (an empty cookie jar) per
test. The context can only reach the loopback servers: any other request (the
YouTube player, say) is aborted, so the suite never touches the network.
Without /usr/bin/chromium the tests skip, unless ``COOKIEGUARD_REQUIRE_BROWSER=1``
(as in CI), where they fail instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from examples.flask_app.app import app as flask_app
from examples.starlette_app.app import app as starlette_app
from playwright.sync_api import Browser, BrowserContext, Page
from tests.browser.chromium import new_context
from tests.browser.servers import serve_asgi, serve_wsgi


@pytest.fixture(scope="session")
def base_urls() -> Iterator[dict[str, str]]:
    """Starlette under uvicorn, Flask under werkzeug, each on a free loopback port."""
    with serve_asgi(starlette_app) as starlette_url, serve_wsgi(flask_app) as flask_url:
        yield {"starlette": starlette_url, "flask": flask_url}


@pytest.fixture(params=["starlette", "flask"])
def example(request: pytest.FixtureRequest) -> str:
    """The name of the example app under test."""
    return str(request.param)


@pytest.fixture
def context(browser: Browser, base_urls: dict[str, str], example: str) -> Iterator[BrowserContext]:
    """A fresh visitor of the example, with JavaScript on."""
    context = new_context(browser, base_urls[example])
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
