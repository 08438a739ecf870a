"""Single use of authorization codes and refresh tokens, also under concurrent requests.

oauthlib validates a code or refresh token, builds tokens, saves them and only then
invalidates the code, so two parallel requests can both pass validation. These helpers
claim the credential inside the transaction that saves the new tokens: the loser's
tokens roll back and it gets ``invalid_grant``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
    revoke_access_token,
)
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from . import authn
from .context import issuance


class ReplayDetected(errors.InvalidGrantError):
    """A credential used twice. ``revoke`` runs after the failed transaction rolled back
    (Server.create_token_response), so the revocation itself is not rolled back with it."""

    def __init__(self, description: str, revoke: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(description=description, **kwargs)
        self.revoke = revoke
        request = kwargs.get("request")
        self.kind = "refresh token" if getattr(request, "grant_type", None) == "refresh_token" else "code"


def code_grant(code: str, request: Any) -> Any:
    """The grant row for ``code``, read once per token request.

    DOT reads it again with ``.get()`` in get_code_challenge(_method) and confirm_redirect_uri:
    a parallel redemption that deleted it in between turned those into a 500. A code gone by
    now was used (or expired and was cleared): ``invalid_grant``.
    """
    context = issuance(request)
    grant = context.grant
    if grant is None or grant.code != code:
        grant = get_grant_model().objects.filter(code=code, application=request.client).first()
        if grant is None:
            raise errors.InvalidGrantError(
                "The authorization code is invalid or was already used.", request=request
            )
        context.grant = grant
    return grant


def claim_code(request: Any) -> None:
    """Delete the grant inside the token transaction; a second redemption fails (RFC 6749 §4.1.2).

    Which tokens the code produced is recorded in the database (the code's
    AuthenticationContext), so a reuse sent to any process can revoke them.
    """
    deleted, _ = get_grant_model().objects.filter(code=request.code, application=request.client).delete()
    if not deleted:
        code = request.code
        raise ReplayDetected(
            "The authorization code was already used.", lambda: revoke_tokens_of_code(code), request=request
        )


def revoke_tokens_of_code(code: str) -> bool:
    """RFC 6749 §4.1.2: a code used more than once revokes the tokens issued from it: its access
    token and every refresh token of its family (whose revocation deletes their access tokens).

    True when ``code`` was redeemed before (a replay), False for a code never seen.
    """
    context = authn.context_for_code(code)
    if context is None:
        return False
    if context.access_token_id is not None:
        token = get_access_token_model().objects.filter(pk=context.access_token_id).first()
        if token is not None:
            revoke_access_token(token)
    if context.token_family:
        refresh_tokens = get_refresh_token_model().objects.filter(
            token_family=context.token_family, revoked__isnull=True
        )
        for refresh_token in refresh_tokens:
            refresh_token.revoke()
    return True


def lock_refresh_token(request: Any) -> None:
    """Re-read the refresh token under a row lock; refuse it if a parallel request rotated it."""
    instance = getattr(request, "refresh_token_instance", None)
    if instance is None:
        return
    rt = get_refresh_token_model().objects.select_for_update().get(pk=instance.pk)
    if rt.revoked is None:
        return
    grace = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS)
    if rt.revoked <= timezone.now() - grace:
        family = rt.token_family
        raise ReplayDetected(
            "The refresh token was already used.", lambda: revoke_family(family), request=request
        )


def revoke_family(token_family: Any) -> None:
    """DOT's reuse protection (REFRESH_TOKEN_REUSE_PROTECTION) for a replayed refresh token."""
    if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION and token_family:
        get_refresh_token_model().revoke_family(token_family)
