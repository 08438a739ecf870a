"""Building and signing JWT access tokens (RFC 9068) and ID tokens (OIDC Core §2).

``generate_access_token`` is DOT's ``ACCESS_TOKEN_GENERATOR``: oauthlib calls it with
its request once the grant is validated, before the ID token and before DOT stores the
token row (DOT keeps storing it, so introspection and revocation keep working).
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from oauthlib.common import generate_token
from oauthlib.oauth2.rfc6749 import errors

from . import events, jose
from .conf import oidc_settings
from .context import issuance
from .encryption import KeyDecryptionError
from .keys import NoActiveKey, keyring
from .models import ClientProfile
from .profiles import profile_for

logger = logging.getLogger("oidc_provider.keys")

ACCESS_TOKEN_TYP = "at+jwt"


def access_token_lifetime(request: Any) -> int:
    """oauthlib's ``token_expires_in`` callable: the client's lifetime or the site default."""
    client = getattr(request, "client", None)
    if client is not None:
        lifetime = profile_for(client).access_token_lifetime
        if lifetime:
            return lifetime
    return oidc_settings.ACCESS_TOKEN_LIFETIME


def _requested_resources(request: Any) -> list[str]:
    resource = getattr(request, "resource", None)
    # RFC 8707 allows repeating the parameter; oauthlib keeps the last body value only.
    values = [v for k, v in (getattr(request, "decoded_body", None) or []) if k == "resource"]
    if values:
        return values
    if isinstance(resource, str):
        return [resource] if resource.strip() else []
    return list(resource or [])


def _granted_resources(request: Any) -> list[str]:
    if request.grant_type == "authorization_code":
        from oauth2_provider.models import get_grant_model

        grant = get_grant_model().objects.filter(code=request.code, application=request.client).first()
        return list(grant.resource or []) if grant else []
    if request.grant_type == "refresh_token":
        rt = getattr(request, "refresh_token_instance", None)
        return list(rt.resource or []) if rt else []
    return []


def audience_for(request: Any, profile: ClientProfile) -> list[str]:
    """aud: the client's resources, narrowed by RFC 8707 ``resource`` when it may use them."""
    allowed = list(profile.audiences) or oidc_settings.default_audience
    requested = _requested_resources(request) or _granted_resources(request)
    if not requested:
        return allowed
    denied = [r for r in requested if r not in allowed]
    if denied:
        raise errors.CustomOAuth2Error(
            error="invalid_target",
            description=f"The client may not request the resource {denied[0]!r}.",
            request=request,
        )
    return requested


def access_token_claims(request: Any, profile: ClientProfile, now: int, lifetime: int) -> dict[str, Any]:
    client_id = request.client.client_id
    user = request.user if request.grant_type != "client_credentials" else None
    aud = audience_for(request, profile)
    claims: dict[str, Any] = {
        "iss": oidc_settings.ISSUER,
        "exp": now + lifetime,
        "aud": aud[0] if len(aud) == 1 else aud,
        # RFC 9068 §2.2: sub is the client for grants with no resource owner.
        "sub": str(user.pk) if user is not None else client_id,
        "client_id": client_id,
        "iat": now,
        "jti": secrets.token_urlsafe(18),
        "scope": " ".join(request.scopes or ()),
    }
    if user is not None:
        auth_time = authentication_time(request)
        if auth_time is not None:
            claims["auth_time"] = auth_time
    hook = oidc_settings.ACCESS_TOKEN_CLAIMS_HOOK
    if hook is not None:
        extra = hook(user=user, client=request.client, scopes=list(request.scopes or ()), request=request)
        claims.update({k: v for k, v in (extra or {}).items() if k not in claims})
    return claims


def authentication_time(request: Any) -> int | None:
    """When the user last actively authenticated (OIDC auth_time), as a NumericDate.

    Token endpoint: restored into the issuance context by ``authn``; authorization endpoint
    (implicit and hybrid ID tokens): the ``auth_time`` credential ``views.AuthorizationView``
    gives DOT, which sets it on the request (never a client parameter: those are not in vars()).
    """
    auth_time = issuance(request).auth_time
    if auth_time is None:
        auth_time = vars(request).get("auth_time")
    if auth_time is not None:
        return int(auth_time)
    last_login = getattr(request.user, "last_login", None)
    return int(last_login.timestamp()) if last_login else None


def sign(claims: dict[str, Any], alg: str, typ: str, grant_type: str | None = None) -> str:
    try:
        key = keyring().signing_key(alg)
    except NoActiveKey as exc:
        # A configuration gap, not the client's fault: 503 so it is retried once keys exist.
        raise errors.CustomOAuth2Error(
            error="temporarily_unavailable", description=str(exc), status_code=503
        ) from None
    try:
        private_key = key.private_key
    except KeyDecryptionError:
        # Wrong or missing ENCRYPTION_KEYS: the operator must act (check oidc_provider.E027 names
        # the fix); the client gets a clean, retryable error and never the traceback.
        logger.error("Cannot sign with %s key %s: its private key cannot be decrypted.", alg, key.kid)
        raise errors.CustomOAuth2Error(
            error="temporarily_unavailable",
            description="The server cannot sign tokens right now; try again later.",
            status_code=503,
        ) from None
    token = jose.sign(claims, private_key, alg, kid=key.kid, typ=typ)
    kind = "access token" if typ == ACCESS_TOKEN_TYP else "ID token"
    client_id = claims.get("client_id") or claims.get("azp") or claims.get("aud")
    events.token_issued(kind, client_id, grant_type, key.kid, claims.get("jti"))
    return token


def generate_access_token(request: Any) -> str:
    """DOT ACCESS_TOKEN_GENERATOR: a signed RFC 9068 JWT, or an opaque token if the client wants one."""
    profile = profile_for(request.client)
    if profile.access_token_format == ClientProfile.TokenFormat.OPAQUE:
        return generate_token()
    now = int(time.time())
    lifetime = int(getattr(request, "expires_in", None) or access_token_lifetime(request))
    claims = access_token_claims(request, profile, now, lifetime)
    # DOT stores AccessToken.expires later; the validator sets it from this same instant.
    issuance(request).access_token_exp = claims["exp"]
    return sign(claims, oidc_settings.ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_TYP, request.grant_type)


def generate_refresh_token(request: Any) -> str:
    """DOT REFRESH_TOKEN_GENERATOR: refresh tokens stay opaque (never the JWT generator)."""
    return generate_token()
