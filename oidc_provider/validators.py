"""The DOT validator subclass: thin overrides delegating to tokens, id_tokens, grants, authn, client_auth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from oauth2_provider.models import get_id_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from . import (
    authn,
    client_auth,
    client_secrets,
    events,
    grants,
    id_tokens,
    jose,
    metadata,
    profiles,
    stateless,
)
from .claims import (
    claims_for_scopes,
    requested_claims,
)
from .conf import oidc_settings
from .context import issuance
from .profiles import profile_for
from .validation import ACCESS_TOKEN, decode_local


def _active(user: Any) -> bool:
    """Django's rule (ModelBackend.user_can_authenticate): a user without is_active is active."""
    return user is None or getattr(user, "is_active", True)


class OIDCValidator(OAuth2Validator):
    """Signs with database keys, issues RFC 9068 access tokens, releases claims by scope."""

    # -- access tokens ------------------------------------------------------------------

    def validate_jwt_bearer_token(self, token: str, scopes: list[str], request: Any) -> bool:
        # oauthlib routes every "ey..." bearer token to the ID-token path when OIDC is on;
        # our access tokens are JWTs: check the signature (a revoked key fails at once),
        # then validate them like any stored bearer token.
        try:
            decode_local(token, ACCESS_TOKEN)
        except jose.InvalidToken as exc:
            request.oauth2_error = {"error": "invalid_token", "error_description": str(exc)}
            return False
        return self.validate_bearer_token(token, scopes, request)

    def validate_bearer_token(self, token: str, scopes: list[str], request: Any) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        user = getattr(request, "user", None)
        if user is not None and not _active(user):
            # A deactivated user's tokens stop working at once (RFC 6750 §3.1 invalid_token).
            request.oauth2_error = {"error": "invalid_token", "error_description": "The user is inactive."}
            return False
        return True

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        # Keep AccessToken.expires equal to the JWT's exp (both from one instant).
        context = issuance(request)
        if context.access_token_exp is not None:
            expires = datetime.fromtimestamp(context.access_token_exp, tz=UTC)
        context.access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        stateless.record_issued(context.access_token)
        return context.access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        row = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        issuance(request).token_family = row.token_family
        return row

    def save_bearer_token(self, token, request, *args, **kwargs):
        # A client that does not store access tokens: no row, no transaction, no write.
        if "scope" in token and stateless.applies(request):
            request.user = None
            self._check_and_set_request_resource(request)  # RFC 8707 checks, as DOT's save does
            stateless.unsaved_row(token, request)
            return
        return super().save_bearer_token(token, request, *args, **kwargs)

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs) -> None:
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        stateless.revoke(token, request.client)  # RFC 7009: a JWT without a row

    def _save_bearer_token(self, token, request, *args, **kwargs):
        # OIDC Core §11: with the setting on, only offline_access earns a refresh token.
        if (
            oidc_settings.REQUIRE_OFFLINE_ACCESS_FOR_REFRESH
            and request.grant_type == "authorization_code"
            and "offline_access" not in (request.scopes or ())
        ):
            token.pop("refresh_token", None)
        # Runs inside DOT's transaction: claim the code or lock the refresh token there.
        if request.grant_type == "refresh_token":
            grants.lock_refresh_token(request)
        result = super()._save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            grants.claim_code(request)
        authn.bind_tokens(request)
        return result

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        """Nothing left to do: _save_bearer_token claimed (deleted) the code in its transaction."""

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
        if not _active(rt.user):
            return False  # RFC 6749 §5.2 invalid_grant: the resource owner is gone
        if lifetime and rt.created + timedelta(seconds=lifetime) <= timezone.now():
            return False
        authn.load_for_refresh(rt, request)  # OIDC Core §12.2: same auth_time as the first ID token
        return True

    # -- authorization endpoint (OIDC Core §3.1.2) --------------------------------------

    def save_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        authn.remember_grant(code["code"], request)

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            if grants.revoke_tokens_of_code(code):  # RFC 6749 §4.1.2: a reused code revokes its tokens
                events.replay_detected("code", client_id)
            return False
        if not _active(request.user):
            return False  # deactivated since the code was issued: invalid_grant
        authn.load_for_code(code, request)
        return True

    def get_code_challenge(self, code, request) -> str | None:
        return grants.code_grant(code, request).code_challenge or None

    def get_code_challenge_method(self, code, request) -> str | None:
        return grants.code_grant(code, request).code_challenge_method or None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs) -> bool:
        return grants.code_grant(code, request).redirect_uri_allowed(redirect_uri)

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs) -> bool:
        if not super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs):
            return False
        return client_auth.redirect_port_allowed(request.client, redirect_uri)

    def validate_silent_login(self, request: Any) -> bool:
        # oauthlib's request has no session; views.AuthorizationView answers
        # login_required before validation when nobody is logged in (check E060).
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        # Consent needs the user and the application: views.AuthorizationView answers
        # consent_required before DOT would show its form (check E060).
        return True

    def validate_user_match(self, id_token_hint, scopes, claims, request) -> bool:
        return id_tokens.user_matches(id_token_hint, claims, request)

    # -- client authentication (RFC 6749 §2.3, RFC 7523 §3) ---------------------------------

    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if client_auth.presents_assertion(request):
            return True
        return super().client_authentication_required(request, *args, **kwargs)

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        return client_auth.authenticate(request, self)

    def _load_application(self, client_id: str, request: Any) -> Any:
        # The row from this process's copy (profiles): one query less per client authentication.
        # DOT's own checks (client_id, is_usable) still run on it.
        if not request.client:
            request.client = profiles.cached_application(client_id)
            if request.client is not None:
                return super()._load_application(client_id, request)
            if isinstance(client_id, str) and "://" not in client_id and not profiles.may_exist(client_id):
                return None  # unknown: no query either (a URL may be a CIMD client DOT fetches)
        application = super()._load_application(client_id, request)
        if application is not None:
            profiles.remember_application(application)
        return application

    def _check_secret(self, provided_secret: str, stored_secret: str) -> bool:
        return client_secrets.check_secret(provided_secret, stored_secret)

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        # A client registered for a JWT method never authenticates by its client_id alone.
        if not super().authenticate_client_id(client_id, request, *args, **kwargs):
            return False
        return not client_auth.requires_assertion(request.client)

    # -- ID tokens ----------------------------------------------------------------------

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        return oidc_settings.ISSUER

    def get_discovery_claims(self, request: Any) -> list[str]:
        return metadata.user_claims()

    def get_oidc_claims(self, token, token_handler, request) -> dict[str, Any]:
        return claims_for_scopes(request.user, request.scopes)

    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        if getattr(request, "user", None) is None:
            # A client_credentials token names no end-user (RFC 6750 §3.1, OIDC Core §5.3.3).
            raise errors.InvalidTokenError(description="This access token names no user.", request=request)
        # OIDC Core §5.5: plus the claims the authorization asked for in claims.userinfo.
        requested = authn.claims_request_for(getattr(request, "access_token", None))
        wanted = requested_claims(requested, "userinfo")
        return claims_for_scopes(request.user, request.scopes, wanted)

    def finalize_id_token(self, id_token: dict, token: dict, token_handler: Any, request: Any) -> str:
        return id_tokens.finalize(id_token, token, request, self._save_id_token)

    def _load_id_token(self, token: str):
        """Find the IDToken row of one of our ID tokens after verifying its signature."""
        try:
            unverified = jose.parse(token)
        except jose.InvalidToken:
            return None
        try:
            if unverified.header["alg"] not in jose.HMAC:
                return id_tokens.load_hint(token)
            claims = id_tokens.verify_hmac(token, unverified, self._get_client_by_audience)
        except (jose.InvalidToken, errors.OAuth2Error):
            return None
        return get_id_token_model().objects.filter(jti=claims["jti"]).first()
