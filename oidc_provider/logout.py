"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) that knows provider sessions.

DOT's view validates the request and signs the user out; Django's ``user_logged_out`` then
ends the provider session, which notifies every relying party of it (``sessions``).
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.views import RPInitiatedLogoutView

from . import jose, sessions
from .authn import ID_TOKEN_TYPES
from .validation import decode_local


def hint_sid(id_token_hint: str | None) -> str | None:
    """The sid of one of our ID tokens (expired ones too), or None."""
    if not id_token_hint:
        return None
    try:
        _, claims = decode_local(id_token_hint, typ=ID_TOKEN_TYPES, require=(), check_exp=False)
    except jose.InvalidToken:
        return None
    sid = claims.get("sid")
    return sid if isinstance(sid, str) else None


class LogoutView(RPInitiatedLogoutView):
    """DOT's end-session endpoint; a hint from another provider session asks the user first."""

    def validate_logout_request_user(self, id_token_hint: Any, client_id: Any) -> Any:
        id_token = super().validate_logout_request_user(id_token_hint, client_id)
        self.hint_sid = hint_sid(id_token_hint)
        return id_token

    def must_prompt(self, token_user: Any) -> bool:
        # RP-Initiated Logout §2: the OP MUST ask when the ID token does not belong to the
        # current OP session with the RP; its sid tells, where the user alone cannot.
        if super().must_prompt(token_user):
            return True
        sid = getattr(self, "hint_sid", None)
        return sid is not None and sid != self.request.session.get(sessions.SESSION_SID)
