"""An Opendatasoft-style open-data portal behind cookieguard (ASGI, Starlette).

Run it with ``uvicorn examples.starlette_app.app:app`` (or ``make demo``) and open
http://127.0.0.1:8000/. The ``/set-cookies`` page sets every cookie the portal
declares plus one it does not; the ``/cookies`` page lists what the browser
actually kept, read from the request's ``Cookie`` header so HttpOnly cookies
show too.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from cookieguard import Category, Cookie, Registry, Service
from cookieguard.asgi import CookieGuardMiddleware
from cookieguard.consentlog import ConsentLog
from cookieguard.starlette import template_context

from . import translations

HERE = Path(__file__).parent

#: Signs the consent cookie. The built-in key is for local development only:
#: set ``COOKIEGUARD_EXAMPLE_SECRET`` to anything secret before exposing the demo.
SECRET_KEY = os.environ.get("COOKIEGUARD_EXAMPLE_SECRET", "dev-only-not-secret-starlette-example")

# The policy of an Opendatasoft portal (sessionid, csrftoken, django_language,
# cookies_preferences), with the Matomo web analytics the policy announces and
# the advertising cookies a portal embedding third-party widgets would add.
registry = Registry(
    categories=[
        Category(
            "necessary",
            required=True,
            label="Strictly necessary",
            description="Sign-in, security and your cookie choices. The portal cannot work "
            "without them, so they need no consent.",
        ),
        Category(
            "preferences",
            label="Preferences",
            description="Remember settings you chose, such as the interface language.",
        ),
        Category(
            "statistics",
            label="Statistics",
            description="Web analytics with Matomo: which datasets are visited and how often.",
        ),
        Category(
            "marketing",
            label="Marketing",
            description="Advertising partners measuring campaigns that lead visitors here.",
            gpc_opt_out=True,
        ),
    ],
    cookies=[
        Cookie(
            "sessionid",
            "necessary",
            provider="Opendatasoft",
            purpose="Remember the user from one page to another",
            duration="2 weeks",
        ),
        Cookie(
            "csrftoken",
            "necessary",
            provider="Opendatasoft",
            purpose="Retrieve data via API calls",
            duration="1 year",
        ),
        Cookie(
            "django_language",
            "preferences",
            provider="Opendatasoft",
            purpose="Remember the visitor's language",
            duration="1 year",
        ),
        Cookie(
            "_pk_id.*",
            "statistics",
            provider="Matomo",
            purpose="Recognise a returning visitor",
            duration="13 months",
            service="matomo",
        ),
        Cookie(
            "_pk_ses.*",
            "statistics",
            provider="Matomo",
            purpose="Group the pages of one visit",
            duration="30 minutes",
            service="matomo",
        ),
        Cookie(
            "_gcl_au",
            "marketing",
            provider="Google Ads",
            purpose="Attribute a visit to the advertising campaign that led to it",
            duration="3 months",
        ),
        Cookie(
            "_fbp",
            "marketing",
            provider="Meta",
            purpose="Measure visits that come from Facebook and Instagram ads",
            duration="3 months",
        ),
    ],
    # Matomo is the one third party the policy names: a visitor may allow it alone.
    services=[
        Service(
            "matomo",
            "statistics",
            label="Matomo",
            provider="Matomo",
            purpose="Web analytics: which datasets are visited and how often.",
        )
    ],
    revision=1,
)
# French and German texts for every category and cookie above (the banner itself is shipped).
translations.register(registry)


@dataclass(frozen=True)
class DemoCookie:
    """A cookie the ``/set-cookies`` page sets, as a real portal would set it."""

    name: str
    value: str
    max_age: int | None
    httponly: bool


# Matomo names its cookies after the site id and a hash of the domain.
MATOMO_SUFFIX = "1.7c3e"
DAY = 24 * 60 * 60

#: Every declared cookie, then one the registry does not know (a Hotjar cookie
#: someone added without declaring it): cookieguard strips it whatever the consent.
DEMO_COOKIES = (
    DemoCookie("sessionid", "q3v8m2k1x0demo", 14 * DAY, httponly=True),
    DemoCookie("csrftoken", "Yx7c1Qdemo", 365 * DAY, httponly=False),
    DemoCookie("django_language", "en", 365 * DAY, httponly=False),
    DemoCookie(f"_pk_id.{MATOMO_SUFFIX}", "5f0c2a9e8b7d6c4a.1700000000.", 395 * DAY, httponly=True),
    DemoCookie(f"_pk_ses.{MATOMO_SUFFIX}", "1", 30 * 60, httponly=True),
    DemoCookie("_gcl_au", "1.1.1234567890.1700000000", 90 * DAY, httponly=False),
    DemoCookie("_fbp", "fb.1.1700000000000.1234567890", 90 * DAY, httponly=False),
    DemoCookie("_hjSessionUser_123456", "eyJpZCI6ImRlbW8ifQ", 365 * DAY, httponly=False),
)

DATASETS = {
    "air-quality": (
        "Air quality measurements",
        "Hourly NO2, PM10 and O3 readings from the city's monitoring stations.",
        ["station", "pollutant", "value (µg/m³)", "measured at"],
        [
            ["Les Frênes", "NO2", "21", "2026-11-20 08:00"],
            ["Les Frênes", "PM10", "17", "2026-11-20 08:00"],
            ["Grand-Place", "O3", "34", "2026-11-20 08:00"],
        ],
    ),
    "bike-stations": (
        "Bike-sharing stations",
        "Location and capacity of every bike-sharing station, updated daily.",
        ["station", "docks", "bikes available"],
        [["Gare", "24", "9"], ["Hôtel de Ville", "18", "3"], ["Campus", "30", "22"]],
    ),
}


def registry_context(request: Request) -> dict[str, Any]:
    """The registry, for the pages that list cookies by category."""
    return {"registry": registry}


# ``template_context`` puts ``cookieguard`` (banner, assets, allows, ...) in every template.
templates = Jinja2Templates(
    directory=HERE / "templates", context_processors=[template_context, registry_context]
)


async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "home.html", {"datasets": DATASETS})


async def explore(request: Request) -> Response:
    return templates.TemplateResponse(request, "explore.html", {"datasets": DATASETS})


async def dataset(request: Request) -> Response:
    slug = request.path_params["slug"]
    if slug not in DATASETS:
        raise HTTPException(404, f"no dataset called {slug!r}")
    title, description, columns, rows = DATASETS[slug]
    context = {"title": title, "description": description, "columns": columns, "rows": rows}
    return templates.TemplateResponse(request, "dataset.html", context)


async def set_cookies(request: Request) -> Response:
    """Set every cookie at once; the middleware decides which reach the browser."""
    response = templates.TemplateResponse(request, "set_cookies.html", {"cookies": DEMO_COOKIES})
    for cookie in DEMO_COOKIES:
        response.set_cookie(
            cookie.name,
            cookie.value,
            max_age=cookie.max_age,
            httponly=cookie.httponly,
            samesite="lax",
        )
    return response


async def cookies(request: Request) -> Response:
    """The cookies the browser sent with this request, as the server sees them."""
    held = [
        (name, registry.lookup(name), registry.category_of(name))
        for name in sorted(request.cookies)
    ]
    return templates.TemplateResponse(request, "cookies.html", {"held": held})


#: Every choice made in the banner is recorded here (``COOKIEGUARD_CONSENT_DB`` to move
#: it); ``cookieguard consents show ID --db <this URL>`` finds the ID the dialog shows.
CONSENT_DB = os.environ.get(
    "COOKIEGUARD_CONSENT_DB",
    f"sqlite:///{Path(tempfile.gettempdir()) / 'cookieguard-demo-consents.db'}",
)
#: Each record is on disk in this spool before the answer leaves, then shipped to the database.
CONSENT_SPOOL = os.environ.get(
    "COOKIEGUARD_CONSENT_SPOOL", str(Path(tempfile.gettempdir()) / "cookieguard-demo-spool")
)
consent_log = ConsentLog(CONSENT_DB, registry=registry, spool=CONSENT_SPOOL)

app = Starlette(
    routes=[
        Route("/", home, name="home"),
        Route("/explore/", explore, name="explore"),
        Route("/explore/dataset/{slug}/", dataset, name="dataset"),
        Route("/set-cookies", set_cookies, name="set_cookies"),
        Route("/cookies", cookies, name="cookies"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ],
    middleware=[
        Middleware(
            CookieGuardMiddleware,
            registry=registry,
            secret_key=SECRET_KEY,
            on_consent=consent_log,
        ),
    ],
)
