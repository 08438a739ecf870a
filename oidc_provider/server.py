"""oauthlib server class for DOT's ``OIDC_SERVER_CLASS``: per-client access-token lifetimes."""

from __future__ import annotations

from typing import Any

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server as OpenIDServer

from . import grants
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
        """Errors raised while building tokens (after validation) get RFC 6749 §5.2 JSON too."""
        request_headers = headers or {}
        try:
            headers, body, status = super().create_token_response(
                uri, http_method, body, headers, *args, **kwargs
            )
        except errors.OAuth2Error as exc:
            if isinstance(exc, grants.ReplayDetected):
                exc.revoke()
            headers, body, status = {**ERROR_HEADERS, **exc.headers}, exc.json, exc.status_code
        if status == 401 and _used_basic(request_headers):
            # RFC 6749 §5.2: the challenge matches the scheme the client used, not oauthlib's Bearer.
            headers = {**headers, "WWW-Authenticate": basic_challenge()}
        return headers, body, status


def _used_basic(headers: dict[str, str]) -> bool:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return value.partition(" ")[0].lower() == "basic"
