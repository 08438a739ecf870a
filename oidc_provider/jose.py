"""Compact JWS signing and verification on ``cryptography`` key objects.

jwcrypto handles keys (generation, JWK import/export, thumbprints); this module does
only the per-token work, because it runs on every token issued and every API request:
jwcrypto rebuilds key objects per call and costs ~8x the raw RS256 verification
(measured with ``bench/run.py``). The rules here follow RFC 7515 and RFC 8725:
the algorithm comes from a fixed table (never "none"), must be allowed by the caller
*and* equal the key's own algorithm, and ``crit``/``jku``/``x5u``/``jwk`` are never
followed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature


class InvalidToken(Exception):
    """A token that must not be accepted; ``str(exc)`` is safe to show to the client."""


@dataclass(frozen=True)
class Algorithm:
    name: str
    kty: str  # JWK key type this algorithm is made for
    hash: type[hashes.HashAlgorithm] | None
    curve: str | None = None  # JWK "crv" for EC/OKP keys

    @cached_property
    def _hash(self) -> hashes.HashAlgorithm | None:
        return self.hash() if self.hash else None

    @cached_property
    def _padding(self) -> padding.AsymmetricPadding | None:
        if self.kty != "RSA":
            return None
        if self.name.startswith("PS"):
            return padding.PSS(mgf=padding.MGF1(self.hash()), salt_length=self.hash.digest_size)
        return padding.PKCS1v15()

    @cached_property
    def _ecdsa(self) -> ec.ECDSA | None:
        return ec.ECDSA(self.hash()) if self.kty == "EC" else None

    @property
    def digest(self) -> Callable[[bytes], Any]:
        """Hash for at_hash/c_hash (OIDC Core 3.1.3.6); SHA-512 for Ed25519."""
        name = self.hash.name if self.hash else "sha512"
        return getattr(hashlib, name.replace("-", ""))

    def sign(self, key: Any, data: bytes) -> bytes:
        if self.kty == "RSA":
            return key.sign(data, self._padding, self._hash)
        if self.kty == "EC":
            r, s = decode_dss_signature(key.sign(data, self._ecdsa))
            size = (key.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        if self.kty == "OKP":
            return key.sign(data)
        return _hmac(self, key, data)

    def verify(self, key: Any, signature: bytes, data: bytes) -> bool:
        try:
            if self.kty == "RSA":
                key.verify(signature, data, self._padding, self._hash)
            elif self.kty == "EC":
                size = (key.curve.key_size + 7) // 8
                if len(signature) != 2 * size:
                    return False
                r = int.from_bytes(signature[:size], "big")
                s = int.from_bytes(signature[size:], "big")
                # SEC 1 §4.1.4 step 1: r and s lie in [1, n-1]. High-S (s > n/2) is accepted:
                # RFC 7518 §3.4 does not require low-S and common signers emit both forms. The
                # flipped signature verifies the same claims; nothing here keys on signature bytes
                # alone (replay and revocation use jti, the stored row the whole token).
                n = CURVE_ORDERS[self.curve]
                if not (0 < r < n and 0 < s < n):
                    return False
                key.verify(encode_dss_signature(r, s), data, self._ecdsa)
            elif self.kty == "OKP":
                key.verify(signature, data)
            else:
                return hmac.compare_digest(_hmac(self, key, data), signature)
        except InvalidSignature:
            return False
        return True

    @cached_property
    def _type_matches(self) -> dict[type, bool]:
        return {}

    def key_matches(self, key: Any) -> bool:
        """True when ``key`` is of the type (and curve) this algorithm is made for."""
        # isinstance against cryptography's ABCs costs ~30 µs; remember the answer per class.
        matches = self._type_matches.get(type(key))
        if matches is None:
            matches = self._type_matches[type(key)] = isinstance(key, _KEY_TYPES[self.kty])
        if matches and self.kty == "EC":
            return isinstance(key.curve, _CURVES[self.curve])
        return matches


def _hmac(alg: Algorithm, key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, alg.hash.name).digest()


#: Order n of each curve's base point (SEC 2 §2.4.2, §2.5.1, §2.6.1).
CURVE_ORDERS = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
    "P-521": int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}
_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
_KEY_TYPES = {
    "RSA": (rsa.RSAPublicKey, rsa.RSAPrivateKey),
    "EC": (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey),
    "OKP": (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey),
    "oct": (bytes,),
}

ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("RS256", "RSA", hashes.SHA256),
        Algorithm("RS384", "RSA", hashes.SHA384),
        Algorithm("RS512", "RSA", hashes.SHA512),
        Algorithm("PS256", "RSA", hashes.SHA256),
        Algorithm("PS384", "RSA", hashes.SHA384),
        Algorithm("PS512", "RSA", hashes.SHA512),
        Algorithm("ES256", "EC", hashes.SHA256, "P-256"),
        Algorithm("ES384", "EC", hashes.SHA384, "P-384"),
        Algorithm("ES512", "EC", hashes.SHA512, "P-521"),
        Algorithm("EdDSA", "OKP", None, "Ed25519"),
        Algorithm("HS256", "oct", hashes.SHA256),
        Algorithm("HS384", "oct", hashes.SHA384),
        Algorithm("HS512", "oct", hashes.SHA512),
    )
}
ASYMMETRIC = frozenset(name for name, a in ALGORITHMS.items() if a.kty != "oct")
HMAC = frozenset(ALGORITHMS) - ASYMMETRIC


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# "-_" become the standard alphabet; "+/=" become "*", which the strict decoder refuses.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/***")
_PADDING = (b"", b"", b"==", b"=")
_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Bits of the last character that carry no data, by length % 4 (1 is refused as malformed).
_TRAILING_BITS = (0, 0, 0b1111, 0b11)


def b64decode(data: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2); raises InvalidToken.

    One value, one encoding: padding, the standard alphabet and non-zero trailing bits
    (a second spelling of the same bytes) are refused, so a token cannot be re-encoded
    into a different string that still verifies.
    """
    try:
        raw = data.encode("ascii").translate(_TO_STANDARD) + _PADDING[len(data) % 4]
        decoded = binascii.a2b_base64(raw, strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidToken("Malformed token encoding.") from None
    if len(data) % 4 and _B64_ALPHABET.index(data[-1]) & _TRAILING_BITS[len(data) % 4]:
        raise InvalidToken("Malformed token encoding.")
    return decoded


def token_hash(alg: str, value: str) -> str:
    """at_hash / c_hash: left half of the alg's hash of the value (OIDC Core 3.1.3.6)."""
    digest = ALGORITHMS[alg].digest(value.encode("ascii")).digest()
    return b64encode(digest[: len(digest) // 2])


_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def sign(claims: dict[str, Any], key: Any, alg: str, *, kid: str | None = None, typ: str = "JWT") -> str:
    header = {"alg": alg, "typ": typ}
    if kid:
        header["kid"] = kid
    signing_input = f"{b64encode(_json(header).encode())}.{b64encode(_json(claims).encode())}"
    signature = ALGORITHMS[alg].sign(key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64encode(signature)}"


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise InvalidToken("Duplicate member in token JSON.")
    return result


def _reject_constant(name: str) -> Any:
    raise InvalidToken("Malformed token JSON.")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: RFC 8259 §6 numbers are finite; exp=inf would never expire
        raise InvalidToken("Malformed token JSON.")
    return value


# RFC 8259: NaN and Infinity are not JSON, though Python's parser accepts them.
_decoder = json.JSONDecoder(
    object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant, parse_float=_finite_float
)


def _parse_object(raw: bytes) -> dict[str, Any]:
    try:
        value = _decoder.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise InvalidToken("Malformed token JSON.") from None
    if not isinstance(value, dict):
        raise InvalidToken("Malformed token JSON.")
    return value


class Unverified:
    """The parts of a compact JWS before its signature is checked.

    The signature is decoded only when it is checked: a token already verified skips both.
    """

    __slots__ = ("_signature_b64", "header", "payload", "token")

    def __init__(self, token: str, header: dict[str, Any], payload: bytes, signature_b64: str) -> None:
        self.token = token
        self.header = header
        self.payload = payload
        self._signature_b64 = signature_b64

    @property
    def signing_input(self) -> bytes:
        return self.token[: self.token.rindex(".")].encode("ascii")

    @property
    def signature(self) -> bytes:
        return b64decode(self._signature_b64)

    def claims(self) -> dict[str, Any]:
        return _parse_object(self.payload)


def parse(token: str | bytes, *, max_size: int = 8192) -> Unverified:
    """Split and decode a compact JWS; only the header is interpreted."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidToken("Malformed token.") from None
    if not isinstance(token, str) or len(token) > max_size:
        raise InvalidToken("Token is too large." if isinstance(token, str) else "Malformed token.")
    parts = token.split(".")
    if len(parts) != 3:
        # Five parts is a JWE (RFC 7516): encrypted or nested tokens are not accepted.
        raise InvalidToken("Malformed token: expected a signed JWT.")
    header_b64, payload_b64, signature_b64 = parts
    header = _parse_header(header_b64)
    if not signature_b64:
        raise InvalidToken("Token is not signed.")
    return Unverified(token, header, b64decode(payload_b64), signature_b64)


# Tokens signed by one key share their header byte for byte: parse each distinct one once.
_headers: dict[str, dict[str, Any]] = {}
_HEADER_CACHE_SIZE = 256


def _parse_header(header_b64: str) -> dict[str, Any]:
    cached = _headers.get(header_b64)
    if cached is not None:
        return dict(cached)
    header = _parse_object(b64decode(header_b64))
    if "crit" in header:
        # RFC 7515 §4.1.11: we understand no extensions, so any crit header is fatal.
        raise InvalidToken("Unsupported critical header.")
    if header.get("enc") is not None or header.get("zip") is not None:
        raise InvalidToken("Encrypted tokens are not accepted.")
    if "b64" in header:
        raise InvalidToken("Unsupported header parameter b64.")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise InvalidToken("Unsupported token algorithm.")
    if len(_headers) >= _HEADER_CACHE_SIZE:
        _headers.clear()
    _headers[header_b64] = header
    return dict(header)


# Signatures already checked, by access token: each maps to the key object that verified it. A
# client presents its token on every request of its lifetime; checking the signature once per
# process is enough because a hit still needs the same key object, found again for this token's
# kid: a key that was revoked, retired past its window or refetched is a miss. Claims are parsed
# and checked on every call. Only callers that ask (``remember=True``: resource servers) use it,
# never for HMAC keys, and it is bounded, so a flood of valid tokens only costs misses.
_verified: dict[str, Any] = {}
VERIFIED_CACHE_SIZE = 4096


def clear_verified_cache() -> None:
    _verified.clear()


def verify_signature(
    unverified: Unverified, key: Any, key_alg: str, allowed_algs: Iterable[str], *, remember: bool = False
) -> dict[str, Any]:
    """Check the signature with ``key`` (made for ``key_alg``) and return the claims."""
    alg = unverified.header["alg"]
    # RFC 8725 §3.1: the token's alg must be allowed and be the alg the key was made for.
    if alg not in allowed_algs or alg != key_alg:
        raise InvalidToken("Token algorithm is not accepted for this key.")
    algorithm = ALGORITHMS[alg]
    if not algorithm.key_matches(key):
        raise InvalidToken("Token algorithm is not accepted for this key.")
    remember = remember and algorithm.kty != "oct"
    if not remember or _verified.get(unverified.token) is not key:
        if not algorithm.verify(key, unverified.signature, unverified.signing_input):
            raise InvalidToken("Token signature is invalid.")
        if remember:
            if len(_verified) >= VERIFIED_CACHE_SIZE:
                _verified.clear()
            _verified[unverified.token] = key
    return unverified.claims()
