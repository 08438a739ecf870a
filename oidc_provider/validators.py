"""The DOT validator subclass: thin overrides that delegate to keys, tokens and claims."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import router, transaction
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.models import get_id_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from . import jose
from .claims import SUPPORTED_CLAIMS, claims_for_scopes
from .conf import oidc_settings
from .keys import keyring
from .profiles import profile_for
from .tokens import authentication_time, sign
from .validation import LocalKeys, decode


class OIDCValidator(OAuth2Validator):
    """Signs with database keys, issues RFC 9068 access tokens, releases claims by scope."""

    # -- access tokens ------------------------------------------------------------------

    def validate_jwt_bearer_token(self, token: str, scopes: list[str], request: Any) -> bool:
        # oauthlib routes every "ey..." bearer token to the ID-token path when OIDC is on;
        # our access tokens are JWTs, so validate them like any stored bearer token.
        return self.validate_bearer_token(token, scopes, request)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        # Keep AccessToken.expires equal to the JWT's exp (both from one instant).
        exp = getattr(request, "oidc_access_token_exp", None)
        if exp is not None:
            expires = datetime.fromtimestamp(exp, tz=UTC)
        return super()._create_access_token(expires, request, token, source_refresh_token)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        allowed = profile_for(client).scope_list
        return not allowed or set(scopes) <= set(allowed)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        lifetime = profile_for(client).refresh_token_lifetime
        rt = request.refresh_token_instance
        return not lifetime or rt.created + timedelta(seconds=lifetime) > timezone.now()

    # -- ID tokens ----------------------------------------------------------------------

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        return oidc_settings.ISSUER

    def get_discovery_claims(self, request: Any) -> list[str]:
        return SUPPORTED_CLAIMS

    def get_oidc_claims(self, token, token_handler, request) -> dict[str, Any]:
        return claims_for_scopes(request.user, request.scopes)

    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        return claims_for_scopes(request.user, request.scopes)

    def _id_token_claims(self, request: Any) -> dict[str, Any]:
        # OIDC Core §5.4: when an access token is issued, scope claims go to userinfo.
        if (
            request.response_type
            and "token" not in request.response_type.split()
            and ("code" not in request.response_type.split())
        ):
            return self.get_oidc_claims(None, None, request)
        return {"sub": str(request.user.pk)}

    def finalize_id_token(self, id_token: dict, token: dict, token_handler: Any, request: Any) -> str:
        profile = profile_for(request.client)
        alg = profile.id_token_algorithm
        lifetime = profile.id_token_lifetime or oidc_settings.ID_TOKEN_LIFETIME
        id_token.update(self._id_token_claims(request))
        id_token["iss"] = oidc_settings.ISSUER
        id_token["exp"] = id_token["iat"] + lifetime
        id_token["jti"] = str(uuid.uuid4())  # DOT stores it in a UUIDField
        auth_time = authentication_time(request)
        if auth_time is not None:
            id_token["auth_time"] = auth_time
        if request.nonce and "nonce" not in id_token:
            id_token["nonce"] = request.nonce
        # oauthlib always hashes with SHA-256; OIDC Core §3.1.3.6 wants the alg's hash.
        if "access_token" in token:
            id_token["at_hash"] = jose.token_hash(alg, token["access_token"])
        if "code" in token:
            id_token["c_hash"] = jose.token_hash(alg, token["code"])
        if isinstance(id_token.get("aud"), list) and len(id_token["aud"]) > 1:
            id_token["azp"] = request.client.client_id
        if alg in jose.HMAC:
            serialized = self._sign_with_secret(id_token, alg, request)
        else:
            serialized = sign(id_token, alg, "JWT")
        expires = datetime.fromtimestamp(id_token["exp"], tz=UTC)
        IDToken = get_id_token_model()
        with transaction.atomic(using=router.db_for_write(IDToken)):
            row = self._save_id_token(id_token["jti"], request, expires)
        request.access_token = row
        request.id_token = row
        return serialized

    def _sign_with_secret(self, claims: dict, alg: str, request: Any) -> str:
        try:
            secret = request.client.jwk_key  # DOT refuses empty or hashed secrets here
        except ImproperlyConfigured as exc:
            raise errors.UnauthorizedClientError(description=str(exc), request=request) from None
        return jose.sign(claims, jose.b64decode(secret["k"]), alg, typ="JWT")

    def _load_id_token(self, token: str):
        """Find the IDToken row of one of our ID tokens after verifying its signature."""
        try:
            unverified = jose.parse(token)
        except jose.InvalidToken:
            return None
        if unverified.header["alg"] in jose.HMAC:
            return super()._load_id_token(token)
        try:
            _, claims = decode(
                token,
                LocalKeys(),
                allowed_algs=oidc_settings.ALLOWED_ALGORITHMS,
                issuer=oidc_settings.ISSUER,
                audience=None,
                typ=None,
                require=("jti",),
                check_exp=False,
            )
        except jose.InvalidToken:
            return None
        return get_id_token_model().objects.filter(jti=claims["jti"]).first()

    def _get_key_for_token(self, token: str):
        """The public key of our ID token (RP-initiated logout verifies with it)."""
        try:
            header = jose.parse(token).header
        except jose.InvalidToken:
            return None
        if header["alg"] in jose.HMAC:
            return super()._get_key_for_token(token)
        key = keyring().keys.get(header.get("kid"))
        if key is None or key.alg != header["alg"]:
            return None
        return jwk.JWK(**key.public_jwk)
