"""What one token request carries from validation to the stored tokens: ``IssuanceContext``.

oauthlib passes a single ``Request`` through grant validation, the token generators, the ID
token and DOT's ``save_bearer_token``. Everything our modules hand each other along that way
lives in one typed object, attached by ``issuance()`` and by nothing else. It is kept in the
request's own ``__dict__`` and read from there: oauthlib's ``Request.__getattr__`` answers any
parameter the client sent, so ad-hoc attributes could be filled in by the client itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

_ATTRIBUTE = "_oidc_issuance"


@dataclass
class IssuanceContext:
    """State of one token (or authorization) request; every field says who sets it."""

    #: The authorization code's Grant row, read once per token request: set by ``grants.code_grant``.
    grant: Any = None
    #: The ``AuthenticationContext`` row of the authorization (code) or token family (refresh):
    #: set by ``authn.load_for_code`` / ``authn.load_for_refresh``.
    authentication: Any = None
    #: NumericDate of the user's last active authentication (OIDC Core §2 auth_time), restored
    #: from ``authentication`` at the token endpoint: set by ``authn``.
    auth_time: int | None = None
    #: The access token's ``exp``, so ``AccessToken.expires`` equals it: set by
    #: ``tokens.generate_access_token``.
    access_token_exp: int | None = None
    #: The AccessToken row DOT just stored: set by ``OIDCValidator._create_access_token``.
    access_token: Any = None
    #: ``token_family`` of the refresh token DOT just stored: set by
    #: ``OIDCValidator._create_refresh_token``.
    token_family: uuid.UUID | None = None
    #: RFC 9449 §6.1 ``cnf.jkt``: thumbprint of the DPoP proof's key; set by the DPoP proof check
    #: at the token endpoint (validation profile ``DPOP_PROOF``) once DPoP is supported.
    dpop_jkt: str | None = None
    #: OIDC Front/Back-Channel Logout ``sid`` of the user's session; set by the authorization
    #: endpoint's session tracking once back-channel logout is supported.
    sid: str | None = None
    #: OIDC Core §2 ``acr`` and ``amr`` of the authentication; set by ``authn`` once the
    #: authentication context records them.
    acr: str | None = None
    amr: list[str] | None = None


def issuance(request: Any) -> IssuanceContext:
    """The IssuanceContext of an oauthlib request, created on first use (the one place it is attached)."""
    context = request.__dict__.get(_ATTRIBUTE)
    if context is None:
        context = request.__dict__[_ATTRIBUTE] = IssuanceContext()
    return context
