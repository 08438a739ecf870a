"""ID tokens presented back to us: ``id_token_hint`` at authorize and at RP-initiated logout.

Both go through the ``ID_TOKEN_HINT`` validation profile against this site's keys, never
through DOT's jwcrypto path (``_get_key_for_token``), which picks a key by the unverified
``aud`` and fails with a 500 on our access tokens, HS256 headers or non-JSON payloads.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import ValidationError
from oauth2_provider.models import get_id_token_model
from oauth2_provider.settings import oauth2_settings

from .jose import InvalidToken
from .validation import ID_TOKEN_HINT, decode_local

HINT_INVALID = "id_token_hint is not an ID token issued by this provider."


def hint_subject(id_token_hint: str, client_id: str | None) -> str:
    """sub of one of our ID tokens issued to ``client_id``; raises ``jose.InvalidToken``."""
    _, claims = decode_local(id_token_hint, ID_TOKEN_HINT, audience=client_id)
    return str(claims["sub"])


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
