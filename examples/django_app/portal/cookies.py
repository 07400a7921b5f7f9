"""The portal's cookies, as the Opendatasoft cookie policy declares them (and Matomo's)."""

from __future__ import annotations

from cookieguard import Category, Cookie, Registry

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
        ),
        Cookie(
            "_pk_ses.*",
            "statistics",
            provider="Matomo",
            purpose="Group the pages of one visit",
            duration="30 minutes",
        ),
    ],
    revision=1,
)
