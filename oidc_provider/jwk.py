"""The one way a JWK (RFC 7517) becomes a key object: ``import_jwk``, with one set of rules.

Used for this site's published keys (the key ring), clients' keys for private_key_jwt
(stored or fetched), another issuer's JWKS (DRF remote mode) and the admin form that stores
a client's JWKS. The rules: signature keys only (``use`` sig, ``key_ops`` verify), no
private or symmetric material unless asked, RSA of at least 2048 bits, the curves of RFC 7518
§6.2.1.1 and RFC 8037 §2 only, and an ``alg`` that fits the key type and curve (RFC 8725
§3.1). Only the members that define the key are read: nothing nested, nothing else trusted.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto.common import JWException

from .jose import ALGORITHMS, ASYMMETRIC

#: RFC 7518 §6.3.2 (RSA), §6.2.2 (EC), §6.4.1 (oct ``k``), RFC 8037 §2 (OKP ``d``).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: The members that define a public key, by ``kty`` (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2).
PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
CURVES = {"EC": frozenset({"P-256", "P-384", "P-521"}), "OKP": frozenset({"Ed25519"})}
MIN_RSA_BITS = 2048


class InvalidJWK(ValueError):
    """A JWK that must not be used; ``str(exc)`` is safe to show (admin form, logs)."""


@dataclass(frozen=True)
class ImportedKey:
    key: Any  # a cryptography key object (public unless ``private=True`` was asked for)
    alg: str | None  # the member's alg or the caller's default; None when neither names one
    kid: str | None


def import_jwk(
    member: Any,
    *,
    alg: str | None = None,
    require_alg: bool = False,
    private: bool = False,
    cached: bool = True,
) -> ImportedKey:
    """Import one JWK by the rules above; raises InvalidJWK.

    ``alg``: used when the member names none (a token header's alg); ``require_alg``: the
    member itself must name it (another issuer's keys: guessing is how confusion starts).
    ``private``: accept and import the private members (this site's own keys only).
    ``cached``: reuse the key object of an identical JWK (clients present theirs with every
    assertion); the key ring asks for new objects on each load (see ``jose.verify_signature``).
    """
    if not isinstance(member, dict):
        raise InvalidJWK("A JWK is a JSON object.")
    kty = member.get("kty")
    found = sorted(PRIVATE_MEMBERS & set(member))
    if found and not private:
        raise InvalidJWK(f"contains private or symmetric key material ({', '.join(found)})")
    if kty not in PUBLIC_MEMBERS:
        raise InvalidJWK("kty must be RSA, EC or OKP.")
    if member.get("use", "sig") != "sig":
        raise InvalidJWK("use must be sig.")
    ops = member.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or ("sign" if private else "verify") not in ops):
        raise InvalidJWK("key_ops does not allow signature verification.")
    if require_alg and member.get("alg") is None:
        raise InvalidJWK("The JWK names no alg.")
    alg = member.get("alg") if member.get("alg") is not None else alg
    if alg is not None and (alg not in ASYMMETRIC or ALGORITHMS[alg].kty != kty):
        raise InvalidJWK(f"alg {alg!r} does not fit a {kty} key.")
    crv = member.get("crv")
    if kty in CURVES and crv not in CURVES[kty]:
        raise InvalidJWK(f"Unsupported curve {crv!r}.")
    if alg is not None and ALGORITHMS[alg].curve not in (None, crv):
        raise InvalidJWK(f"alg {alg} needs curve {ALGORITHMS[alg].curve}.")
    names = PUBLIC_MEMBERS[kty] + (tuple(sorted(PRIVATE_MEMBERS - {"k", "oth"})) if private else ())
    material = {"kty": kty, **{name: member[name] for name in names if name in member}}
    if not all(isinstance(value, str) for value in material.values()):
        raise InvalidJWK("Key members must be strings.")
    canonical = json.dumps(material, sort_keys=True)
    key = _key_object(canonical, private) if cached else _key_object.__wrapped__(canonical, private)
    if key is None:
        raise InvalidJWK("Not a valid key.")
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        raise InvalidJWK(f"RSA keys must be at least {MIN_RSA_BITS} bits.")
    if alg is not None and not ALGORITHMS[alg].key_matches(key):
        raise InvalidJWK(f"This key cannot be used with {alg}.")
    kid = member.get("kid")
    return ImportedKey(key, alg, kid if isinstance(kid, str) and kid else None)


@functools.lru_cache(maxsize=1024)
def _key_object(material: str, private: bool) -> Any | None:
    """The key object of canonical JWK JSON: jwcrypto's import costs ~0.25 ms, and a client
    presents the same keys with every assertion."""
    try:
        return jwcrypto_jwk.JWK(**json.loads(material)).get_op_key("sign" if private else "verify")
    except (JWException, ValueError, TypeError, KeyError, AttributeError):
        return None
