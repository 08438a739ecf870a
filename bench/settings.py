"""Benchmark settings: the test settings on a throwaway SQLite file (or DATABASE_URL)."""

import os
import tempfile

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

if "DATABASE_URL" not in os.environ:
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.mkdtemp(prefix="oidc-bench-"), "bench.sqlite3"),
    }
DEBUG = False
ROOT_URLCONF = "bench.urls"
OIDC_PROVIDER = {**OIDC_PROVIDER, "RSA_KEY_SIZE": 2048}  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": True}
