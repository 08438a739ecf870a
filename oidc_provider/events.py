"""Security events: each is logged through a named logger and sent as a ``signals`` signal.

Loggers: ``oidc_provider.keys`` (key lifecycle), ``oidc_provider.tokens`` (issued and refused
tokens), ``oidc_provider.auth`` (client authentication, replays, key fetches). Values that come
from a request are logged with ``%r`` so they cannot forge log lines; a token, secret or key
is never an argument of any event.
"""

from __future__ import annotations

import logging
from typing import Any

from . import signals

keys_log = logging.getLogger("oidc_provider.keys")
tokens_log = logging.getLogger("oidc_provider.tokens")
auth_log = logging.getLogger("oidc_provider.auth")


def key_created(key: Any) -> None:
    keys_log.info("Signing key created: kid=%s alg=%s state=%s", key.kid, key.algorithm, key.state)
    signals.key_created.send(sender=type(key), key=key)


def key_rotated(rotation: Any) -> None:
    kid = lambda key: key.kid if key is not None else None  # noqa: E731
    keys_log.info(
        "Signing keys rotated: alg=%s activated=%s retired=%s next=%s",
        rotation.algorithm,
        kid(rotation.activated),
        kid(rotation.retired),
        kid(rotation.created),
    )
    signals.key_rotated.send(
        sender=type(rotation.activated),
        algorithm=rotation.algorithm,
        activated=rotation.activated,
        retired=rotation.retired,
        created=rotation.created,
    )


def key_retired(key: Any) -> None:
    keys_log.info(
        "Signing key retired: kid=%s alg=%s published until %s", key.kid, key.algorithm, key.expires_at
    )
    signals.key_retired.send(sender=type(key), key=key)


def key_revoked(key: Any) -> None:
    keys_log.warning("Signing key revoked: kid=%s alg=%s (its tokens are refused)", key.kid, key.algorithm)
    signals.key_revoked.send(sender=type(key), key=key)


def token_issued(kind: str, client_id: Any, grant_type: str | None, kid: str | None, jti: Any) -> None:
    tokens_log.info(
        "Issued %s: client_id=%r grant_type=%s kid=%s jti=%s", kind, client_id, grant_type, kid, jti
    )
    signals.token_issued.send(
        sender=None, kind=kind, client_id=client_id, grant_type=grant_type, kid=kid, jti=jti
    )


def token_refused(where: str, reason: str, client_id: Any = None) -> None:
    tokens_log.info("Token refused at %s: %s (client_id=%r)", where, reason, client_id)
    signals.token_refused.send(sender=None, where=where, reason=reason, client_id=client_id)


def assertion_refused(reason: str, client_id: Any = None) -> None:
    auth_log.warning("Client assertion refused: %s (client_id=%r)", reason, client_id)
    signals.assertion_refused.send(sender=None, reason=reason, client_id=client_id)


def replay_detected(kind: str, client_id: Any = None) -> None:
    auth_log.warning("Replay detected: a used %s came back (client_id=%r)", kind, client_id)
    signals.replay_detected.send(sender=None, kind=kind, client_id=client_id)


def jwks_fetch_failed(uri: str, reason: str) -> None:
    auth_log.warning("JWKS fetch failed: %s (%s)", reason, uri)
    signals.jwks_fetch_failed.send(sender=None, uri=uri, reason=reason)
