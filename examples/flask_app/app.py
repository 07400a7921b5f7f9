"""A site in the style of kopano.com behind cookieguard (WSGI, Flask).

Run it with ``make demo-flask`` (``flask --app examples.flask_app.app run`` on port 8000) and
open http://127.0.0.1:8000/. The registry is Kopano's published cookie policy,
category by category, with each cookie's description as its purpose. The
``/set-cookies`` page sets every declared cookie plus one the policy does not
list; ``/cookies`` shows what the browser kept. The policy's third parties are
declared as services inside their categories: the YouTube video on ``/meet`` is a
click-to-load placeholder until the visitor allows YouTube, alone with its "Load
video" button or with all commercial cookies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from flask import Flask, make_response, render_template, request

from cookieguard import Category, Cookie, Registry, Service
from cookieguard.flask import CookieGuard

from . import translations

#: Signs Flask's session and the consent cookie. The built-in key is for local
#: development only: set ``COOKIEGUARD_EXAMPLE_SECRET`` before exposing the demo.
SECRET_KEY = os.environ.get("COOKIEGUARD_EXAMPLE_SECRET", "dev-only-not-secret-flask-example")

#: The video the ``/meet`` page embeds once YouTube is allowed.
YOUTUBE_VIDEO_ID = "aqz-KE-bpKQ"

GDPR_PLUGIN = "GDPR Cookie Consent plugin"

#: The third parties of Kopano's policy, each inside the category its cookies are in.
SERVICES = [
    Service(
        "youtube",
        "commercial",
        label="YouTube",
        provider="Google",
        purpose="The videos embedded in our product pages.",
        hosts=["https://www.youtube-nocookie.com", "https://*.youtube.com"],
    ),
    Service(
        "doubleclick",
        "commercial",
        label="Google DoubleClick",
        provider="Google",
        purpose="Advertising relevant to the visitor's profile.",
        hosts=["https://*.doubleclick.net"],
    ),
    Service(
        "recaptcha",
        "commercial",
        label="Google reCAPTCHA",
        provider="Google",
        purpose="Tells people from robots on our forms.",
        hosts=["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"],
    ),
    Service(
        "matomo",
        "not_required",
        label="Matomo",
        provider="Matomo",
        purpose="Web analytics: how our website is used.",
    ),
    Service(
        "akamai",
        "not_required",
        label="Akamai Bot Manager",
        provider="Akamai",
        purpose="Bot detection and fraud prevention.",
    ),
]

registry = Registry(
    categories=[
        Category(
            "necessary",
            required=True,
            label="Necessary",
            description="Needed for the website to function: sessions and security.",
        ),
        Category(
            "kopano",
            label="Kopano Cookies",
            description="Needed for the Kopano webshop and the developer tickets linked "
            "from the release notes.",
        ),
        Category(
            "commercial",
            label="Commercial",
            description="Set by Google and YouTube for advertising and embedded videos.",
            gpc_opt_out=True,
        ),
        Category(
            "not_required",
            label="Not required",
            description="Web analytics with Matomo and bot protection by Akamai.",
        ),
        # Required: these cookies store the visitor's choices themselves. Recording a
        # refusal must not need the consent it records, so they are strictly necessary.
        Category(
            "cookie_management",
            required=True,
            label="Cookie Management",
            description="Remember the choices you make in this dialog.",
        ),
    ],
    cookies=[
        Cookie(
            "PHPSESSID",
            "necessary",
            provider="Kopano",
            purpose="This cookie is native to PHP applications. The cookie is used to store and "
            "identify a users' unique session ID for the purpose of managing user session on the "
            "website. The cookie is a session cookies and is deleted when all the browser windows "
            "are closed.",
            duration="session",
        ),
        Cookie(
            "__cfduid",
            "necessary",
            provider="Cloudflare",
            purpose="The cookie is set by CloudFare. The cookie is used to identify individual "
            "clients behind a shared IP address d apply security settings on a per-client basis. "
            "It doesnot correspond to any user ID in the web application and does not store any "
            "personally identifiable information.",
            duration="1 month",
        ),
        Cookie(
            "wp_kopano_shop_id",
            "kopano",
            provider="Kopano",
            purpose="This cookie is necessary if you want to use the Kopano webshop.",
        ),
        Cookie(
            "atlassian.xsrf.token",
            "kopano",
            provider="Atlassian",
            purpose="In our release notes we link to developer tickets. This cookie is necessary "
            "for this.",
            duration="session",
        ),
        Cookie(
            "IDE",
            "commercial",
            provider="Google DoubleClick",
            purpose="Used by Google DoubleClick and stores information about how the user uses "
            "the website and any other advertisement before visiting the website. This is used "
            "to present users with ads that are relevant to them according to the user profile.",
            duration="1 year",
            service="doubleclick",
        ),
        Cookie(
            "NID",
            "commercial",
            provider="Google reCAPTCHA",
            purpose="This cookie is used to a profile based on user's interest and display "
            "personalized ads to the users. On our website it is set by the Google reCAPTCHA "
            "service.",
            duration="6 months",
            service="recaptcha",
        ),
        Cookie(
            "GPS",
            "commercial",
            provider="YouTube",
            purpose="This cookie is set by Youtube and registers a unique ID for tracking users "
            "based on their geographical location",
            duration="30 minutes",
            service="youtube",
        ),
        Cookie(
            "VISITOR_INFO1_LIVE",
            "commercial",
            provider="YouTube",
            purpose="This cookie is set by Youtube. Used to track the information of the "
            "embedded YouTube videos on a website.",
            duration="6 months",
            service="youtube",
        ),
        Cookie(
            "YSC",
            "commercial",
            provider="YouTube",
            purpose="This cookies is set by Youtube and is used to track the views of embedded "
            "videos.",
            duration="session",
            service="youtube",
        ),
        Cookie(
            "_pk_id.*",
            "not_required",
            provider="Matomo",
            purpose="We use Matomo (Piwik) to measure our success with the website. This cookie "
            "is used to recognize a returning visitor. Read more: "
            "https://matomo.org/faq/general/faq_146/",
            duration="13 months",
            service="matomo",
        ),
        Cookie(
            "_pk_ses.*",
            "not_required",
            provider="Matomo",
            purpose="We use Matomo (Piwik) to measure our success with the website. This is a "
            "short lived cookies used to temporarily store data for the visit. Read more: "
            "https://matomo.org/faq/general/faq_146/",
            duration="30 minutes",
            service="matomo",
        ),
        Cookie(
            "bm_sz",
            "not_required",
            provider="Akamai",
            purpose="Akamai bot manager / Fraud prevention",
            duration="4 hours",
            service="akamai",
        ),
        Cookie(
            "_abck",
            "not_required",
            provider="Akamai",
            purpose="Akamai Bot Manager – Security cookie",
            duration="1 year",
            service="akamai",
        ),
        # The policy lists test_cookie without a description, under "Not required": it is
        # DoubleClick's, but a cookie's service must be of its category, so it has none.
        Cookie("test_cookie", "not_required", provider="Google DoubleClick"),
        Cookie(
            "cookielawinfo-checkbox-*",
            "cookie_management",
            provider=GDPR_PLUGIN,
            purpose="This cookie is set by GDPR Cookie Consent plugin. The cookies is used to "
            'store the user consent for the cookies in the category "Kopano", "Commercial", '
            '"Not required", "Necessary" or "Non Necessary", one cookie per category.',
            duration="1 year",
        ),
        Cookie(
            "viewed_cookie_policy",
            "cookie_management",
            provider=GDPR_PLUGIN,
            purpose="The cookie is set by the GDPR Cookie Consent plugin and is used to store "
            "whether or not user has consented to the use of cookies. It does not store any "
            "personal data.",
            duration="1 year",
        ),
    ],
    services=SERVICES,
    revision=1,
)
# French and German texts for every category and cookie above (the banner itself is shipped).
translations.register(registry)


@dataclass(frozen=True)
class DemoCookie:
    """A cookie the ``/set-cookies`` page sets, as the real site (or its embeds) would."""

    name: str
    value: str
    max_age: int | None
    httponly: bool


# Matomo names its cookies after the site id and a hash of the domain.
MATOMO_SUFFIX = "3.b2f1"
DAY = 24 * 60 * 60
CHECKBOXES = ("kopano-cookies", "commercial", "not-required", "necessary", "non-necessary")

#: Every declared cookie (one per glob for ``cookielawinfo-checkbox-*``: all five the
#: policy lists), then ``_ga``, which the policy never declared: it is always stripped.
DEMO_COOKIES = (
    DemoCookie("PHPSESSID", "3k9v0demo", None, httponly=True),
    DemoCookie("__cfduid", "d41d8cd98f00demo", 30 * DAY, httponly=True),
    DemoCookie("wp_kopano_shop_id", "7f3a", 30 * DAY, httponly=True),
    DemoCookie("atlassian.xsrf.token", "B8Z3-demo", None, httponly=False),
    DemoCookie("IDE", "AHWqTUmdemo", 365 * DAY, httponly=True),
    DemoCookie("NID", "511=demo", 182 * DAY, httponly=True),
    DemoCookie("GPS", "1", 30 * 60, httponly=False),
    DemoCookie("VISITOR_INFO1_LIVE", "Jd2demo", 182 * DAY, httponly=True),
    DemoCookie("YSC", "x1demo", None, httponly=True),
    DemoCookie(f"_pk_id.{MATOMO_SUFFIX}", "a1b2c3d4e5f60718.1700000000.", 395 * DAY, httponly=True),
    DemoCookie(f"_pk_ses.{MATOMO_SUFFIX}", "1", 30 * 60, httponly=True),
    DemoCookie("bm_sz", "8F1Edemo", 4 * 60 * 60, httponly=False),
    DemoCookie("_abck", "0A9Cdemo~-1~", 365 * DAY, httponly=False),
    DemoCookie("test_cookie", "CheckForPermission", 15 * 60, httponly=False),
    *(
        DemoCookie(f"cookielawinfo-checkbox-{name}", "yes", 365 * DAY, httponly=False)
        for name in CHECKBOXES
    ),
    DemoCookie("viewed_cookie_policy", "yes", 365 * DAY, httponly=False),
    DemoCookie("_ga", "GA1.1.123456789.1700000000", 395 * DAY, httponly=False),
)

app = Flask(__name__)
app.secret_key = SECRET_KEY
# Also makes ``cookieguard`` (banner, assets, allows, ...) a global of every template.
# csp="enforce": every page tells the browser to load third parties only from the hosts
# of the services the visitor allows now, so even an ungated embed stays out (/ungated).
CookieGuard(app, registry=registry, csp="enforce")


@app.context_processor
def registry_context() -> dict[str, Any]:
    """The registry, for the pages that list cookies by category."""
    return {"registry": registry}


@app.get("/")
def home() -> str:
    return render_template("home.html")


@app.get("/meet")
def meet() -> str:
    """A product page with a YouTube video: ``cookieguard.embed``, a placeholder until allowed."""
    return render_template("meet.html", video_id=YOUTUBE_VIDEO_ID)


@app.get("/ungated")
def ungated() -> str:
    """A page that forgot to gate its YouTube iframe: the browser refuses it until allowed."""
    return render_template("ungated.html", video_id=YOUTUBE_VIDEO_ID)


@app.get("/cookie-policy")
def cookie_policy() -> str:
    return render_template("cookie_policy.html")


@app.get("/set-cookies")
def set_cookies() -> Any:
    """Set every cookie at once; the middleware decides which reach the browser."""
    response = make_response(render_template("set_cookies.html", cookies=DEMO_COOKIES))
    for cookie in DEMO_COOKIES:
        response.set_cookie(
            cookie.name,
            cookie.value,
            max_age=cookie.max_age,
            httponly=cookie.httponly,
            samesite="Lax",
        )
    return response


@app.get("/cookies")
def cookies() -> str:
    """The cookies the browser sent with this request, as the server sees them."""
    held = [
        (name, registry.lookup(name), registry.category_of(name))
        for name in sorted(request.cookies)
    ]
    return render_template("cookies.html", held=held)
