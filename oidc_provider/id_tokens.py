"""ID tokens (OIDC Core §2): completing and signing the one oauthlib started, and reading
them back as ``id_token_hint`` at authorize and at RP-initiated logout.

Hints go through the ``ID_TOKEN_HINT`` validation profile against this site's keys, never
through DOT's jwcrypto path (``_get_key_for_token``), which picks a key by the unverified
``aud`` and fails with a 500 on our access tokens, HS256 headers or non-JSON payloads.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router, transaction
from oauth2_provider.models import get_id_token_model
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from . import client_auth, events, jose, sessions
from .claims import claims_for_scopes, parse_claims_request, requested_claims, requested_value
from .conf import oidc_settings
from .jose import InvalidToken
from .profiles import profile_for
from .tokens import authentication_time, sign
from .validation import ID_TOKEN_HINT, audience_list, decode, decode_local

HINT_INVALID = "id_token_hint is not an ID token issued by this provider."


def hint_subject(id_token_hint: str, client_id: str | None) -> str:
    """sub of one of our ID tokens issued to ``client_id``; raises ``jose.InvalidToken``."""
    _, claims = decode_local(id_token_hint, ID_TOKEN_HINT, audience=client_id)
    return str(claims["sub"])


def hint_sid(id_token_hint: str | None) -> str | None:
    """The provider session (sid) one of our ID tokens names, or None (no hint, none of ours, no sid)."""
    if not id_token_hint:
        return None
    try:
        _, claims = decode_local(id_token_hint, ID_TOKEN_HINT)
    except InvalidToken:
        return None
    sid = claims.get("sid")
    return sid if isinstance(sid, str) else None


def user_matches(id_token_hint: str | None, claims: Any, request: Any) -> bool:
    """OIDC Core §3.1.2.1/§5.5.1: the hint and a requested sub must name the session user."""
    try:
        parse_claims_request(claims)
    except ValueError as exc:
        raise errors.InvalidRequestError(
            description=f"Malformed claims parameter: {exc}.", request=request
        ) from None
    subjects = [requested_value(claims, "id_token", "sub")]
    if id_token_hint:
        try:
            subjects.append(hint_subject(id_token_hint, request.client_id))
        except InvalidToken:
            raise errors.InvalidRequestError(description=HINT_INVALID, request=request) from None
    user = getattr(request, "user", None)  # None while validating, set when responding
    return user is None or all(s is None or str(s) == str(user.pk) for s in subjects)


def load_hint(id_token_hint: str) -> Any:
    """The IDToken row of a logout hint (RP-Initiated Logout §2); raises ``jose.InvalidToken``.

    DOT's ``OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS`` (default True) decides whether an
    expired hint is accepted; a hint whose row is gone (revoked, cleared) is not.
    """
    profile = ID_TOKEN_HINT
    if not oauth2_settings.OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS:
        profile = dataclasses.replace(profile, check_exp=True)
    _, claims = decode_local(id_token_hint, profile)
    rows = get_id_token_model().objects.select_related("application", "user")
    try:
        row = rows.filter(jti=claims["jti"]).first() if "jti" in claims else None
    except ValidationError:  # DOT's IDToken.jti is a UUID: anything else is not one of ours
        row = None
    if row is None:
        raise InvalidToken("The ID token is unknown or was revoked.")
    return row


# -- issuing ------------------------------------------------------------------------------


def _scope_claims(request: Any) -> dict[str, Any]:
    # OIDC Core §5.4: when an access token is issued, scope claims go to userinfo;
    # §5.5: claims.id_token asks for individual claims in the ID token anyway.
    wanted = requested_claims(request.claims, "id_token")
    response_types = (request.response_type or "").split()
    if response_types and "token" not in response_types and "code" not in response_types:
        return claims_for_scopes(request.user, request.scopes, wanted)
    return claims_for_scopes(request.user, (), wanted)


def finalize(id_token: dict, token: dict, request: Any, save_row: Callable[[str, Any, datetime], Any]) -> str:
    """Complete, sign and store the ID token oauthlib started (``finalize_id_token``).

    ``save_row``: DOT's ``_save_id_token(jti, request, expires)``, which stores the IDToken row.
    """
    profile = profile_for(request.client)
    alg = profile.id_token_algorithm
    lifetime = profile.id_token_lifetime or oidc_settings.ID_TOKEN_LIFETIME
    id_token.update(_scope_claims(request))
    id_token["iss"] = oidc_settings.ISSUER
    id_token["exp"] = id_token["iat"] + lifetime
    id_token["jti"] = str(uuid.uuid4())  # DOT's IDToken.jti is a UUIDField
    auth_time = authentication_time(request)
    if auth_time is not None:
        id_token["auth_time"] = auth_time
    # Only an authorization request carries a nonce: a token request's "nonce" is the
    # client's own input, and a refreshed ID token must not repeat it (OIDC Core §12.2).
    if request.nonce and "nonce" not in id_token and request.grant_type is None:
        id_token["nonce"] = request.nonce
    # oauthlib always hashes with SHA-256; OIDC Core §3.1.3.6 wants the alg's hash.
    if "access_token" in token:
        id_token["at_hash"] = jose.token_hash(alg, token["access_token"])
    if "code" in token:
        id_token["c_hash"] = jose.token_hash(alg, token["code"])
    if isinstance(id_token.get("aud"), list) and len(id_token["aud"]) > 1:
        id_token["azp"] = request.client.client_id
    sid = sessions.id_token_sid(request, profile)  # Back-Channel Logout §2.4
    if sid:
        id_token["sid"] = sid
    if request.grant_type is None and "code" not in token:
        sessions.record_implicit(request, id_token["jti"])  # no grant remembers this client
    if alg in jose.HMAC:
        serialized = _sign_with_secret(id_token, alg, request)
    else:
        serialized = sign(id_token, alg, "JWT", request.grant_type)
    expires = datetime.fromtimestamp(id_token["exp"], tz=UTC)
    IDToken = get_id_token_model()
    with transaction.atomic(using=router.db_for_write(IDToken)):
        row = save_row(id_token["jti"], request, expires)
    request.access_token = row
    request.id_token = row
    return serialized


def _sign_with_secret(claims: dict, alg: str, request: Any) -> str:
    # The profile owns the algorithm: DOT's Application.algorithm / jwk_key are not read.
    try:
        secret = client_auth.hmac_secret(request.client, alg)
    except ValueError as exc:
        raise errors.UnauthorizedClientError(description=str(exc), request=request) from None
    token = jose.sign(claims, secret, alg, typ="JWT")
    events.token_issued("ID token", request.client.client_id, request.grant_type, None, claims.get("jti"))
    return token


def verify_hmac(token: str, unverified: jose.Unverified, client_by_audience: Callable[[Any], Any]) -> dict:
    """An HS256 ID token verifies with the secret of the client it names (not DOT's jwk_key)."""
    named = audience_list(unverified.claims())
    client = client_by_audience(named) if named else None
    if client is None:
        raise InvalidToken("Unknown audience.")
    alg = unverified.header["alg"]
    profile = dataclasses.replace(
        ID_TOKEN_HINT, algorithms=lambda: [alg], required=(*ID_TOKEN_HINT.required, "jti"), require_kid=False
    )
    keys = client_auth.SecretKeys(client, alg)
    _, claims = decode(token, profile, keys, issuer=oidc_settings.ISSUER, audience=client.client_id)
    return claims
