"""Resource-server settings: ``OIDC_PROVIDER["RESOURCE_SERVER"]``, resolved against the app defaults.

Readable in a separate service that has neither oidc_provider's models nor DOT's migrated:
nothing here imports a model.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.signals import setting_changed

from oidc_provider.conf import CachedSettings, Setting, defaults_of, oidc_settings

MODES = ("local", "remote")
USER_MODES = ("lazy", "stateless")
REVOCATION_CHECKS = (None, "database", "cache", "introspection")


class ResourceServerSettings(CachedSettings):
    """``OIDC_PROVIDER["RESOURCE_SERVER"]``: every key, its type and its default."""

    KIND = "RESOURCE_SERVER"

    MODE = Setting[str]("local", '"local": this site\'s key ring; "remote": another site\'s JWKS over HTTP.')
    AUDIENCE = Setting[str | list[str] | None](
        None, "Audience this API accepts; None: OIDC_PROVIDER's default."
    )
    ISSUER = Setting[str | None](None, "Issuer tokens must name; None means OIDC_PROVIDER['ISSUER'].")
    JWKS_URI = Setting[str | None](None, "Remote mode: the issuer's JWKS URI.")
    DISCOVERY_URL = Setting[str | None](
        None, "Remote mode: the issuer's discovery document (names jwks_uri)."
    )
    JWKS_CACHE_SECONDS = Setting[int](300, "Seconds fetched keys are used before they are fetched again.")
    JWKS_STALE_IF_ERROR_SECONDS = Setting[int](
        86400, "Seconds fetched keys stay usable when the issuer is down."
    )
    JWKS_MIN_REFETCH_INTERVAL = Setting[int](60, "At most one fetch per this many seconds, across processes.")
    HTTP_TIMEOUT = Setting[float](5, "Seconds: total deadline of each fetch.")
    USER_MODE = Setting[str](
        "lazy", '"lazy": the user row, loaded on first access; "stateless": a TokenUser.'
    )
    REVOCATION_CHECK = Setting[str | None](
        None,
        'None; "database": this site\'s revocation list; "cache": markers in the shared cache; '
        '"introspection": ask the issuer (RFC 7662).',
    )
    REVOCATION_CHECK_DELAY = Setting[int](60, "Introspection: seconds a result is reused.")
    INTROSPECTION_URL = Setting[str | None](None, "Introspection endpoint; None: from DISCOVERY_URL.")
    INTROSPECTION_CLIENT_ID = Setting[str | None](None, "This API's client_id at the introspection endpoint.")
    INTROSPECTION_CLIENT_SECRET = Setting[str | None](None, "This API's client secret there.")
    REALM = Setting[str]("api", "realm of the WWW-Authenticate challenge (RFC 6750 §3).")
    RESOURCE = Setting[str | None](
        None, "RFC 9728: this API's resource identifier; None: the first AUDIENCE."
    )
    RESOURCE_METADATA_URL = Setting[str | None](
        None, 'RFC 9728 §5.1 metadata URL for 401 challenges; None: this site\'s well-known URL; "" never.'
    )
    SCOPES_SUPPORTED = Setting[list[str] | None](
        None, "RFC 9728 §2 scopes_supported; None means DOT's SCOPES."
    )

    @property
    def user_settings(self) -> dict[str, Any]:
        return dict(oidc_settings.RESOURCE_SERVER or {})

    @cached_property
    def issuer(self) -> str | None:
        issuer = self.ISSUER or oidc_settings.ISSUER
        return issuer.rstrip("/") if issuer else None

    @cached_property
    def audience(self) -> list[str]:
        audience = self.AUDIENCE
        if not audience:
            return oidc_settings.default_audience
        return [audience] if isinstance(audience, str) else list(audience)

    @cached_property
    def remote(self) -> bool:
        return self.MODE == "remote"


RESOURCE_SERVER_DEFAULTS: dict[str, Any] = defaults_of(ResourceServerSettings)
resource_settings = ResourceServerSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("OIDC_PROVIDER", "OAUTH2_PROVIDER"):
        resource_settings.reload()


setting_changed.connect(_reload)
