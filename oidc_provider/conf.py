"""The one settings object of the app, read from ``settings.OIDC_PROVIDER``.

Modelled on DRF's ``api_settings`` and django-cors-headers' ``conf.py``: every key is a typed,
documented attribute of ``OIDCProviderSettings`` with its default, read lazily (never at
import time), kept on the instance after the first read (this object is read on every API
request) and forgotten on ``setting_changed`` so ``override_settings`` works in tests.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

T = TypeVar("T")


class Setting(Generic[T]):
    """One key of a settings dict: its default, what it means, and whether it is a dotted path.

    A non-data descriptor: the first read resolves the value and stores it on the instance,
    so later reads are plain attribute lookups until ``reload()``.
    """

    def __init__(self, default: T, doc: str, *, dotted_path: bool = False) -> None:
        self.default = default
        self.doc = doc
        self.dotted_path = dotted_path
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Setting[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.user_settings.get(self.name, self.default)
        if self.dotted_path and isinstance(value, str):
            value = import_string(value)
        value = instance.clean(self.name, value)
        instance.__dict__[self.name] = value
        return value


def defaults_of(cls: type) -> dict[str, Any]:
    """name -> default of every Setting declared on ``cls``."""
    return {name: value.default for name, value in vars(cls).items() if isinstance(value, Setting)}


class CachedSettings:
    """Base of the settings objects: ``user_settings`` to read, ``reload()`` to forget."""

    KIND = ""

    def __getattr__(self, name: str) -> Any:  # only reached for names that are not declared
        raise AttributeError(f"Invalid {self.KIND} setting: {name!r}")

    @property
    def user_settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def clean(self, name: str, value: Any) -> Any:
        return value

    def reload(self) -> None:
        for name in [n for n in self.__dict__ if not n.startswith("_")]:
            del self.__dict__[name]


class OIDCProviderSettings(CachedSettings):
    """``settings.OIDC_PROVIDER``; every key, its type and its default (README: settings reference)."""

    KIND = "OIDC_PROVIDER"

    ISSUER = Setting[str | None](
        None, "Issuer identifier (absolute https URL); DOT's OIDC_ISS_ENDPOINT if unset."
    )
    # Access and ID tokens (RFC 9068, OIDC Core §2).
    ACCESS_TOKEN_LIFETIME = Setting[int](900, "Seconds; per client in the admin.")
    ID_TOKEN_LIFETIME = Setting[int](600, "Seconds; per client in the admin.")
    DEFAULT_AUDIENCE = Setting[list[str]](
        [], "aud of access tokens for clients that name none; [] means [ISSUER]."
    )
    ACCESS_TOKEN_ALGORITHM = Setting[str]("RS256", "Algorithm of the key that signs access tokens.")
    ALLOWED_ALGORITHMS = Setting[list[str]](
        ["RS256", "PS256", "ES256", "EdDSA"], "Algorithms accepted when validating; never none or HMAC."
    )
    ACCESS_TOKEN_CLAIMS_HOOK = Setting[Any](
        None, "Dotted path of f(user, client, scopes, request) -> dict of extra claims.", dotted_path=True
    )
    USERINFO_CLAIMS_PROVIDER = Setting[Any](
        "oidc_provider.claims.default_user_claims",
        "Dotted path of f(user) -> dict of standard claims.",
        dotted_path=True,
    )
    REQUIRE_OFFLINE_ACCESS_FOR_REFRESH = Setting[bool](
        False, "OIDC Core §11: refresh tokens for code-flow clients only with offline_access."
    )
    # Signing keys.
    RSA_KEY_SIZE = Setting[int](2048, "Bits of generated RSA keys (NIST SP 800-57: fine through 2030).")
    KEY_ROTATION_PERIOD = Setting[int | None](None, "Seconds between rotations by oidc_keys rotate --if-due.")
    KEY_RETIRE_LEEWAY = Setting[int](300, "Extra seconds a retired key stays in the JWKS.")
    ENCRYPTION_KEYS = Setting[list[str]]([], "Fernet keys; the first encrypts, all decrypt.")
    KEY_CACHE_CHECK_INTERVAL = Setting[float](5, "Seconds between checks of the shared version stamps.")
    CACHE_ALIAS = Setting[str]("default", "Django cache shared by all processes.")
    JWKS_MAX_AGE = Setting[int](3600, "Cache-Control max-age of the JWKS, seconds.")
    # Validation.
    LEEWAY = Setting[int](30, "Clock skew allowed for exp/nbf/iat, seconds.")
    MAX_TOKEN_SIZE = Setting[int](8192, "Longer tokens are refused before parsing.")
    RESOURCE_SERVER = Setting[dict[str, Any]]({}, "How DRF/ninja APIs validate tokens (contrib conf).")
    # Client authentication with JWT assertions (RFC 7523).
    CLIENT_ASSERTION_MAX_LIFETIME = Setting[int](300, "Seconds an assertion's exp may be ahead / iat behind.")
    CLIENT_JWKS_CACHE_SECONDS = Setting[int](3600, "How long a client's fetched jwks_uri is cached.")
    CLIENT_JWKS_MIN_REFETCH_INTERVAL = Setting[int](60, "Each jwks_uri is fetched at most once per interval.")
    HTTP_TIMEOUT = Setting[float](5, "Seconds: total deadline of each outbound fetch (fetch.py).")
    FETCH_ALLOWED_HOSTS = Setting[list[str]](
        [], "Host names outbound fetches may reach although they resolve to internal addresses."
    )

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, "OIDC_PROVIDER", None) or {}

    def clean(self, name: str, value: Any) -> Any:
        if name == "ISSUER":
            if not value:
                from oauth2_provider.settings import oauth2_settings

                value = oauth2_settings.OIDC_ISS_ENDPOINT or None
            return value.rstrip("/") if value else None
        return value

    @property
    def default_audience(self) -> list[str]:
        return list(self.DEFAULT_AUDIENCE) or [self.ISSUER]


DEFAULTS: dict[str, Any] = defaults_of(OIDCProviderSettings)
IMPORT_STRINGS = tuple(
    name
    for name, value in vars(OIDCProviderSettings).items()
    if isinstance(value, Setting) and value.dotted_path
)

oidc_settings = OIDCProviderSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("OIDC_PROVIDER", "OAUTH2_PROVIDER", "SECRET_KEY", "CACHES"):
        oidc_settings.reload()


setting_changed.connect(_reload)
