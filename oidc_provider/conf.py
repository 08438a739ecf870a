"""The one settings object of the app, read from ``settings.OIDC_PROVIDER``.

Modelled on DRF's ``api_settings``: lazy, never read at import time, cleared on
``setting_changed`` so ``override_settings`` works in tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # Issuer identifier (absolute https URL). Falls back to DOT's OIDC_ISS_ENDPOINT.
    "ISSUER": None,
    # Access tokens (RFC 9068).
    "ACCESS_TOKEN_LIFETIME": 900,
    "ID_TOKEN_LIFETIME": 600,
    # Audiences of access tokens for clients that name none; empty means [ISSUER].
    "DEFAULT_AUDIENCE": [],
    # Algorithm of the key that signs access tokens.
    "ACCESS_TOKEN_ALGORITHM": "RS256",
    # Algorithms this site may sign with or accept; "none" and HMAC-with-public-key never are.
    "ALLOWED_ALGORITHMS": ["RS256", "PS256", "ES256", "EdDSA"],
    # Callable(user, client, scopes, request) -> dict of extra access-token claims.
    "ACCESS_TOKEN_CLAIMS_HOOK": None,
    # Callable(user) -> dict of standard OIDC claims (profile, email, phone, address).
    "USERINFO_CLAIMS_PROVIDER": "oidc_provider.claims.default_user_claims",
    # OIDC Core §11: issue refresh tokens to code-flow clients only for offline_access.
    # False keeps DOT's behaviour (a refresh token with every authorization code exchange).
    "REQUIRE_OFFLINE_ACCESS_FOR_REFRESH": False,
    # Signing keys.
    "RSA_KEY_SIZE": 2048,  # NIST SP 800-57: fine through 2030; signing cost grows ~3x at 3072
    "KEY_ROTATION_PERIOD": None,  # seconds between automatic rotations (oidc_keys rotate --if-due)
    "KEY_RETIRE_LEEWAY": 300,  # extra seconds a retired key stays in the JWKS
    "ENCRYPTION_KEYS": [],  # Fernet keys; the first encrypts, all decrypt
    "KEY_CACHE_CHECK_INTERVAL": 5,  # seconds between checks of the shared key version stamp
    "CACHE_ALIAS": "default",
    "JWKS_MAX_AGE": 3600,
    # Validation.
    "LEEWAY": 30,
    "MAX_TOKEN_SIZE": 8192,
    # Resource server (DRF) side.
    "RESOURCE_SERVER": {},
    # Client authentication with JWT assertions (RFC 7523).
    "CLIENT_ASSERTION_MAX_LIFETIME": 300,
    "CLIENT_JWKS_CACHE_SECONDS": 3600,
    "CLIENT_JWKS_MIN_REFETCH_INTERVAL": 60,
    "HTTP_TIMEOUT": 5,  # seconds: total deadline of each outbound fetch (fetch.py)
    # Host names outbound fetches may reach although they resolve to loopback/private addresses.
    "FETCH_ALLOWED_HOSTS": [],
}

IMPORT_STRINGS = ("ACCESS_TOKEN_CLAIMS_HOOK", "USERINFO_CLAIMS_PROVIDER")


class OIDCProviderSettings:
    """Attribute access to ``OIDC_PROVIDER`` with defaults; dotted paths are imported.

    A value is computed on first access and then set on the instance, so later reads are
    plain attribute lookups (this object is read on every API request).
    """

    def __init__(self) -> None:
        self._names: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, "OIDC_PROVIDER", None) or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Invalid OIDC_PROVIDER setting: {name!r}")
        value = self.user_settings.get(name, DEFAULTS[name])
        if name in IMPORT_STRINGS and isinstance(value, str):
            value = import_string(value)
        if name == "ISSUER" and not value:
            from oauth2_provider.settings import oauth2_settings

            value = oauth2_settings.OIDC_ISS_ENDPOINT or None
        if name == "ISSUER" and value:
            value = value.rstrip("/")
        self._cache_value(name, value)
        return value

    def _cache_value(self, name: str, value: Any) -> None:
        setattr(self, name, value)
        self._names.add(name)

    @property
    def default_audience(self) -> list[str]:
        return list(self.DEFAULT_AUDIENCE) or [self.ISSUER]

    def reload(self) -> None:
        for name in self._names:
            self.__dict__.pop(name, None)
        self._names.clear()


oidc_settings = OIDCProviderSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("OIDC_PROVIDER", "OAUTH2_PROVIDER", "SECRET_KEY", "CACHES"):
        oidc_settings.reload()


setting_changed.connect(_reload)
