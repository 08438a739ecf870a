"""A complete identity provider on SQLite: DOT + oidc_provider + DRF + the admin.

Copy what you need: the OAUTH2_PROVIDER and OIDC_PROVIDER blocks are the exact lines a
site adds to turn DOT into an OpenID Connect provider with JWT access tokens.
"""

import os
from pathlib import Path

import django
from django.conf import global_settings

BASE_DIR = Path(__file__).resolve().parent

# Demo only: a real site reads these from the environment.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

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
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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
WSGI_APPLICATION = "example_project.wsgi.application"

# SQLite as a site owner would deploy it: connections kept across requests (CONN_MAX_AGE), and
# on Django 5.1+ write-ahead logging, so readers never wait for the writer, with writes that
# take the lock at BEGIN instead of failing with "database is locked" under concurrency.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB", BASE_DIR.parent / "demo.sqlite3"),
        "CONN_MAX_AGE": 60,
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        if django.VERSION >= (5, 1)
        else {"timeout": 20},
    }
}
# Shared between processes in production: use Redis, e.g.
# {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379"}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# The issuer every token names. The demo serves plain http on localhost; a real site uses https.
ISSUER = os.environ.get("OIDC_ISSUER", "http://127.0.0.1:8000/o")

# --- The demo relying party (example_project/rp) ----------------------------------------
# A separate client app: it reaches the provider only over HTTP, like a third-party site.
_SITE = ISSUER.rsplit("/o", 1)[0]  # the provider and the RP share one demo server
DEMO_RP = {
    "ISSUER": ISSUER,
    "CLIENT_ID": "demo-confidential",
    "CLIENT_SECRET": "demo-confidential-Zq8Rt3Wm6Yp1Kd4Hs7Vn2Bx5",
    "REDIRECT_URI": f"{_SITE}/rp/callback",
    "POST_LOGOUT_REDIRECT_URI": f"{_SITE}/rp/",
    "SCOPE": "openid profile email read",
    "API_URL": f"{_SITE}/api/me",
}
# A second relying party (another client of the provider) at /rp2/: sign in to both, sign out
# of one, and the provider's back-channel logout signs you out of the other.
DEMO_RPS = {
    "rp": DEMO_RP,
    "rp2": {
        **DEMO_RP,
        "NAME": "Second demo relying party",
        "CLIENT_ID": "demo-rp2",
        "CLIENT_SECRET": "demo-rp2-Pw4Nc7Hx2Qm9Ls5Tf8Kb3Jv6Gd",
        "REDIRECT_URI": f"{_SITE}/rp2/callback",
        "POST_LOGOUT_REDIRECT_URI": f"{_SITE}/rp2/",
    },
}

# Django's password hashers for users, plus the client-secret hasher (never first: it must
# not hash user passwords; check oidc_provider.E090).
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "oidc_provider.client_secrets.ClientSecretHasher"]

# --- OpenID Connect provider -----------------------------------------------------------
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    # OIDC_PROVIDER["ISSUER"] defaults to this.
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OAUTH2_VALIDATOR_CLASS": "oidc_provider.validators.OIDCValidator",
    "OIDC_SERVER_CLASS": "oidc_provider.server.Server",
    "ACCESS_TOKEN_GENERATOR": "oidc_provider.tokens.generate_access_token",
    "REFRESH_TOKEN_GENERATOR": "oidc_provider.tokens.generate_refresh_token",
    "APPLICATION_ADMIN_CLASS": "oidc_provider.admin.ApplicationAdmin",
    # Generated client secrets are random: a salted SHA-256 hash is enough (SECURITY.md), and
    # each token request skips ~0.5 s of PBKDF2. Listed in PASSWORD_HASHERS below, never first.
    "CLIENT_SECRET_HASHER": "oidc_client_secret_sha256",
    "PKCE_REQUIRED": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "SCOPES": {
        "openid": "Sign you in with your account",
        "profile": "See your name and username",
        "email": "See your email address",
        "read": "Read your data through the API",
        "write": "Change your data through the API",
        "introspection": "Check tokens (for resource servers)",
    },
    "DEFAULT_SCOPES": ["openid"],
}
OIDC_PROVIDER = {
    "ACCESS_TOKEN_LIFETIME": 900,
    "DEFAULT_AUDIENCE": ["http://127.0.0.1:8000/api"],
    # Demo only: generate your own with Fernet.generate_key() and keep it out of git.
    "ENCRYPTION_KEYS": [
        os.environ.get("OIDC_ENCRYPTION_KEY", "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLTMyYnl0ZXM=")
    ],
    # The demo RPs live in this site, on 127.0.0.1: let back-channel logout reach them. A real
    # provider leaves this False, so logout tokens go only to public https addresses.
    "BACKCHANNEL_LOGOUT_ALLOW_PRIVATE_ADDRESSES": True,
    # The demo API lives in this site: validate with the local key ring, accept its audience,
    # and refuse revoked tokens (the site's revocation list, read once per KEY_CACHE_CHECK_INTERVAL).
    "RESOURCE_SERVER": {
        "AUDIENCE": "http://127.0.0.1:8000/api",
        "REVOCATION_CHECK": "database",
        # RFC 9728 document of the demo API (RESOURCE defaults to the AUDIENCE above).
        "SCOPES_SUPPORTED": ["read", "write"],
    },
}

REST_FRAMEWORK = {
    # JWT access tokens checked against this site's keys in memory: no query per request.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oidc_provider.contrib.rest_framework.authentication.JWTAccessTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
