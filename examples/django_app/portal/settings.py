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
    "django.contrib.sessions",
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.matomo.MatomoMiddleware",
]

COOKIEGUARD = {"REGISTRY": "portal.cookies.registry"}

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
            ],
        },
    },
]

#: The sessions live in SQLite, in the system's temporary directory (``PORTAL_DB`` moves it).
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
