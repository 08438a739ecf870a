"""System checks: a misconfigured site fails at ``manage.py check``, not at the first request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings
from django.core import checks

from .conf import DEFAULTS, oidc_settings
from .jose import ALGORITHMS, ASYMMETRIC

WIRING = """Add to OAUTH2_PROVIDER:
    "OIDC_ENABLED": True,
    "OAUTH2_VALIDATOR_CLASS": "oidc_provider.validators.OIDCValidator",
    "OIDC_SERVER_CLASS": "oidc_provider.server.Server",
    "ACCESS_TOKEN_GENERATOR": "oidc_provider.tokens.generate_access_token",
    "REFRESH_TOKEN_GENERATOR": "oidc_provider.tokens.generate_refresh_token","""


def _dot_setting(name: str) -> Any:
    from oauth2_provider.settings import oauth2_settings

    return getattr(oauth2_settings, name)


@checks.register(checks.Tags.security)
def check_wiring(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if not apps.is_installed("oauth2_provider"):
        return [
            checks.Error(
                "django-oauth-toolkit is not installed.",
                hint="Add 'oauth2_provider' to INSTALLED_APPS before 'oidc_provider'.",
                id="oidc_provider.E001",
            )
        ]
    from .server import Server
    from .tokens import generate_access_token, generate_refresh_token
    from .validators import OIDCValidator

    errors: list[checks.CheckMessage] = []
    validator = _dot_setting("OAUTH2_VALIDATOR_CLASS")
    if not (isinstance(validator, type) and issubclass(validator, OIDCValidator)):
        errors.append(
            checks.Error(
                "OAUTH2_PROVIDER['OAUTH2_VALIDATOR_CLASS'] is not oidc_provider's validator.",
                hint=WIRING,
                id="oidc_provider.E002",
            )
        )
    if _dot_setting("ACCESS_TOKEN_GENERATOR") is not generate_access_token:
        errors.append(
            checks.Error(
                "OAUTH2_PROVIDER['ACCESS_TOKEN_GENERATOR'] does not issue our JWT access tokens.",
                hint=WIRING,
                id="oidc_provider.E003",
            )
        )
    if _dot_setting("REFRESH_TOKEN_GENERATOR") is None:
        errors.append(
            checks.Error(
                "OAUTH2_PROVIDER['REFRESH_TOKEN_GENERATOR'] is unset, so oauthlib would issue JWT "
                "refresh tokens with the access-token generator.",
                hint=WIRING,
                id="oidc_provider.E004",
            )
        )
    if not _dot_setting("OIDC_ENABLED"):
        errors.append(
            checks.Error("OAUTH2_PROVIDER['OIDC_ENABLED'] is not True.", hint=WIRING, id="oidc_provider.E005")
        )
    server = _dot_setting("OAUTH2_SERVER_CLASS")
    if not (isinstance(server, type) and issubclass(server, Server)):
        errors.append(
            checks.Error(
                "The oauthlib server class is not oidc_provider's, so per-client access-token "
                "lifetimes would not apply.",
                hint=WIRING,
                id="oidc_provider.E006",
            )
        )
    if _dot_setting("OIDC_ENABLED"):
        from oauth2_provider.scopes import get_scopes_backend

        if "openid" not in get_scopes_backend().get_all_scopes():
            errors.append(
                checks.Error(
                    "OIDC is enabled but no 'openid' scope is defined: no client can ask for an ID token.",
                    hint='Add "openid": "OpenID Connect" to OAUTH2_PROVIDER["SCOPES"] (OIDC Core §3.1.2.1).',
                    id="oidc_provider.E008",
                )
            )
    if generate_refresh_token is _dot_setting("ACCESS_TOKEN_GENERATOR"):
        errors.append(
            checks.Error(
                "ACCESS_TOKEN_GENERATOR is the refresh token generator.", hint=WIRING, id="oidc_provider.E007"
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_issuer(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    issuer = oidc_settings.ISSUER
    if not issuer:
        return [
            checks.Error(
                "No issuer is configured.",
                hint="Set OIDC_PROVIDER['ISSUER'] to this site's absolute https URL, e.g. "
                "'https://id.example.com/o'.",
                id="oidc_provider.E010",
            )
        ]
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return [
            checks.Error(
                f"The issuer {issuer!r} is not an absolute URL without query or fragment.",
                hint="OIDC Discovery §3: the issuer is an https URL with scheme, host and optional path.",
                id="oidc_provider.E011",
            )
        ]
    errors: list[checks.CheckMessage] = []
    if parts.scheme != "https" and not settings.DEBUG:
        errors.append(
            checks.Error(
                f"The issuer {issuer!r} does not use https while DEBUG is off.",
                hint="Serve the provider over TLS and use an https issuer.",
                id="oidc_provider.E012",
            )
        )
    dot_issuer = _dot_setting("OIDC_ISS_ENDPOINT") if apps.is_installed("oauth2_provider") else ""
    if dot_issuer and dot_issuer.rstrip("/") != issuer:
        errors.append(
            checks.Error(
                "OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'] differs from OIDC_PROVIDER['ISSUER'].",
                hint="Set only one of them, or the same URL in both.",
                id="oidc_provider.E013",
            )
        )
    return errors


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    unknown = sorted(set(oidc_settings.user_settings) - set(DEFAULTS))
    if unknown:
        errors.append(
            checks.Error(
                f"Unknown OIDC_PROVIDER settings: {', '.join(unknown)}.",
                hint="See the settings reference in README.md.",
                id="oidc_provider.E020",
            )
        )
    allowed = oidc_settings.ALLOWED_ALGORITHMS
    bad = [a for a in allowed if a not in ASYMMETRIC]
    if bad or not allowed:
        errors.append(
            checks.Error(
                f"OIDC_PROVIDER['ALLOWED_ALGORITHMS'] has unknown or unsafe algorithms: {bad or allowed}.",
                hint=f"Choose among {', '.join(sorted(ASYMMETRIC))}; 'none' and HMAC are never allowed.",
                id="oidc_provider.E021",
            )
        )
    alg = oidc_settings.ACCESS_TOKEN_ALGORITHM
    if alg not in ALGORITHMS or alg not in allowed:
        errors.append(
            checks.Error(
                f"OIDC_PROVIDER['ACCESS_TOKEN_ALGORITHM'] {alg!r} is not in ALLOWED_ALGORITHMS.",
                hint="Use one of ALLOWED_ALGORITHMS, e.g. 'RS256' or 'ES256'.",
                id="oidc_provider.E022",
            )
        )
    for name in ("ACCESS_TOKEN_LIFETIME", "ID_TOKEN_LIFETIME", "LEEWAY", "JWKS_MAX_AGE"):
        value = getattr(oidc_settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.append(
                checks.Error(
                    f"OIDC_PROVIDER['{name}'] must be a whole number of seconds, not {value!r}.",
                    hint=f"The default is {DEFAULTS[name]}.",
                    id="oidc_provider.E023",
                )
            )
    errors += _check_default_audience()
    for key in oidc_settings.ENCRYPTION_KEYS:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                checks.Error(
                    "An entry of OIDC_PROVIDER['ENCRYPTION_KEYS'] is not a Fernet key.",
                    hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="oidc_provider.E024",
                )
            )
            break
    errors += _check_cache()
    if not oidc_settings.ENCRYPTION_KEYS:
        errors.append(
            checks.Warning(
                "Private signing keys are encrypted with a key derived from SECRET_KEY.",
                hint="Set OIDC_PROVIDER['ENCRYPTION_KEYS'] to a list of Fernet keys so that rotating "
                "SECRET_KEY does not lock you out of your signing keys.",
                id="oidc_provider.W001",
            )
        )
    return errors


def _check_default_audience() -> list[checks.CheckMessage]:
    """A string would be iterated into single characters, each one an audience."""
    value = oidc_settings.DEFAULT_AUDIENCE
    if isinstance(value, list | tuple) and all(
        isinstance(v, str) and urlsplit(v).scheme and urlsplit(v).netloc for v in value
    ):
        return []
    return [
        checks.Error(
            f"OIDC_PROVIDER['DEFAULT_AUDIENCE'] must be a list of absolute URIs, not {value!r}.",
            hint='e.g. ["https://api.example.com"]; an empty list means [ISSUER].',
            id="oidc_provider.E029",
        )
    ]


def _check_cache() -> list[checks.CheckMessage]:
    """Key changes, revocation markers, client settings and assertion jtis travel through this cache."""
    alias = oidc_settings.CACHE_ALIAS
    if alias not in settings.CACHES:
        return [
            checks.Error(
                f"OIDC_PROVIDER['CACHE_ALIAS'] is {alias!r}, which names no cache in CACHES.",
                hint="Name a cache shared by all processes (Redis or Memcached in production).",
                id="oidc_provider.E025",
            )
        ]
    backend = settings.CACHES[alias].get("BACKEND", "")
    if backend.endswith(".DummyCache"):
        return [
            checks.Error(
                f"The cache {alias!r} stores nothing: replayed client assertions (RFC 7523 jti) "
                "cannot be detected and revocation markers are lost.",
                hint="Use Redis or Memcached (LocMemCache for a single process in development).",
                id="oidc_provider.E026",
            )
        ]
    if backend.endswith(".LocMemCache"):
        # Also under DEBUG: `gunicorn -w 2` on the demo settings is how most sites start.
        return [
            checks.Warning(
                f"The cache {alias!r} is local to each process: with several processes, key and "
                "client changes reach the others only through the database (within "
                "KEY_CACHE_CHECK_INTERVAL), replayed assertions cost a query, and services outside "
                "this site see no revocation markers (REVOCATION_CHECK 'cache').",
                hint="Use Redis (django.core.cache.backends.redis.RedisCache) or Memcached when "
                "more than one process serves the site.",
                id="oidc_provider.W002",
            )
        ]
    return []


@checks.register()
def check_client_auth_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for name in (
        "CLIENT_ASSERTION_MAX_LIFETIME",
        "CLIENT_JWKS_CACHE_SECONDS",
        "CLIENT_JWKS_MIN_REFETCH_INTERVAL",
        "HTTP_TIMEOUT",
    ):
        value = getattr(oidc_settings, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            errors.append(
                checks.Error(
                    f"OIDC_PROVIDER['{name}'] must be a positive number of seconds, not {value!r}.",
                    hint=f"The default is {DEFAULTS[name]}.",
                    id="oidc_provider.E050",
                )
            )
    return errors


@checks.register(checks.Tags.database)
def check_client_auth(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Clients whose JWT authentication cannot work (``check --database default``, migrate)."""
    if not databases or not apps.is_installed("oauth2_provider"):
        return []
    from django.db import DatabaseError

    from .client_auth import secret_is_recoverable
    from .client_jwks import uri_allowed
    from .models import ClientProfile

    Method = ClientProfile.AuthMethod
    try:
        profiles = list(
            ClientProfile.objects.filter(
                token_endpoint_auth_method__in=[Method.SECRET_JWT, Method.PRIVATE_KEY_JWT]
            ).select_related("application")
        )
    except DatabaseError:
        return []  # not migrated yet
    errors: list[checks.CheckMessage] = []
    for profile in profiles:
        client_id = profile.application.client_id
        method = profile.token_endpoint_auth_method
        if method == Method.SECRET_JWT and not secret_is_recoverable(profile.application):
            errors.append(
                checks.Error(
                    f"Client {client_id!r} uses client_secret_jwt but its secret is stored hashed.",
                    hint="Untick 'Hash client secret' and set a new secret in the admin, or switch the "
                    "client to private_key_jwt.",
                    id="oidc_provider.E051",
                )
            )
        if method == Method.PRIVATE_KEY_JWT and not (profile.client_jwks or profile.client_jwks_uri):
            errors.append(
                checks.Error(
                    f"Client {client_id!r} uses private_key_jwt but has no JWKS or JWKS URI.",
                    hint="Paste the client's public JWKS or its jwks_uri in the admin.",
                    id="oidc_provider.E052",
                )
            )
        if (
            method == Method.PRIVATE_KEY_JWT
            and profile.client_jwks_uri
            and not uri_allowed(profile.client_jwks_uri)
        ):
            errors.append(
                checks.Error(
                    f"Client {client_id!r} has a JWKS URI that is not https.",
                    hint="Use the client's https jwks_uri; http is accepted only with DEBUG.",
                    id="oidc_provider.E053",
                )
            )
    return errors


@checks.register(checks.Tags.urls)
def check_authorization_view(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """OIDC Core §3.1.2: prompt, max_age and id_token_hint are answered by our view only."""
    if not apps.is_installed("oauth2_provider"):
        return []  # E001; our views cannot be imported without DOT
    from django.urls import NoReverseMatch, resolve, reverse

    from .views import AuthorizationView

    try:
        match = resolve(reverse("oauth2_provider:authorize"))
    except NoReverseMatch:
        return []
    view_class = getattr(match.func, "view_class", None)
    if isinstance(view_class, type) and issubclass(view_class, AuthorizationView):
        return []
    return [
        checks.Error(
            "The authorization endpoint is not served by oidc_provider.views.AuthorizationView: "
            "prompt=none, prompt=consent, max_age and RFC 9207 iss would not be honoured.",
            hint='Mount path("o/", include("oidc_provider.urls")) instead of DOT\'s URLs, or '
            "subclass oidc_provider.views.AuthorizationView for your own authorization view.",
            id="oidc_provider.E060",
        )
    ]


@checks.register(checks.Tags.database)
def check_signing_keys(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Active and next keys whose private half ENCRYPTION_KEYS cannot open (``check --database default``)."""
    if not databases:
        return []
    from django.db import DatabaseError

    from .encryption import KeyDecryptionError, decrypt
    from .models import SigningKey

    try:
        rows = list(
            SigningKey.objects.filter(state__in=[SigningKey.State.ACTIVE, SigningKey.State.NEXT]).values_list(
                "kid", "algorithm", "state", "private_key_encrypted"
            )
        )
    except DatabaseError:
        return []  # not migrated yet
    errors: list[checks.CheckMessage] = []
    for kid, alg, state, encrypted in rows:
        try:
            decrypt(encrypted, kid)
        except KeyDecryptionError:
            errors.append(
                checks.Error(
                    f"The private key of the {state} {alg} signing key {kid} cannot be decrypted with "
                    "OIDC_PROVIDER['ENCRYPTION_KEYS'] (or the SECRET_KEY-derived key when that is empty).",
                    hint="Add the Fernet key it was encrypted with to ENCRYPTION_KEYS (the first entry "
                    f"encrypts, every entry decrypts), or replace it: `manage.py oidc_keys revoke {kid}`.",
                    id="oidc_provider.E027",
                )
            )
    return errors
