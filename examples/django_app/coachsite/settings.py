"""Settings of the example host: Django owns users and sessions, coachcore the coaching.

The two coachcore settings come from the environment, as they would in production:

- ``COACHCORE_URL``: where coachcore keeps its data (``sqlite:///coaching.db``,
  ``postgresql+psycopg://...``); it may be the host's own database, coachcore's
  tables are prefixed ``coachcore_``.
- ``COACHCORE_KEYS``: Fernet keys, newest first, comma-separated (encryption at
  rest of the sensitive fields); empty means no encryption.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "coaching",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coaching.middleware.CoachcoreErrors",
]

ROOT_URLCONF = "coachsite.urls"
WSGI_APPLICATION = "coachsite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DATABASE", str(BASE_DIR / "host.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

COACHCORE_URL = os.environ.get("COACHCORE_URL", f"sqlite:///{BASE_DIR / 'coaching.db'}")
COACHCORE_KEYS = os.environ.get("COACHCORE_KEYS") or None
COACHCORE_OPTIONS: dict[str, object] = {"retention_days": 365}  # more coachcore.open(...) options
