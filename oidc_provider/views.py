"""JWKS, discovery metadata and introspection, as DOT views with our keys and claims."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from oauth2_provider.compat import login_not_required
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import ConnectDiscoveryInfoView, IntrospectTokenView, OAuthServerMetadataView
from oauthlib.oauth2.rfc6749 import errors

from . import client_auth, jose
from .claims import SUPPORTED_CLAIMS
from .conf import oidc_settings
from .keys import keyring
from .validation import LocalKeys, decode


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    return response


@method_decorator(login_not_required, name="dispatch")
class JWKSView(View):
    """The public keys of next, active and retired keys (RFC 7517), cached and revalidatable.

    The body and its strong ETag are built once per key-ring version, so the warm path
    does no query and no serialisation.
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ring = keyring()
        if_none_match = request.headers.get("If-None-Match", "")
        if ring.etag in (tag.strip() for tag in if_none_match.split(",")):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(ring.jwks, content_type="application/jwk-set+json")
        response["ETag"] = ring.etag
        response["Cache-Control"] = f"public, max-age={oidc_settings.JWKS_MAX_AGE}"
        return _cors(response)


def signing_algorithms() -> list[str]:
    """Algorithms of the keys that sign now, plus HS256 for clients that ask for it."""
    return [*sorted(keyring().active), "HS256"]


def auth_methods() -> list[str]:
    """DOT's secret methods plus private_key_jwt and client_secret_jwt (RFC 7523)."""
    return client_auth.auth_methods(list(oauth2_settings.OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED))


def _rewrite(response: HttpResponse, update: dict[str, Any]) -> JsonResponse:
    data = json.loads(response.content)
    data.update(update)
    return _cors(JsonResponse(data))


class DiscoveryView(ConnectDiscoveryInfoView):
    """OpenID Provider Metadata (OIDC Discovery §3) listing exactly what we support."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        return _rewrite(
            response,
            {
                "issuer": oidc_settings.ISSUER,
                "id_token_signing_alg_values_supported": signing_algorithms(),
                "token_endpoint_auth_methods_supported": auth_methods(),
                "token_endpoint_auth_signing_alg_values_supported": client_auth.signing_algorithms(),
                "claims_supported": SUPPORTED_CLAIMS,
                "grant_types_supported": list(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED),
                "revocation_endpoint": self._get_endpoint_url(request, "revoke-token"),
                "introspection_endpoint": self._get_endpoint_url(request, "introspect"),
            },
        )


class ServerMetadataView(OAuthServerMetadataView):
    """RFC 8414 metadata; adds the JWKS URI that DOT only lists for settings keys."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        update: dict[str, Any] = {
            "issuer": oidc_settings.ISSUER,
            "jwks_uri": self._get_endpoint_url(request, "jwks-info"),
        }
        listed = json.loads(response.content)
        for endpoint in ("token", "revocation", "introspection"):
            if endpoint == "token" or f"{endpoint}_endpoint" in listed:
                update[f"{endpoint}_endpoint_auth_methods_supported"] = auth_methods()
                update[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] = (
                    client_auth.signing_algorithms()
                )
        return _rewrite(response, update)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class IntrospectView(IntrospectTokenView):
    """DOT's RFC 7662 introspection plus the JWT's own iss, sub, aud, iat, jti (§2.2).

    A rejected client assertion is answered with invalid_client (RFC 7662 §2.3, RFC 6749
    §5.2): DOT calls the validator outside oauthlib here, so nothing else would catch it.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().dispatch(request, *args, **kwargs)
        except errors.OAuth2Error as exc:
            response = HttpResponse(exc.json, status=exc.status_code, content_type="application/json")
            for name, value in exc.headers.items():
                response[name] = value
            response["Cache-Control"] = "no-store"
            return response

    @staticmethod
    def get_token_response(token_value: str | None = None) -> HttpResponse:
        response = IntrospectTokenView.get_token_response(token_value)
        data = json.loads(response.content)
        if not data.get("active"):
            return response
        data["token_type"] = "Bearer"
        try:
            jose.parse(token_value)
        except jose.InvalidToken:
            return JsonResponse(data)  # an opaque token: DOT's answer is all there is
        try:
            _, claims = decode(
                token_value,
                LocalKeys(),
                allowed_algs=oidc_settings.ALLOWED_ALGORITHMS,
                issuer=oidc_settings.ISSUER,
                audience=None,
                leeway=0,
            )
        except jose.InvalidToken:
            # A stored JWT whose key was revoked (or that no longer verifies) is not active.
            return JsonResponse({"active": False})
        for name in ("iss", "sub", "aud", "iat", "exp", "jti", "client_id", "scope"):
            if name in claims:
                data[name] = claims[name]
        return JsonResponse(data)
