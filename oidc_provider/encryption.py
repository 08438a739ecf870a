"""Encryption at rest of private signing keys (Fernet, rotatable with MultiFernet)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

from .conf import oidc_settings


class KeyDecryptionError(Exception):
    """A private key could not be decrypted with any configured encryption key."""

    def __init__(self, kid: str) -> None:
        super().__init__(
            f"Cannot decrypt the private key of signing key {kid!r}: none of "
            "OIDC_PROVIDER['ENCRYPTION_KEYS'] (or the SECRET_KEY-derived fallback) opens it."
        )
        self.kid = kid


def derived_key() -> bytes:
    """A Fernet key derived from SECRET_KEY, with domain separation, for sites with none set."""
    digest = salted_hmac(
        "oidc_provider.encryption", "signing-keys", secret=settings.SECRET_KEY, algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest[:32])


def fernet() -> MultiFernet:
    keys = oidc_settings.ENCRYPTION_KEYS or [derived_key()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plaintext: bytes) -> str:
    return fernet().encrypt(plaintext).decode("ascii")


def decrypt(token: str, kid: str) -> bytes:
    try:
        return fernet().decrypt(token.encode("ascii"))
    except InvalidToken:
        raise KeyDecryptionError(kid) from None


def reencrypt(token: str, kid: str) -> str:
    """Re-encrypt under the first configured key (MultiFernet.rotate)."""
    try:
        return fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise KeyDecryptionError(kid) from None
