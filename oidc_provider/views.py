"""JWKS, discovery metadata and introspection, as DOT views with our keys and claims."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import resolve_url
from django.utils.datastructures import MultiValueDict
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from oauth2_provider.compat import login_not_required
from oauth2_provider.exceptions import (
    ClientIdMissmatch,
    FatalClientError,
    InvalidIDTokenError,
    InvalidOIDCClientError,
    OAuthToolkitError,
)
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView as DOTAuthorizationView
from oauth2_provider.views import (
    ConnectDiscoveryInfoView,
    IntrospectTokenView,
    OAuthServerMetadataView,
    RPInitiatedLogoutView,
)
from oauth2_provider.views import TokenView as DOTTokenView
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid.connect.core.exceptions import RequestNotSupported, RequestURINotSupported

from . import authn, client_auth, id_tokens, introspection, jose, metadata
from .conf import oidc_settings
from .keys import keyring
from .validation import ACCESS_TOKEN, decode_local

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


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
                "id_token_signing_alg_values_supported": metadata.signing_algorithms(),
                "token_endpoint_auth_methods_supported": auth_methods(),
                "token_endpoint_auth_signing_alg_values_supported": client_auth.assertion_algorithms(),
                "claims_supported": metadata.claims_supported(),
                "claims_parameter_supported": True,
                # OIDC Core §6: request objects are refused (absent, these default to true).
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
                "prompt_values_supported": ["none", "login", "consent"],
                "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
                "grant_types_supported": metadata.grant_types(TokenView.get_oauthlib_core().server),
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
            "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
            "grant_types_supported": metadata.grant_types(TokenView.get_oauthlib_core().server),
        }
        listed = json.loads(response.content)
        for endpoint in ("token", "revocation", "introspection"):
            if endpoint == "token" or f"{endpoint}_endpoint" in listed:
                update[f"{endpoint}_endpoint_auth_methods_supported"] = auth_methods()
                update[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] = (
                    client_auth.assertion_algorithms()
                )
        return _rewrite(response, update)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class IntrospectView(IntrospectTokenView):
    """DOT's RFC 7662 introspection plus the JWT's own iss, sub, aud, iat, jti (§2.2).

    Only clients allowed to introspect may (``introspection.authorize``); refusals are 401s
    with a challenge. A rejected client assertion is answered with invalid_client (RFC 7662
    §2.3, RFC 6749 §5.2): the validator runs outside oauthlib here, so nothing else catches it.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            refusal = None
            if request.method in ("GET", "POST"):
                refusal = introspection.authorize(request, self.get_oauthlib_core())
            # Skips ClientProtectedResourceMixin.dispatch: the check above replaces it.
            response = refusal or View.dispatch(self, request, *args, **kwargs)
        except errors.OAuth2Error as exc:
            response = introspection.invalid_client(exc.description)
        # RFC 7662 §2.2 / RFC 6749 §5.1: token metadata is never cached.
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
            _, claims = decode_local(token_value, ACCESS_TOKEN, leeway=0)
        except jose.InvalidToken:
            # A stored JWT whose key was revoked (or that no longer verifies) is not active.
            return JsonResponse({"active": False})
        for name in ("iss", "sub", "aud", "iat", "exp", "jti", "client_id", "scope"):
            if name in claims:
                data[name] = claims[name]
        return JsonResponse(data)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class TokenView(DOTTokenView):
    """DOT's token endpoint; a device_code grant without device_code is invalid_request (RFC 8628
    §3.4), where DOT reads the missing parameter and fails with a 500."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("grant_type") == DEVICE_CODE_GRANT and not request.POST.get("device_code"):
            error = errors.InvalidRequestError(description="device_code is missing.")
            response = HttpResponse(error.json, status=error.status_code, content_type="application/json")
            response["Cache-Control"] = "no-store"
            return response
        return super().post(request, *args, **kwargs)


def issuer_metadata(request: HttpRequest, issuer_path: str) -> HttpResponse:
    """RFC 8414 §3.1: /.well-known/oauth-authorization-server/<issuer path>, for this issuer only."""
    if issuer_path.strip("/") != urlsplit(oidc_settings.ISSUER or "").path.strip("/"):
        raise Http404("No authorization server has this issuer.")
    return ServerMetadataView.as_view()(request)


def with_issuer(uri: str) -> str:
    """RFC 9207 §2: add our ``iss`` to an authorization response, replacing any other."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "iss"]
    fragment = [(k, v) for k, v in parse_qsl(parts.fragment, keep_blank_values=True) if k != "iss"]
    # Implicit and hybrid responses travel in the fragment, the others in the query.
    (fragment if parts.fragment else query).append(("iss", oidc_settings.ISSUER))
    return urlunsplit(parts._replace(query=urlencode(query), fragment=urlencode(fragment)))


def _post_as_get(request: HttpRequest) -> None:
    """OIDC Core §3.1.2.1: an authorization request sent by POST is handled like a GET."""
    params = request.GET.copy()
    for key, values in request.POST.lists():
        params.setlist(key, values)
    request.method = "GET"
    request.GET = params
    request.META["QUERY_STRING"] = params.urlencode()
    request.POST = QueryDict()
    request._files = MultiValueDict()


class _ShowConsent(Exception):
    """Raised inside DOT's GET handler to show the consent form it would have skipped."""


@method_decorator(csrf_exempt, name="dispatch")  # consent POSTs are CSRF-checked in dispatch
class AuthorizationView(DOTAuthorizationView):
    """DOT's authorization endpoint with OIDC Core §3.1.2 prompt, max_age and id_token_hint.

    Every redirect to the client carries ``iss`` (RFC 9207); POST authorization requests
    work like GET; the consent form (a POST with a CSRF token) stays DOT's.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            if "csrfmiddlewaretoken" in request.POST:
                rejected = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
                if rejected is not None:
                    return rejected
            else:
                _post_as_get(request)
        return super().dispatch(request, *args, **kwargs)

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
        return super().redirect(with_issuer(redirect_to), application)

    def error_response(self, error: OAuthToolkitError, application: Any, **kwargs: Any) -> HttpResponse:
        # oauthlib raises some errors (a claims parameter that is not JSON) without the
        # validated redirect_uri: show those to the user instead of redirecting nowhere.
        if not isinstance(error, FatalClientError) and not error.oauthlib_error.redirect_uri:
            error = FatalClientError(error=error.oauthlib_error)
        return super().error_response(error, application, **kwargs)

    def prompt(self) -> set[str]:
        return set(self.request.GET.get("prompt", "").split())

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        # OIDC Core §6: request objects are not supported, and ignoring one would drop what it asks.
        if "request" in request.GET:
            return self._error(RequestNotSupported, credentials, application)
        if "request_uri" in request.GET:
            return self._error(RequestURINotSupported, credentials, application)
        prompt = self.prompt()
        try:
            max_age = authn.parse_max_age(request.GET.get("max_age"))
        except ValueError as exc:
            return self._error(errors.InvalidRequestError, credentials, application, f"{exc}.")
        if max_age is not None and authn.is_stale(authn.session_auth_time(request), max_age):
            if "none" in prompt:
                return self._error(errors.LoginRequired, credentials, application)
            return self.login_redirect()
        if "none" in prompt:
            hint = request.GET.get("id_token_hint")
            try:
                hint_sub = id_tokens.hint_subject(hint, credentials["client_id"]) if hint else None
            except jose.InvalidToken:
                # Without openid in scope oauthlib does not look at the hint (OIDC Core §3.1.2.1).
                return self._error(
                    errors.InvalidRequestError, credentials, application, id_tokens.HINT_INVALID
                )
            if hint_sub is not None and hint_sub != str(request.user.pk):
                return self._error(errors.LoginRequired, credentials, application)
            # DOT decides whether consent is needed (skip_authorization, approval_prompt=auto);
            # where it would show its form, render_to_response answers consent_required.
            self._silent = (credentials, application)
        self._force_consent = "consent" in prompt
        try:
            return super().get(request, *args, **kwargs)
        except _ShowConsent:
            return self.render_to_response(self.get_context_data(**self.oauth2_data))

    def render_to_response(self, context: dict, **kwargs: Any) -> HttpResponse:
        silent, self._silent = getattr(self, "_silent", None), None
        if silent is not None and "form" in context and "error" not in context:
            # OIDC Core §3.1.2.6: prompt=none never shows the consent form.
            return self._error(errors.ConsentRequired, *silent)
        return super().render_to_response(context, **kwargs)

    def create_authorization_response(self, request, scopes, credentials, allow):
        if getattr(self, "_force_consent", False):
            raise _ShowConsent
        credentials["auth_time"] = authn.session_auth_time(request)
        return super().create_authorization_response(request, scopes, credentials, allow)

    def _error(self, error_class: type, credentials: dict, application: Any, description: str | None = None):
        redirect_uri = credentials["redirect_uri"]
        error = error_class(description=description, state=credentials.get("state"))
        return self.error_response(OAuthToolkitError(error=error, redirect_uri=redirect_uri), application)

    def handle_no_permission(self) -> HttpResponse:
        if self.prompt() & {"none", "create"}:
            return super().handle_no_permission()
        return self.login_redirect()

    def handle_prompt_login(self) -> HttpResponse:
        return self.login_redirect()

    def login_redirect(self) -> HttpResponse:
        """To the login page, back here without prompt=login and max_age (a login satisfies both)."""
        params = self.request.GET.copy()
        rest = [p for p in params.pop("prompt", [""])[-1].split() if p != "login"]
        if rest:
            params["prompt"] = " ".join(rest)
        params.pop("max_age", None)
        login_url = resolve_url(self.get_login_url())
        next_url = f"{self.request.path}?{params.urlencode()}"
        if urlsplit(login_url).netloc:
            next_url = self.request.build_absolute_uri(next_url)
        return redirect_to_login(next_url, login_url, self.get_redirect_field_name())


class LogoutView(RPInitiatedLogoutView):
    """DOT's RP-initiated logout; ``id_token_hint`` is checked by our ``ID_TOKEN_HINT`` profile.

    RP-Initiated Logout §2: a hint that is not one of our ID tokens, or a client_id we do not
    know, is an ``invalid_request`` error page (DOT's), never a 500.
    """

    def validate_logout_request_user(self, id_token_hint: str | None, client_id: str | None) -> Any:
        if not id_token_hint:
            return None
        try:
            id_token = id_tokens.load_hint(id_token_hint)
        except jose.InvalidToken:
            raise InvalidIDTokenError() from None
        # RP-Initiated Logout §2: a client_id given with the hint must be its audience.
        if client_id and id_token.application.client_id != client_id:
            raise ClientIdMissmatch()
        return id_token

    def get_request_application(self, id_token: Any, client_id: str | None) -> Any:
        if client_id:
            application = get_application_model().objects.filter(client_id=client_id).first()
            if application is None:
                raise InvalidOIDCClientError()
            return application
        return id_token.application if id_token is not None else None
