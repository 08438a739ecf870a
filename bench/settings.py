"""Benchmark settings: the test settings; bench/run.py creates and drops its own test database."""

import os
import tempfile

from django.conf import global_settings

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, OAUTH2_PROVIDER, PASSWORD_HASHERS

CLIENT_SECRET_HASHER = "oidc_provider.client_secrets.ClientSecretHasher"
# The two hasher configurations scenarios 2 and 6 compare: Django's default PASSWORD_HASHERS
# (PBKDF2 first: what a site gets) and the tests' fast MD5; the client-secret hasher in both.
HASHER_CONFIGS = {
    "default": [*global_settings.PASSWORD_HASHERS, CLIENT_SECRET_HASHER],
    "test": PASSWORD_HASHERS,
}
PASSWORD_HASHERS = HASHER_CONFIGS[os.environ.get("BENCH_HASHERS", "default")]

DEBUG = False
ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": True}

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: scenario 6's server processes open the same database. WAL and
    # synchronous=NORMAL are the usual production choice for Django on SQLite.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"oidc_provider_bench_{os.getpid()}.sqlite3")
    }
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Persistent connections, as a production server keeps them.
DATABASES["default"]["CONN_MAX_AGE"] = 60
if "OIDC_TEST_DB_NAME" in os.environ:
    # A server worker (scenario 6): the parent's benchmark database.
    DATABASES["default"]["NAME"] = os.environ["OIDC_TEST_DB_NAME"]

# django-oauth-toolkit exactly as shipped: the baseline of scenarios 2, 3 and 6. BENCH_STOCK_DOT
# makes a server of scenario 6 run it (no OIDC_RSA_PRIVATE_KEY: its client_credentials need none).
STOCK_OAUTH2_PROVIDER = {
    name: OAUTH2_PROVIDER[name] for name in ("OIDC_ENABLED", "PKCE_REQUIRED", "SCOPES", "DEFAULT_SCOPES")
}
if os.environ.get("BENCH_STOCK_DOT"):
    OAUTH2_PROVIDER = STOCK_OAUTH2_PROVIDER
