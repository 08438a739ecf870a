"""Signing-key lifecycle (create, rotate, retire, revoke, prune) and the in-process key ring.

The key ring holds parsed public keys and lazily decrypted private keys so neither
signing nor validating touches the database or re-parses PEM. Every change bumps the keys'
version (``versions``: a database counter in the change's transaction, and a cache stamp),
and each process reads it at most every ``KEY_CACHE_CHECK_INTERVAL`` seconds.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from jwcrypto import jwk

from . import encryption, events, versions
from .conf import oidc_settings
from .jose import ALGORITHMS
from .jwk import import_jwk
from .models import ClientProfile, SigningKey

PUBLISHED_STATES = (SigningKey.State.NEXT, SigningKey.State.ACTIVE, SigningKey.State.RETIRED)


class KeyOperationError(Exception):
    """A key operation that cannot be done; the message says why and what to do."""


class NoActiveKey(KeyOperationError):
    def __init__(self, alg: str) -> None:
        super().__init__(
            f"No active {alg} signing key. Create one with `manage.py oidc_keys create --alg {alg}` "
            "or in the admin."
        )
        self.alg = alg


# -- generation and import ---------------------------------------------------------------


def generate_private_key(alg: str) -> Any:
    algorithm = ALGORITHMS.get(alg)
    if algorithm is None or alg not in dict(SigningKey.ALGORITHM_CHOICES):
        raise KeyOperationError(f"Unsupported signing algorithm {alg!r}.")
    if algorithm.kty == "RSA":
        key = jwk.JWK.generate(kty="RSA", size=max(2048, oidc_settings.RSA_KEY_SIZE))
    else:
        key = jwk.JWK.generate(kty=algorithm.kty, crv=algorithm.curve)
    return key.get_op_key("sign")


def load_private_pem(pem: bytes | str, alg: str) -> Any:
    """Parse a PEM private key and check it fits ``alg``; raises KeyOperationError with a clear message."""
    if isinstance(pem, str):
        pem = pem.encode()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except UnsupportedAlgorithm:
        raise KeyOperationError("This key type or curve is not supported.") from None
    except (ValueError, TypeError):
        raise KeyOperationError("Not a valid unencrypted PEM private key.") from None
    algorithm = ALGORITHMS.get(alg)
    if algorithm is None or alg not in dict(SigningKey.ALGORITHM_CHOICES):
        raise KeyOperationError(f"Unsupported signing algorithm {alg!r}.")
    if not algorithm.key_matches(key):
        raise KeyOperationError(f"This key cannot be used with {alg}.")
    if algorithm.kty == "RSA" and key.key_size < 2048:
        raise KeyOperationError("RSA keys must be at least 2048 bits.")
    return key


def _public_jwk(private_key: Any, alg: str) -> dict[str, Any]:
    public = jwk.JWK.from_pyca(private_key.public_key())
    data = json.loads(public.export_public())
    data.update(kid=public.thumbprint(), alg=alg, use="sig")
    return data


def create_key(alg: str, *, state: str = SigningKey.State.NEXT, private_key: Any | None = None) -> SigningKey:
    """Store a new key (generated unless given); its kid is the RFC 7638 thumbprint."""
    private_key = private_key or generate_private_key(alg)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = _public_jwk(private_key, alg)
    now = timezone.now()
    key = SigningKey.objects.create(
        kid=public["kid"],
        algorithm=alg,
        state=state,
        public_jwk=public,
        private_key_encrypted=encryption.encrypt(pem),
        activated_at=now if state == SigningKey.State.ACTIVE else None,
    )
    transaction.on_commit(lambda: events.key_created(key))
    return key


# -- lifecycle --------------------------------------------------------------------------


def max_token_lifetime() -> int:
    """Longest lifetime of any token a key may have signed, in seconds."""
    per_client = ClientProfile.objects.aggregate(
        a=Max("access_token_lifetime"), i=Max("id_token_lifetime")
    ).values()
    return max(
        oidc_settings.ACCESS_TOKEN_LIFETIME,
        oidc_settings.ID_TOKEN_LIFETIME,
        *(v for v in per_client if v),
    )


def _retire(key: SigningKey, now: datetime) -> None:
    key.state = SigningKey.State.RETIRED
    key.retired_at = now
    key.expires_at = now + timedelta(seconds=max_token_lifetime() + oidc_settings.KEY_RETIRE_LEEWAY)
    key.save(update_fields=["state", "retired_at", "expires_at"])


@dataclass
class Rotation:
    algorithm: str
    activated: SigningKey | None = None
    retired: SigningKey | None = None
    created: SigningKey | None = None
    performed: bool = True


def rotate(alg: str, *, expected_active: str | None = None) -> Rotation:
    """Promote next -> active, active -> retired, and create a new next key, atomically.

    Two processes rotating at once perform one rotation: each names the active key it
    means to replace (read before locking), and whoever finds it already replaced stops.
    """
    if alg not in dict(SigningKey.ALGORITHM_CHOICES):
        raise KeyOperationError(f"Unsupported signing algorithm {alg!r}.")
    if expected_active is None:
        expected_active = (
            SigningKey.objects.filter(algorithm=alg, state=SigningKey.State.ACTIVE)
            .values_list("kid", flat=True)
            .first()
        )
    try:
        with transaction.atomic():
            result = _rotate_locked(alg, expected_active)
    except IntegrityError:
        # A concurrent first rotation created the active/next key in the meantime.
        return Rotation(alg, performed=False)
    if result.performed:
        transaction.on_commit(lambda: events.key_rotated(result))
    return result


def _rotate_locked(alg: str, expected_active: str | None) -> Rotation:
    now = timezone.now()
    locked = list(
        SigningKey.objects.select_for_update()
        .filter(algorithm=alg, state__in=[SigningKey.State.NEXT, SigningKey.State.ACTIVE])
        .order_by("pk")
    )
    # Re-read after the lock: a rotation that committed while we waited is now visible.
    current = {k.state: k for k in SigningKey.objects.filter(pk__in=[k.pk for k in locked])}
    active = current.get(SigningKey.State.ACTIVE)
    if (active.kid if active else None) != expected_active:
        return Rotation(alg, performed=False)
    result = Rotation(alg)
    if active:
        _retire(active, now)
        result.retired = active
    nxt = current.get(SigningKey.State.NEXT)
    if nxt is None:
        # Bootstrap: nothing was published ahead of time, so the new key signs at once.
        nxt = create_key(alg, state=SigningKey.State.NEXT)
    nxt.state = SigningKey.State.ACTIVE
    nxt.activated_at = now
    nxt.save(update_fields=["state", "activated_at"])
    result.activated = nxt
    result.created = create_key(alg, state=SigningKey.State.NEXT)
    return result


def rotate_if_due(alg: str) -> Rotation | None:
    """Rotate when the active key is older than KEY_ROTATION_PERIOD (for cron)."""
    period = oidc_settings.KEY_ROTATION_PERIOD
    active = SigningKey.objects.filter(algorithm=alg, state=SigningKey.State.ACTIVE).first()
    if active and (not period or active.activated_at > timezone.now() - timedelta(seconds=period)):
        return None
    return rotate(alg, expected_active=active.kid if active else None)


def retire(key: SigningKey) -> None:
    """Stop signing with ``key``; a retired active key is replaced by the next one at once."""
    if key.state not in (SigningKey.State.ACTIVE, SigningKey.State.NEXT):
        raise KeyOperationError(f"Key {key.kid} is {key.state}; only next or active keys can be retired.")
    with transaction.atomic():
        locked = _lock_family(key)
        if locked.state in (SigningKey.State.ACTIVE, SigningKey.State.NEXT):  # else: a concurrent change won
            was = locked.state
            _retire(locked, timezone.now())
            _replace(locked.algorithm, was)
            transaction.on_commit(lambda: events.key_retired(locked))
    key.refresh_from_db()


def revoke(key: SigningKey) -> None:
    """Compromised: out of the JWKS and the key ring at once; its tokens stop validating.

    Revoking the active key promotes the next one in the same transaction (or generates a key
    when there is none), so signing never stops; a new next key is published either way.
    """
    with transaction.atomic():
        locked = _lock_family(key)
        if locked.state == SigningKey.State.REVOKED:
            key.refresh_from_db()
            return
        was = locked.state
        locked.state = SigningKey.State.REVOKED
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["state", "revoked_at"])
        _replace(locked.algorithm, was)
    key.refresh_from_db()
    transaction.on_commit(lambda: events.key_revoked(key))


def _lock_family(key: SigningKey) -> SigningKey:
    """Lock the algorithm's next and active rows (as rotate does) and re-read ``key`` under the lock."""
    list(
        SigningKey.objects.select_for_update()
        .filter(algorithm=key.algorithm, state__in=[SigningKey.State.NEXT, SigningKey.State.ACTIVE])
        .order_by("pk")
    )
    return SigningKey.objects.select_for_update().get(pk=key.pk)


def _replace(alg: str, state: str) -> None:
    """After the ``state`` key of ``alg`` left: promote next to active (or generate one), then
    publish a new next key."""
    if state == SigningKey.State.ACTIVE:
        nxt = SigningKey.objects.filter(algorithm=alg, state=SigningKey.State.NEXT).first()
        if nxt is None:
            create_key(alg, state=SigningKey.State.ACTIVE)
        else:
            nxt.state = SigningKey.State.ACTIVE
            nxt.activated_at = timezone.now()
            nxt.save(update_fields=["state", "activated_at"])
    if state in (SigningKey.State.ACTIVE, SigningKey.State.NEXT):
        create_key(alg, state=SigningKey.State.NEXT)


def prune() -> int:
    """Delete retired keys past their publication window and revoked keys."""
    expired = SigningKey.objects.filter(state=SigningKey.State.RETIRED, expires_at__lte=timezone.now())
    revoked = SigningKey.objects.filter(state=SigningKey.State.REVOKED)
    count = 0
    for qs in (expired, revoked):
        count += qs.delete()[0]
    return count


def reencrypt_all() -> int:
    """Re-encrypt every private key under the first ENCRYPTION_KEYS entry."""
    count = 0
    with transaction.atomic():
        for key in SigningKey.objects.select_for_update():
            key.private_key_encrypted = encryption.reencrypt(key.private_key_encrypted, key.kid)
            key.save(update_fields=["private_key_encrypted"])
            count += 1
    return count


def ensure_active_key(alg: str) -> SigningKey:
    """Bootstrap for new sites and the demo: an active key (and a next one) for ``alg``."""
    active = SigningKey.objects.filter(algorithm=alg, state=SigningKey.State.ACTIVE).first()
    if active is None:
        rotate(alg, expected_active=None)
        active = SigningKey.objects.get(algorithm=alg, state=SigningKey.State.ACTIVE)
    return active


# -- the in-process key ring ------------------------------------------------------------


class LoadedKey:
    """A published key, parsed once: public key object, JWK, lazily decrypted private key."""

    __slots__ = ("_encrypted", "_private", "alg", "kid", "public_jwk", "public_key", "state")

    def __init__(self, row: SigningKey) -> None:
        self.kid = row.kid
        self.alg = row.algorithm
        self.state = row.state
        self.public_jwk = row.public_jwk
        self.public_key = import_jwk(row.public_jwk, cached=False).key
        self._encrypted = row.private_key_encrypted
        self._private = None

    @property
    def private_key(self) -> Any:
        if self._private is None:
            pem = encryption.decrypt(self._encrypted, self.kid)
            self._private = serialization.load_pem_private_key(pem, password=None)
        return self._private


@dataclass
class KeyRing:
    version: str
    keys: dict[str, LoadedKey] = field(default_factory=dict)
    active: dict[str, LoadedKey] = field(default_factory=dict)
    jwks: bytes = b'{"keys":[]}'
    etag: str = ""
    valid_until: float = float("inf")  # wall-clock instant a retired key leaves the JWKS

    def signing_key(self, alg: str) -> LoadedKey:
        try:
            return self.active[alg]
        except KeyError:
            raise NoActiveKey(alg) from None


VERSION_NAME = "signing-keys"
_watch = versions.Watch(VERSION_NAME)
_lock = threading.Lock()
_ring: KeyRing | None = None


def _load(version: str) -> KeyRing:
    now = timezone.now()
    ring = KeyRing(version=version)
    rows = SigningKey.objects.filter(state__in=PUBLISHED_STATES).order_by("algorithm", "-created_at")
    for row in rows:
        if row.state == SigningKey.State.RETIRED and row.expires_at and row.expires_at <= now:
            continue
        loaded = LoadedKey(row)
        ring.keys[row.kid] = loaded
        if row.state == SigningKey.State.ACTIVE:
            ring.active[row.algorithm] = loaded
        if row.state == SigningKey.State.RETIRED and row.expires_at:
            ring.valid_until = min(ring.valid_until, row.expires_at.timestamp())
    ring.jwks = json.dumps({"keys": [k.public_jwk for k in ring.keys.values()]}, sort_keys=True).encode()
    ring.etag = f'"{hashlib.sha256(ring.jwks).hexdigest()[:32]}"'
    return ring


def keyring() -> KeyRing:
    """The current key ring; reloads when the keys' version moved or a retired key expired.

    The version is read at most every KEY_CACHE_CHECK_INTERVAL (``versions.Watch``), so a
    request costs no query and no cache read.
    """
    global _ring
    version = _watch.current()
    ring = _ring
    if ring is not None and ring.version == version and time.time() < ring.valid_until:
        return ring
    with _lock:
        ring = _ring
        if ring is None or ring.version != version or time.time() >= ring.valid_until:
            ring = _ring = _load(version)
        return ring


def invalidate() -> None:
    """Tell every process that keys changed (after changes that send no signals, like update())."""
    versions.bump(VERSION_NAME)
    clear_local_cache()


def clear_local_cache() -> None:
    """Forget this process's key ring and its reading of the version (tests, after a change here)."""
    global _ring
    _ring = None
    _watch.forget()


@receiver(post_save, sender=SigningKey)
@receiver(post_delete, sender=SigningKey)
def _keys_changed(**kwargs: Any) -> None:
    versions.bump(VERSION_NAME)  # in the change's transaction: committed with it or not at all
    transaction.on_commit(clear_local_cache)
