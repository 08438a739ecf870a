"""Tokens of an ended provider session (Back-Channel Logout 1.0 §2.7, OIDC Core §11).

Refresh tokens issued in the session are revoked unless their grant included
``offline_access`` (which exists to outlive the session); access tokens are revoked too
with ``SESSION_END_ACCESS_TOKENS = "revoke"`` (the default) and left to expire with "keep".
Revoking an access token deletes its row, which marks its ``jti`` revoked (``revocation``).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from .conf import oidc_settings


def _offline(access_token: Any) -> bool:
    return access_token is not None and "offline_access" in (access_token.scope or "").split()


def revoke(contexts: list[Any]) -> None:
    """Revoke what the authorizations in ``contexts`` produced, as the settings say."""
    revoke_access = oidc_settings.SESSION_END_ACCESS_TOKENS == "revoke"
    families = {c.token_family for c in contexts if c.token_family}
    access_ids = {c.access_token_id for c in contexts if c.access_token_id}
    refresh_tokens = get_refresh_token_model().objects.filter(token_family__in=families, revoked=None)
    for refresh_token in refresh_tokens.select_related("access_token"):
        access_ids.discard(refresh_token.access_token_id)
        if not _offline(refresh_token.access_token):
            if revoke_access:
                refresh_token.revoke()  # DOT deletes its access token with it
            else:
                type(refresh_token).objects.filter(pk=refresh_token.pk).update(revoked=timezone.now())
        elif revoke_access and refresh_token.access_token is not None:
            refresh_token.access_token.revoke()
    if revoke_access:
        for access_token in get_access_token_model().objects.filter(pk__in=access_ids):
            access_token.revoke()
