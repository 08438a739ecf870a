"""Settings of the multi-node soak (bench/soak.py): the test settings with the password hashers of
the README's install (Django's defaults, PBKDF2 first, plus the client-secret hasher), the soak's own
PostgreSQL database and the Redis the soak starts."""

import os

from django.conf import global_settings

from tests.settings import *  # noqa: F403
from tests.settings import OIDC_PROVIDER

PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "oidc_provider.client_secrets.ClientSecretHasher"]

DEBUG = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("OIDC_SOAK_DB", "postgres"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "CONN_MAX_AGE": 60,
    }
}
if os.environ.get("OIDC_SOAK_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["OIDC_SOAK_REDIS_URL"],
            # A Redis that is restarting must cost milliseconds, not a hung worker.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
OIDC_PROVIDER = {
    **OIDC_PROVIDER,
    "KEY_CACHE_CHECK_INTERVAL": int(os.environ.get("OIDC_SOAK_INTERVAL", "5")),
    "RESOURCE_SERVER": {"REVOCATION_CHECK": "database"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
