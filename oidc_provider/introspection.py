"""Who may call the introspection endpoint (RFC 7662 §2.1), and the 401s of those who may not.

The rule: a **confidential** client whose OIDC settings have ``introspection_allowed``, either
authenticating itself (client_secret_basic/post, RFC 7523 assertions) or presenting a bearer
token it obtained with the ``introspection`` scope. Public clients never introspect: DOT's
secret check lets a public client whose stored secret is the hash of "" authenticate with an
empty secret. Every refusal is a 401 with a ``WWW-Authenticate`` challenge (RFC 7662 §2.3,
RFC 6749 §5.2, RFC 6750 §3), never DOT's bare 403.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from oauthlib.common import Request as OAuthlibRequest

from .conf import oidc_settings
from .profiles import profile_for

SCOPE = "introspection"


def may_introspect(client: Any) -> bool:
    """A confidential client the site allowed to introspect."""
    return (
        client is not None
        and client.client_type == client.CLIENT_CONFIDENTIAL
        and profile_for(client).introspection_allowed
    )


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _realm() -> str:
    return f'realm="{_quote(oidc_settings.ISSUER or "oauth")}"'


def basic_challenge() -> str:
    """RFC 6749 §5.2: the challenge matches the scheme the client used (RFC 7617 Basic)."""
    return f"Basic {_realm()}"


def bearer_challenge(error: str, description: str) -> str:
    return f'Bearer {_realm()}, error="{error}", error_description="{_quote(description)}"'


def _refusal(challenge: str, body: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body) if body else "", status=401, content_type="application/json")
    response["WWW-Authenticate"] = challenge
    return response


def invalid_client(description: str) -> HttpResponse:
    return _refusal(basic_challenge(), {"error": "invalid_client", "error_description": description})


def authorize(request: HttpRequest, core: Any) -> HttpResponse | None:
    """None when the caller may introspect; otherwise the 401 to send (``core``: DOT's OAuthLibCore)."""
    scheme = request.headers.get("Authorization", "").partition(" ")[0].lower()
    if scheme == "bearer":
        return _authorize_bearer(request, core)
    if scheme != "basic" and not any(
        name in request.POST for name in ("client_id", "client_secret", "client_assertion")
    ):
        return _refusal(f"{basic_challenge()}, Bearer {_realm()}")  # no credentials: either will do
    oauth_request = OAuthlibRequest(
        request.build_absolute_uri(),
        request.method,
        urlencode(core.extract_body(request)),
        core.extract_headers(request),
    )
    # Raises invalid_client (ClientAuthError) for a rejected assertion: the view renders it.
    if not core.server.request_validator.authenticate_client(oauth_request):
        return invalid_client("Client authentication failed.")
    if not may_introspect(oauth_request.client):
        return invalid_client("This client may not introspect tokens.")
    return None


def _authorize_bearer(request: HttpRequest, core: Any) -> HttpResponse | None:
    valid, oauth_request = core.verify_request(request, scopes=[SCOPE])
    if not valid:
        error = getattr(oauth_request, "oauth2_error", None) or {}
        return _refusal(
            bearer_challenge(
                error.get("error", "invalid_token"),
                error.get("error_description", "The access token is invalid."),
            )
        )
    token = getattr(oauth_request, "access_token", None)
    if not may_introspect(getattr(token, "application", None)):
        # RFC 7662 §2.3: a token without sufficient privileges is a 401 too.
        return _refusal(bearer_challenge("insufficient_scope", "This client may not introspect tokens."))
    return None
