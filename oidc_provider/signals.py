"""Signals sites can hook to log or alert on key events."""

from django.dispatch import Signal

#: Sent after a rotation commits, with ``algorithm``, ``activated``, ``retired`` and
#: ``created`` (SigningKey instances or None).
key_rotated = Signal()
#: Sent after a key is revoked as compromised, with ``key``.
key_revoked = Signal()
