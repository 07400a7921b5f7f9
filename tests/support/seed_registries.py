"""Registries transcribed from the cookie policy pages in ``shared/seeds`` beside the repository.

``KOPANO`` is seed 004 (kopano.com), every category and cookie of its table, with
each description as the purpose, verbatim. ``OPENDATASOFT`` is seeds 000-003, the
cookie table Opendatasoft platforms publish.
"""

from __future__ import annotations

import os
from pathlib import Path

from cookieguard import Category, Cookie, Registry, Service

# The seed pages live in ``shared/`` beside the repository (``COOKIEGUARD_SEEDS`` moves them).
SEEDS = Path(
    os.environ.get("COOKIEGUARD_SEEDS") or Path(__file__).resolve().parents[3] / "shared" / "seeds"
)
KOPANO_SEED = SEEDS / "004_815192a8c65a0b45.txt"
OPENDATASOFT_SEEDS = sorted(SEEDS.glob("00[0-3]_*.txt"))

GDPR_PLUGIN = "GDPR Cookie Consent plugin"
MATOMO = (
    "We use Matomo (Piwik) to measure our success with the website. {} "
    "Read more: https://matomo.org/faq/general/faq_146/"
)
CHECKBOX = (
    "This cookie is set by GDPR Cookie Consent plugin. The cookies is used to store the user "
    'consent for the cookies in the category "{}".'
)

KOPANO = Registry(
    categories=[
        Category("necessary", required=True, label="Necessary"),
        Category("kopano", label="Kopano Cookies"),
        Category("commercial", label="Commercial", gpc_opt_out=True),
        Category("not_required", label="Not required"),
        # They record the visitor's choices: recording a refusal cannot need consent.
        Category("cookie_management", required=True, label="Cookie Management"),
    ],
    # The third parties the seed names in its descriptions, each inside its category.
    services=[
        Service(
            "youtube",
            "commercial",
            label="YouTube",
            provider="Google",
            purpose="Embedded videos",
            hosts=["https://www.youtube-nocookie.com", "https://*.youtube.com"],
        ),
        Service(
            "doubleclick",
            "commercial",
            label="Google DoubleClick",
            provider="Google",
            purpose="Advertising",
            hosts=["https://*.doubleclick.net"],
        ),
        Service(
            "recaptcha",
            "commercial",
            label="Google reCAPTCHA",
            provider="Google",
            purpose="Telling people from bots on forms",
            hosts=["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"],
        ),
        Service(
            "matomo",
            "not_required",
            label="Matomo",
            provider="Matomo",
            purpose="Audience measurement",
            hosts=["https://stats.kopano.com"],
        ),
        Service(
            "akamai",
            "not_required",
            label="Akamai Bot Manager",
            provider="Akamai",
            purpose="Bot and fraud prevention",
            hosts=["https://*.akamaihd.net"],
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
        ),
        Cookie(
            "viewed_cookie_policy",
            "necessary",
            provider=GDPR_PLUGIN,
            purpose="The cookie is set by the GDPR Cookie Consent plugin and is used to store "
            "whether or not user has consented to the use of cookies. It does not store any "
            "personal data.",
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
        ),
        Cookie(
            "IDE",
            "commercial",
            provider="Google DoubleClick",
            purpose="Used by Google DoubleClick and stores information about how the user uses "
            "the website and any other advertisement before visiting the website. This is used "
            "to present users with ads that are relevant to them according to the user profile.",
            service="doubleclick",
        ),
        Cookie(
            "NID",
            "commercial",
            provider="Google reCAPTCHA",
            purpose="This cookie is used to a profile based on user's interest and display "
            "personalized ads to the users. On our website it is set by the Google reCAPTCHA "
            "service.",
            service="recaptcha",
        ),
        Cookie(
            "GPS",
            "commercial",
            provider="YouTube",
            purpose="This cookie is set by Youtube and registers a unique ID for tracking users "
            "based on their geographical location",
            service="youtube",
        ),
        Cookie(
            "VISITOR_INFO1_LIVE",
            "commercial",
            provider="YouTube",
            purpose="This cookie is set by Youtube. Used to track the information of the "
            "embedded YouTube videos on a website.",
            service="youtube",
        ),
        Cookie(
            "YSC",
            "commercial",
            provider="YouTube",
            purpose="This cookies is set by Youtube and is used to track the views of embedded "
            "videos.",
            service="youtube",
        ),
        Cookie(
            "_pk_id.*",
            "not_required",
            provider="Matomo",
            purpose=MATOMO.format("This cookie is used to recognize a returning visitor."),
            duration="13 months",
            service="matomo",
        ),
        Cookie(
            "_pk_ses.*",
            "not_required",
            provider="Matomo",
            purpose=MATOMO.format(
                "This is a short lived cookies used to temporarily store data for the visit."
            ),
            duration="30 minutes",
            service="matomo",
        ),
        Cookie(
            "bm_sz",
            "not_required",
            provider="Akamai",
            purpose="Akamai bot manager / Fraud prevention",
            service="akamai",
        ),
        Cookie(
            "_abck",
            "not_required",
            provider="Akamai",
            purpose="Akamai Bot Manager – Security cookie",
            service="akamai",
        ),
        Cookie("test_cookie", "not_required"),
        Cookie(
            "cookielawinfo-checkbox-kopano-cookies",
            "cookie_management",
            provider=GDPR_PLUGIN,
            purpose=CHECKBOX.format("Kopano"),
        ),
        Cookie(
            "cookielawinfo-checkbox-commercial",
            "cookie_management",
            provider=GDPR_PLUGIN,
            purpose=CHECKBOX.format("Commercial"),
        ),
        Cookie(
            "cookielawinfo-checkbox-not-required",
            "cookie_management",
            provider=GDPR_PLUGIN,
            purpose=CHECKBOX.format("Not required"),
        ),
        Cookie(
            "cookielawinfo-checkbox-necessary",
            "cookie_management",
            provider=GDPR_PLUGIN,
            purpose=CHECKBOX.format("Necessary"),
        ),
        Cookie(
            "cookielawinfo-checkbox-non-necessary",
            "cookie_management",
            provider=GDPR_PLUGIN,
            purpose=CHECKBOX.format("Non Necessary"),
        ),
    ],
    revision=1,
)

OPENDATASOFT = Registry(
    categories=[
        Category(
            "necessary",
            required=True,
            label="Cookies necessary for the platform to function properly/functionality cookies",
            description='"Necessary" internal cookies allow information to be saved between two '
            "visits to the same website by the same device. They do not require the user's "
            "consent.",
        ),
        Category(
            "statistics",
            label="Statistical cookies",
            description='"Statistical" cookies make it possible to track an Internet user\'s '
            "actions on a website.",
        ),
    ],
    cookies=[
        Cookie(
            "sessionid",
            "necessary",
            provider="Opendatasoft",
            purpose="To remember the user from one page to another",
        ),
        Cookie(
            "django_language",
            "necessary",
            provider="Opendatasoft",
            purpose="To remember the visitor's language",
        ),
        Cookie(
            "csrftoken",
            "necessary",
            provider="Opendatasoft",
            purpose="To retrieve data via API calls",
        ),
        Cookie(
            "cookies_preferences",
            "necessary",
            provider="Opendatasoft",
            purpose="To remember the visitor's cookie preferences",
        ),
    ],
    revision=1,
)
