"""Standard OIDC claims (Core §5.1) by scope (Core §5.4), through one overridable mapping."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .conf import oidc_settings

#: scope -> the standard claims it releases (OpenID Connect Core §5.4).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}

SUPPORTED_CLAIMS = sorted({"sub", *(c for claims in SCOPE_CLAIMS.values() for c in claims)})


def default_user_claims(user: Any) -> dict[str, Any]:
    """Claims Django's user model can answer; override with USERINFO_CLAIMS_PROVIDER."""
    claims: dict[str, Any] = {"preferred_username": user.get_username()}
    full_name = " ".join(p for p in (getattr(user, "first_name", ""), getattr(user, "last_name", "")) if p)
    if full_name:
        claims["name"] = full_name
    if getattr(user, "first_name", ""):
        claims["given_name"] = user.first_name
    if getattr(user, "last_name", ""):
        claims["family_name"] = user.last_name
    if getattr(user, "email", ""):
        claims["email"] = user.email
        # Django does not verify addresses; sites that do should override this provider.
        claims["email_verified"] = False
    return claims


default_user_claims.claims_supported = (  # what it can return (discovery claims_supported)
    "preferred_username",
    "name",
    "given_name",
    "family_name",
    "email",
    "email_verified",
)


def claims_for_scopes(user: Any, scopes: Iterable[str], requested: Iterable[str] = ()) -> dict[str, Any]:
    """The user's claims released by ``scopes``, plus individually ``requested`` claims."""
    allowed = {c for scope in scopes for c in SCOPE_CLAIMS.get(scope, ())}
    allowed.update(c for c in requested if c in SUPPORTED_CLAIMS)
    available = oidc_settings.USERINFO_CLAIMS_PROVIDER(user)
    claims = {k: v for k, v in available.items() if k in allowed and v not in (None, "")}
    claims["sub"] = str(user.pk)
    return claims


def parse_claims_request(claims: Any) -> dict[str, dict[str, Any]]:
    """The ``claims`` request parameter (OIDC Core §5.5), checked; ValueError if malformed."""
    if not claims:
        return {}
    if not isinstance(claims, dict):
        raise ValueError("claims must be a JSON object")
    for member in ("userinfo", "id_token"):
        requested = claims.get(member)
        if requested is None:
            continue
        if not isinstance(requested, dict):
            raise ValueError(f"claims.{member} must be a JSON object")
        for name, spec in requested.items():
            if spec is not None and not isinstance(spec, dict):
                raise ValueError(f"claims.{member}.{name} must be null or a JSON object")
    return claims


def requested_claims(claims: Any, member: str) -> list[str]:
    """Names asked for in one member (``userinfo`` or ``id_token``), essential or voluntary."""
    try:
        return list(parse_claims_request(claims).get(member) or ())
    except ValueError:
        return []


def requested_value(claims: Any, member: str, name: str) -> Any:
    """The exact ``value`` a claim is requested with (§5.5.1), or None."""
    try:
        spec = (parse_claims_request(claims).get(member) or {}).get(name)
    except ValueError:
        return None
    return spec.get("value") if spec else None
