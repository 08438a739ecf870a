"""oauthlib server class for DOT's ``OIDC_SERVER_CLASS``: per-client access-token lifetimes."""

from __future__ import annotations

from typing import Any

from oauthlib.openid import Server as OpenIDServer

from .tokens import access_token_lifetime


class Server(OpenIDServer):
    """oauthlib's OpenID server whose ``expires_in`` follows the client's profile.

    DOT passes ``ACCESS_TOKEN_EXPIRE_SECONDS`` as a fixed number; RFC 9068 tokens carry
    ``exp``, so the lifetime must be known per client before the token is generated.
    """

    def __init__(self, request_validator: Any, token_expires_in: Any = None, **kwargs: Any) -> None:
        super().__init__(request_validator, token_expires_in=access_token_lifetime, **kwargs)
