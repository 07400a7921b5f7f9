"""Settings of the demo portal: a Django site behind cookieguard, with SQLite and no network.

The keys are for local development only: set ``PORTAL_SECRET_KEY`` before exposing it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("PORTAL_SECRET_KEY", "dev-only-not-secret-django-example")
DEBUG = os.environ.get("PORTAL_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",  # the consent log's read-only admin
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.sessions",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    "cookieguard.django",
    "portal",
]

MIDDLEWARE = [
    "cookieguard.django.CookieGuardMiddleware",  # first: it sees every cookie the others set
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.matomo.MatomoMiddleware",
]

COOKIEGUARD = {
    "REGISTRY": "portal.cookies.registry",
    # Every choice made in the banner is recorded in the database (see /admin/).
    "OPTIONS": {"on_consent": "cookieguard.django.consentlog.log_consent"},
}
# The admin's messages in the session, not in a cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

#: The sessions and the consent log live in SQLite, in the system's temporary directory
#: (``PORTAL_DB`` moves it).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PORTAL_DB", str(Path(tempfile.gettempdir()) / "portal-demo.db")),
    }
}

USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
