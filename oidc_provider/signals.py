"""Signals sites can hook to log or alert on security events (``events`` sends them all).

Every signal is also logged by ``oidc_provider.events`` through a named logger; no argument
ever carries a token, a secret or private key material.
"""

from django.dispatch import Signal

#: A signing key was stored, with ``key`` (SigningKey).
key_created = Signal()
#: Sent after a rotation commits, with ``algorithm``, ``activated``, ``retired`` and
#: ``created`` (SigningKey instances or None).
key_rotated = Signal()
#: A key was retired outside a rotation (it stays published until ``expires_at``), with ``key``.
key_retired = Signal()
#: Sent after a key is revoked as compromised, with ``key``.
key_revoked = Signal()
#: A token was signed, with ``kind`` ("access_token" or "id_token"), ``client_id``,
#: ``grant_type`` (None for ID tokens), ``kid`` and ``jti``.
token_issued = Signal()
#: A token was refused, with ``where`` ("resource_server" or "token_endpoint"), ``reason``
#: and ``client_id`` (unverified for a bad token; None when unknown).
token_refused = Signal()
#: A client assertion (RFC 7523) was refused, with ``reason`` and ``client_id`` (unverified).
assertion_refused = Signal()
#: A single-use credential came back, with ``kind`` ("authorization_code", "refresh_token" or
#: "client_assertion") and ``client_id``.
replay_detected = Signal()
#: A JWKS could not be fetched, with ``uri`` and ``reason`` (a client's jwks_uri, or the
#: issuer's JWKS of a remote resource server).
jwks_fetch_failed = Signal()
