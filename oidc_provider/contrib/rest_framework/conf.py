"""Resource-server settings: ``OIDC_PROVIDER["RESOURCE_SERVER"]``, resolved against the app defaults.

Readable in a separate service that has neither oidc_provider's models nor DOT's migrated:
nothing here imports a model.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed

from oidc_provider.conf import oidc_settings

RESOURCE_SERVER_DEFAULTS: dict[str, Any] = {
    # "local": this site's key ring; "remote": another site's JWKS over HTTP.
    "MODE": "local",
    # Audience this API accepts (str or list); None means OIDC_PROVIDER's default audience.
    "AUDIENCE": None,
    # Issuer tokens must name; None means OIDC_PROVIDER["ISSUER"].
    "ISSUER": None,
    # Remote mode: the issuer's JWKS URI, or its discovery document (which names jwks_uri).
    "JWKS_URI": None,
    "DISCOVERY_URL": None,
    # Seconds fetched keys are used before they are fetched again.
    "JWKS_CACHE_SECONDS": 300,
    # Seconds fetched keys stay usable after that when the issuer cannot be reached.
    "JWKS_STALE_IF_ERROR_SECONDS": 86400,
    # At most one fetch per this many seconds, across processes (unknown kid, expiry).
    "JWKS_MIN_REFETCH_INTERVAL": 60,
    "HTTP_TIMEOUT": 5,
    # "lazy": request.user is the user row, loaded on first access; "stateless": a TokenUser.
    "USER_MODE": "lazy",
    # None; "database": this site's revocation list (same site; one query per
    # KEY_CACHE_CHECK_INTERVAL per process); "cache": markers in the shared cache (a separate
    # service sharing the site's Redis); "introspection": ask the issuer (RFC 7662).
    "REVOCATION_CHECK": None,
    # Introspection: seconds a result is reused, so a revoked token is refused within this delay.
    "REVOCATION_CHECK_DELAY": 60,
    # Introspection endpoint (None: from DISCOVERY_URL) and this API's client credentials.
    "INTROSPECTION_URL": None,
    "INTROSPECTION_CLIENT_ID": None,
    "INTROSPECTION_CLIENT_SECRET": None,
    # realm of the WWW-Authenticate challenge (RFC 6750 §3).
    "REALM": "api",
    # RFC 9728: this API's resource identifier; None means the first AUDIENCE.
    "RESOURCE": None,
    # RFC 9728 §5.1: URL of the metadata document named in 401 challenges. None: the
    # well-known URL of RESOURCE when this site serves the metadata view; "" never.
    "RESOURCE_METADATA_URL": None,
    # RFC 9728 §2 scopes_supported of the metadata document; None means DOT's SCOPES.
    "SCOPES_SUPPORTED": None,
}

MODES = ("local", "remote")
USER_MODES = ("lazy", "stateless")
REVOCATION_CHECKS = (None, "database", "cache", "introspection")


class ResourceServerSettings:
    """Attribute access to RESOURCE_SERVER with defaults, cached on the instance like oidc_settings."""

    DERIVED = ("issuer", "audience", "remote")

    def __init__(self) -> None:
        self._names: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        return dict(oidc_settings.RESOURCE_SERVER or {})

    def __getattr__(self, name: str) -> Any:
        if name in self.DERIVED:
            value = getattr(self, f"_compute_{name}")()
        elif name.startswith("_") or name not in RESOURCE_SERVER_DEFAULTS:
            raise AttributeError(f"Invalid RESOURCE_SERVER setting: {name!r}")
        else:
            value = self.user_settings.get(name, RESOURCE_SERVER_DEFAULTS[name])
        setattr(self, name, value)
        self._names.add(name)
        return value

    def _compute_issuer(self) -> str | None:
        issuer = self.ISSUER or oidc_settings.ISSUER
        return issuer.rstrip("/") if issuer else None

    def _compute_audience(self) -> list[str]:
        audience = self.AUDIENCE
        if not audience:
            return oidc_settings.default_audience
        return [audience] if isinstance(audience, str) else list(audience)

    def _compute_remote(self) -> bool:
        return self.MODE == "remote"

    def reload(self) -> None:
        for name in self._names:
            self.__dict__.pop(name, None)
        self._names.clear()


resource_settings = ResourceServerSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("OIDC_PROVIDER", "OAUTH2_PROVIDER"):
        resource_settings.reload()


setting_changed.connect(_reload)
