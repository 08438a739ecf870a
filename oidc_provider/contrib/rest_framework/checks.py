"""System checks for ``OIDC_PROVIDER["RESOURCE_SERVER"]`` (ids oidc_provider.E040-E049)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core import checks

from .conf import MODES, RESOURCE_SERVER_DEFAULTS, REVOCATION_CHECKS, USER_MODES, resource_settings

DOCS = "See 'Resource servers (DRF)' in README.md."


@checks.register(checks.Tags.security)
def check_resource_server(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    s = resource_settings
    errors: list[checks.CheckMessage] = []
    unknown = sorted(set(s.user_settings) - set(RESOURCE_SERVER_DEFAULTS))
    if unknown:
        errors.append(
            checks.Error(
                f"Unknown OIDC_PROVIDER['RESOURCE_SERVER'] settings: {', '.join(unknown)}.",
                hint=DOCS,
                id="oidc_provider.E041",
            )
        )
    choices = (("MODE", MODES), ("USER_MODE", USER_MODES), ("REVOCATION_CHECK", REVOCATION_CHECKS))
    for name, allowed in choices:
        if getattr(s, name) not in allowed:
            errors.append(
                checks.Error(
                    f"OIDC_PROVIDER['RESOURCE_SERVER']['{name}'] is {getattr(s, name)!r}.",
                    hint=f"Choose one of {', '.join(repr(a) for a in allowed)}.",
                    id="oidc_provider.E042",
                )
            )
    for name in (
        "JWKS_CACHE_SECONDS",
        "JWKS_STALE_IF_ERROR_SECONDS",
        "JWKS_MIN_REFETCH_INTERVAL",
        "HTTP_TIMEOUT",
        "REVOCATION_CHECK_DELAY",
    ):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            errors.append(
                checks.Error(
                    f"OIDC_PROVIDER['RESOURCE_SERVER']['{name}'] must be a positive number, not {value!r}.",
                    hint=f"The default is {RESOURCE_SERVER_DEFAULTS[name]}.",
                    id="oidc_provider.E046",
                )
            )
    if s.remote:
        errors += _remote_errors()
    has_endpoint = bool(s.INTROSPECTION_URL or s.DISCOVERY_URL)
    has_credentials = bool(s.INTROSPECTION_CLIENT_ID and s.INTROSPECTION_CLIENT_SECRET)
    if s.REVOCATION_CHECK == "introspection" and not (has_endpoint and has_credentials):
        errors.append(
            checks.Error(
                "REVOCATION_CHECK 'introspection' needs an endpoint and this API's client credentials.",
                hint="Set INTROSPECTION_URL (or DISCOVERY_URL), INTROSPECTION_CLIENT_ID and "
                "INTROSPECTION_CLIENT_SECRET in OIDC_PROVIDER['RESOURCE_SERVER'].",
                id="oidc_provider.E045",
            )
        )
    if s.REVOCATION_CHECK == "database" and not apps.is_installed("oidc_provider"):
        errors.append(
            checks.Error(
                "REVOCATION_CHECK 'database' reads the site's revocation list, but oidc_provider "
                "is not installed here.",
                hint="A separate service uses 'cache' (the site's shared Redis) or 'introspection'.",
                id="oidc_provider.E048",
            )
        )
    for name in ("JWKS_URI", "DISCOVERY_URL", "INTROSPECTION_URL"):
        url = getattr(s, name)
        if url and (urlsplit(str(url)).scheme != "https" and not settings.DEBUG):
            errors.append(
                checks.Error(
                    f"OIDC_PROVIDER['RESOURCE_SERVER']['{name}'] is not an https URL.",
                    hint="Keys and introspection answers must come over TLS (http is allowed with DEBUG).",
                    id="oidc_provider.E047",
                )
            )
    return errors


def _remote_errors() -> list[checks.CheckMessage]:
    s = resource_settings
    errors: list[checks.CheckMessage] = []
    if not (s.JWKS_URI or s.DISCOVERY_URL):
        errors.append(
            checks.Error(
                "RESOURCE_SERVER MODE is 'remote' but neither JWKS_URI nor DISCOVERY_URL is set.",
                hint="Set OIDC_PROVIDER['RESOURCE_SERVER']['JWKS_URI'] to the issuer's JWKS, e.g. "
                "'https://id.example.com/o/.well-known/jwks.json'.",
                id="oidc_provider.E040",
            )
        )
    if not s.issuer:
        errors.append(
            checks.Error(
                "RESOURCE_SERVER MODE is 'remote' but no issuer is configured.",
                hint="Set OIDC_PROVIDER['RESOURCE_SERVER']['ISSUER'] to the issuer tokens must name.",
                id="oidc_provider.E043",
            )
        )
    if not s.AUDIENCE:
        errors.append(
            checks.Error(
                "RESOURCE_SERVER MODE is 'remote' but no AUDIENCE is configured.",
                hint="Set OIDC_PROVIDER['RESOURCE_SERVER']['AUDIENCE'] to this API's identifier, as "
                "registered for its clients at the issuer.",
                id="oidc_provider.E044",
            )
        )
    return errors
