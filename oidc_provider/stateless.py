"""Stateless client_credentials access tokens: JWTs that no AccessToken row backs.

For a client whose profile turns "store access tokens" off, a client_credentials JWT is issued
without a database write. The JWT is then its own record: introspection checks its signature,
``exp``, that its client still exists and still issues stateless tokens, and that its ``jti``
is not on the revocation list; RFC 7009 revocation puts the ``jti`` on that list.

What an admin loses for such a client: the admin's access-token list shows none of its tokens,
so a single token cannot be found or deleted there (revoke it by value at the revocation
endpoint, or revoke the signing key), and DOT's own bearer checks (``ProtectedResourceView``,
userinfo), which read the row, do not accept them; DRF APIs that validate JWTs locally do.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from oauth2_provider.models import get_access_token_model, get_application_model

from . import jose, revocation
from .context import issuance
from .models import ClientProfile
from .profiles import profile_for
from .validation import decode_local

# The token rows (stored or not) issued while our TokenView handles a request: DOT's own view
# would look the row up again by checksum, and for a stateless token there is none.
_issued: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("oidc_issued", default=None)


@contextlib.contextmanager
def collecting_issued_tokens() -> Iterator[list[Any]]:
    issued: list[Any] = []
    reset = _issued.set(issued)
    try:
        yield issued
    finally:
        _issued.reset(reset)


def record_issued(row: Any) -> None:
    issued = _issued.get()
    if issued is not None:
        issued.append(row)


def _profile_is_stateless(profile: ClientProfile) -> bool:
    return profile.access_token_format == ClientProfile.TokenFormat.JWT and not profile.store_access_tokens


def applies(request: Any) -> bool:
    """True when this token request issues a stateless token (only behind our TokenView)."""
    return (
        request.grant_type == "client_credentials"
        and _issued.get() is not None
        and _profile_is_stateless(profile_for(request.client))
    )


def unsaved_row(token: dict[str, Any], request: Any) -> Any:
    """The AccessToken DOT would have stored, not saved: for DOT's ``app_authorized`` signal."""
    exp = issuance(request).access_token_exp
    row = get_access_token_model()(
        user=None,
        application=request.client,
        token=token["access_token"],
        expires=datetime.fromtimestamp(exp, tz=UTC),
        scope=token["scope"],
        resource=list(getattr(request, "resource", None) or []),
    )
    issuance(request).access_token = row
    record_issued(row)
    return row


def _client_claims(token: str) -> tuple[Any, dict[str, Any]] | None:
    """(application, claims) of a valid stateless token of ours, or None."""
    try:
        jose.parse(token)
        _, claims = decode_local(token, leeway=0)
    except jose.InvalidToken:
        return None
    application = get_application_model().objects.filter(client_id=claims.get("client_id")).first()
    if application is None or not _profile_is_stateless(profile_for(application)):
        return None  # a deleted client, or one whose tokens are stored (no row: not active)
    if claims.get("sub") != application.client_id:
        return None  # RFC 9068 §2.2: only client_credentials tokens are stateless
    return application, claims


def introspect(token: str) -> dict[str, Any] | None:
    """RFC 7662 §2.2 members of an active stateless token, or None."""
    found = _client_claims(token)
    if found is None or revocation.is_revoked(found[1]["jti"]):
        return None
    claims = found[1]
    data = {"active": True, "token_type": "Bearer"}
    for name in ("iss", "sub", "aud", "iat", "exp", "jti", "client_id", "scope"):
        if name in claims:
            data[name] = claims[name]
    return data


def revoke(token: str, client: Any) -> None:
    """RFC 7009 §2.1: revoke a stateless token issued to ``client``; anything else is ignored."""
    found = _client_claims(token)
    if found is not None and client is not None and found[0].pk == client.pk:
        revocation.mark_revoked(found[1]["jti"], found[1]["exp"])
