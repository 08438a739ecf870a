"""oauthlib server class for DOT's ``OIDC_SERVER_CLASS``: per-client access-token lifetimes."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server as OpenIDServer

from . import events, grants
from .introspection import basic_challenge
from .tokens import access_token_lifetime

ERROR_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


class Server(OpenIDServer):
    """oauthlib's OpenID server whose ``expires_in`` follows the client's profile.

    DOT passes ``ACCESS_TOKEN_EXPIRE_SECONDS`` as a fixed number; RFC 9068 tokens carry
    ``exp``, so the lifetime must be known per client before the token is generated.
    """

    def __init__(self, request_validator: Any, token_expires_in: Any = None, **kwargs: Any) -> None:
        super().__init__(request_validator, token_expires_in=access_token_lifetime, **kwargs)

    def create_token_response(
        self,
        uri: str,
        http_method: str = "POST",
        body: Any = None,
        headers: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[dict, str, int]:
        """Errors raised while building tokens (after validation) get RFC 6749 §5.2 JSON too;
        every refusal is a security event."""
        request_headers = headers or {}
        request_body = body
        try:
            headers, body, status = super().create_token_response(
                uri, http_method, body, headers, *args, **kwargs
            )
        except errors.OAuth2Error as exc:
            if isinstance(exc, grants.ReplayDetected):
                events.replay_detected(exc.kind, exc.client_id)
                exc.revoke()
            headers, body, status = {**ERROR_HEADERS, **exc.headers}, exc.json, exc.status_code
        if status == 401 and _used_basic(request_headers):
            # RFC 6749 §5.2: the challenge matches the scheme the client used, not oauthlib's Bearer.
            headers = {**headers, "WWW-Authenticate": basic_challenge()}
        if status >= 400:
            _report_refusal(body, status, _client_id(request_body, request_headers))
        return headers, body, status

    def create_revocation_response(
        self,
        uri: str,
        http_method: str = "POST",
        body: Any = None,
        headers: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[dict, str, int]:
        """RFC 7009 §2.2.1 refers to RFC 6749 §5.2: a Basic client gets a Basic challenge here too."""
        request_headers = headers or {}
        headers, body, status = super().create_revocation_response(
            uri, http_method, body, headers, *args, **kwargs
        )
        if status == 401 and _used_basic(request_headers):
            headers = {**headers, "WWW-Authenticate": basic_challenge()}
        return headers, body, status


def _authorization(headers: dict[str, str]) -> str:
    return next((v for k, v in headers.items() if k.lower() == "authorization"), "")


def _used_basic(headers: dict[str, str]) -> bool:
    return _authorization(headers).partition(" ")[0].lower() == "basic"


def _client_id(body: Any, headers: dict[str, str]) -> Any:
    """The client_id a token request names (form field or HTTP Basic user), never its secret."""
    form = dict(parse_qsl(body)) if isinstance(body, str) else dict(body or {})
    if form.get("client_id"):
        return form["client_id"]
    scheme, _, credentials = _authorization(headers).partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user = base64.b64decode(credentials, validate=True).decode().partition(":")[0]
    except (ValueError, UnicodeDecodeError):
        return None
    return unquote_plus(user)  # RFC 6749 §2.3.1: form-encoded before Basic encoding


def _report_refusal(body: str, status: int, client_id: Any) -> None:
    try:
        error = json.loads(body)
    except (TypeError, ValueError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    reason = f"{error.get('error', status)}: {error.get('error_description', '')}".rstrip(": ")
    events.token_refused("token endpoint", reason, client_id)
