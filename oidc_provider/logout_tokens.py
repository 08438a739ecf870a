"""Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4): building, signing, checking.

A logout token is a JWT typed ``logout+jwt`` so that it can never pass for an ID token or
an access token (§2.4, RFC 8725 §3.11); it names the session (``sid``) and/or the user
(``sub``), carries the back-channel logout event and never a ``nonce``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from . import jose
from .client_auth import secret_is_recoverable
from .conf import oidc_settings
from .keys import keyring
from .profiles import profile_for
from .validation import BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN, decode_local

LOGOUT_TOKEN_TYPE = "logout+jwt"  # validation.LOGOUT_TOKEN accepts exactly this typ


def subject_for(user: Any, application: Any) -> str:
    """The sub this client knows the user by: the same as in its ID tokens (``claims``)."""
    return str(user.pk)


def claims(client_id: str, *, subject: str | None, sid: str | None, now: int | None = None) -> dict[str, Any]:
    """§2.4 claims; at least one of ``subject`` and ``sid``."""
    if not (subject or sid):
        raise ValueError("A logout token names a subject, a session, or both.")
    now = int(time.time()) if now is None else now
    token: dict[str, Any] = {
        "iss": oidc_settings.ISSUER,
        "aud": client_id,
        "iat": now,
        "exp": now + oidc_settings.LOGOUT_TOKEN_LIFETIME,
        "jti": secrets.token_urlsafe(18),
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    if subject:
        token["sub"] = subject
    if sid:
        token["sid"] = sid
    return token


def build(application: Any, *, subject: str | None, sid: str | None) -> str:
    """A logout token for ``application``, signed with the algorithm of its ID tokens.

    Raises ``keys.NoActiveKey`` (no key for the algorithm) or ``ImproperlyConfigured`` (an
    HS256 client whose secret is stored hashed); the caller records either as a failed delivery.
    """
    alg = profile_for(application).id_token_algorithm
    payload = claims(application.client_id, subject=subject, sid=sid)
    if alg in jose.HMAC:
        if not secret_is_recoverable(application):
            raise ImproperlyConfigured("HS256 logout tokens need the client secret stored unhashed.")
        return jose.sign(payload, application.client_secret.encode(), alg, typ=LOGOUT_TOKEN_TYPE)
    key = keyring().signing_key(alg)
    return jose.sign(payload, key.private_key, alg, kid=key.kid, typ=LOGOUT_TOKEN_TYPE)


def validate(token: str, audience: str) -> dict[str, Any]:
    """Check one of our logout tokens the way §2.6 tells a relying party to; returns its claims."""
    return decode_local(token, LOGOUT_TOKEN, audience=audience)[1]
