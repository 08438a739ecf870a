"""Client secrets: a fast salted hash for generated secrets, their upgrade, and equal-cost misses.

DOT hashes client secrets with ``make_password`` and checks them with ``check_password``, so by
default every client authentication pays Django's password hasher (PBKDF2, 10^6 iterations on
Django 5.2: ~0.5 s of CPU). Slow hashing protects guessable passwords; a secret of 32+ random
characters from a 62-letter alphabet (190+ bits) cannot be guessed from its hash however fast the
hash is, so it is stored as HMAC-SHA-256 with a per-secret salt (SECURITY.md explains the trade).

The hasher is found the way Django finds every hasher, through ``PASSWORD_HASHERS``; it must be
listed there but never first, or it would hash user passwords (checks E070-E072).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import string
from typing import Any

from django.contrib.auth.hashers import (
    BasePasswordHasher,
    check_password,
    get_hasher,
    identify_hasher,
    make_password,
    mask_hash,
)
from django.core.exceptions import ValidationError
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

HASHER_PATH = "oidc_provider.client_secrets.ClientSecretHasher"
MIN_LENGTH = 32
MIN_DISTINCT = 16  # a random 32-character string has ~25 distinct letters; "aaaa..." has one
# DOT's generator uses letters and digits; secrets.token_urlsafe() adds "-" and "_".
ALPHABET = frozenset(string.ascii_letters + string.digits + "-._~")


class ClientSecretHasher(BasePasswordHasher):
    """HMAC-SHA-256 keyed with a random per-secret salt: for high-entropy generated secrets only."""

    algorithm = "oidc_client_secret_sha256"

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        salt = self.decode(encoded)["salt"]
        return constant_time_compare(encoded, self.encode(password, salt))

    def safe_summary(self, encoded: str) -> dict[str, str]:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=2),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password: str, encoded: str) -> None:
        """Nothing to pad: the cost does not depend on the stored hash."""


def _dot_hasher_name() -> str:
    from oauth2_provider.settings import oauth2_settings

    return oauth2_settings.CLIENT_SECRET_HASHER


def fast_hasher_in_use() -> bool:
    """True when DOT hashes new client secrets with ClientSecretHasher."""
    return _dot_hasher_name() == ClientSecretHasher.algorithm


def weakness(secret: str) -> str | None:
    """Why ``secret`` is not a high-entropy generated secret, or None when it is one."""
    if len(secret) < MIN_LENGTH:
        return f"it has {len(secret)} characters; at least {MIN_LENGTH} are needed"
    if not set(secret) <= ALPHABET:
        return "it has characters a secret generator never uses (only letters, digits and -._~ are)"
    if len(set(secret)) < MIN_DISTINCT:
        return "it repeats too few distinct characters to be random"
    return None


def validate_client_secret(value: str) -> None:
    """Model field validator: with the fast hasher, only generated-strength secrets are accepted.

    Already hashed values (an unchanged stored secret) and secrets stored unhashed are the
    concern of other rules; an empty secret is a public client's.
    """
    if not value or not fast_hasher_in_use():
        return
    try:
        identify_hasher(value)
        return
    except ValueError:
        pass
    reason = weakness(value)
    if reason:
        raise ValidationError(
            f"This client secret is not strong enough for the fast client-secret hasher: {reason}. "
            "Leave the generated secret in place (or generate one with at least 32 random letters "
            "and digits); sites that want hand-set secrets set "
            'OIDC_PROVIDER["KEEP_PASSWORD_HASHER_FOR_CLIENT_SECRETS"] and hash them with PBKDF2.',
            code="weak_client_secret",
        )


def check_secret(provided: str, stored: str) -> bool:
    """DOT's ``_check_secret`` with Django's upgrade-on-login: a correct secret stored with an
    older hasher (PBKDF2) is stored again with DOT's ``CLIENT_SECRET_HASHER``."""
    try:
        identify_hasher(stored)
    except ValueError:  # stored unhashed (hash_client_secret=False, e.g. client_secret_jwt)
        return constant_time_compare(provided, stored)
    preferred = _dot_hasher_name()
    setter = functools.partial(_upgrade, stored, preferred)
    return check_password(provided, stored, setter=setter, preferred=preferred)


def _upgrade(old_hash: str, preferred: str, raw: str) -> None:
    # A weak secret stays under the slow hash it had: a fast hash of it could be brute-forced.
    if get_hasher(preferred).algorithm == ClientSecretHasher.algorithm and weakness(raw):
        return
    from oauth2_provider.models import get_application_model

    # Compare-and-set on the old hash (random salt, so unique): a concurrent upgrade or a
    # secret changed meanwhile is never overwritten. update() bypasses ClientSecretField.pre_save.
    updated = (
        get_application_model()
        .objects.filter(client_secret=old_hash)
        .update(client_secret=make_password(raw, hasher=preferred))
    )
    if updated:
        from . import profiles

        profiles.invalidate()  # update() sends no signal: processes forget their copy of the row


@functools.cache
def _dummy_hash(algorithm: str) -> str:
    return make_password("oidc-provider-dummy-client-secret", hasher=algorithm)


def verify_dummy() -> None:
    """Do the work of a secret check for a client that does not exist (no client_id oracle),
    with the hasher a known client's secret would use (PASSWORD_HASHERS may change: tests)."""
    check_password("not-the-dummy-secret", _dummy_hash(get_hasher(_dot_hasher_name()).algorithm))
