"""Minimal settings for the test suite: SQLite by default, PostgreSQL with DATABASE_URL."""

import os
from urllib.parse import urlsplit

SECRET_KEY = "tests-only-secret-key-with-enough-length-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "oidc_provider",
    "oidc_provider.contrib.rest_framework",  # resource-server system checks
    "example_project.demo_api",
    "example_project.rp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": ["example_project/templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests only


def _database():
    url = os.environ.get("DATABASE_URL")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "postgres",
        "USER": parts.username or "postgres",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
        # One test database per run, so parallel runs on one server never collide.
        "TEST": {"NAME": f"test_oidc_provider_{os.getpid()}"},
        # A peer process (tests/peer.py) connects straight to the parent's test database.
        **({"NAME": os.environ["OIDC_TEST_DB_NAME"]} if "OIDC_TEST_DB_NAME" in os.environ else {}),
    }


DATABASES = {"default": _database()}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("OIDC_TEST_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["OIDC_TEST_REDIS_URL"],
        }
    }

ISSUER = "https://testserver/o"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OAUTH2_VALIDATOR_CLASS": "oidc_provider.validators.OIDCValidator",
    "OIDC_SERVER_CLASS": "oidc_provider.server.Server",
    "ACCESS_TOKEN_GENERATOR": "oidc_provider.tokens.generate_access_token",
    "REFRESH_TOKEN_GENERATOR": "oidc_provider.tokens.generate_refresh_token",
    "APPLICATION_ADMIN_CLASS": "oidc_provider.admin.ApplicationAdmin",
    "PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": "OpenID",
        "profile": "Profile",
        "email": "Email",
        "phone": "Phone",
        "address": "Address",
        "offline_access": "Offline access",
        "read": "Read",
        "write": "Write",
        "introspection": "Introspect",
    },
    "DEFAULT_SCOPES": ["openid"],
}
OIDC_PROVIDER = {
    "DEFAULT_AUDIENCE": ["https://api.example.com"],
    # Django's test client host: tests that fetch from it stand in for the network (and for DNS).
    "FETCH_ALLOWED_HOSTS": ["testserver"],
    "ENCRYPTION_KEYS": ["dGVzdHMtb25seS1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="],
    "RSA_KEY_SIZE": 2048,
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oidc_provider.contrib.rest_framework.authentication.JWTAccessTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
# The demo relying party, pointed at the test server (tests/test_rp.py routes its HTTP there).
DEMO_RP = {
    "ISSUER": ISSUER,
    "CLIENT_ID": "demo-confidential",
    "CLIENT_SECRET": "demo-confidential-secret",
    "REDIRECT_URI": "https://testserver/rp/callback",
    "POST_LOGOUT_REDIRECT_URI": "https://testserver/rp/",
    "SCOPE": "openid profile email read",
    "API_URL": "https://testserver/api/me",
}
# DOT's swappable model settings, spelled out so `makemigrations --check` can resolve them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
