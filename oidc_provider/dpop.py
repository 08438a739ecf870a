"""DPoP proofs (RFC 9449): ``verify_proof`` and the server's stateless nonces.

``verify_proof`` checks one ``DPoP`` header by RFC 9449 §4.3, point by point, through the
``DPOP_PROOF`` validation profile (typ, alg, signature, required claims, iat window) and the
project's one JWK importer (the header's public ``jwk``); the ``jti`` is claimed once through
``single_use`` (the database decides, §11.1). Nonces (§8) are an HMAC of a time window under a
key derived from ``SECRET_KEY``: every process computes the same ones without shared state.

Callers (the token endpoint, resource servers) turn ``DPoPError`` into their response: HTTP 400
at the token endpoint (§5.0), 401 with ``WWW-Authenticate: DPoP`` at a resource (§7.1), and a
``DPoP-Nonce`` header with ``error.nonce`` for ``use_dpop_nonce`` (§8, §9).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.utils.crypto import salted_hmac

from . import jose, single_use
from .conf import oidc_settings
from .jwk import InvalidJWK, import_jwk, thumbprint
from .validation import DPOP_PROOF, decode

INVALID_DPOP_PROOF = "invalid_dpop_proof"  # RFC 9449 §5.0 / §7.1
USE_DPOP_NONCE = "use_dpop_nonce"  # RFC 9449 §8 / §9
JTI_NAMESPACE = "dpop"


class DPoPError(Exception):
    """A proof that must not be accepted: ``error`` is the RFC 9449 error code,
    ``description`` is safe to show to the client, ``nonce`` (for ``use_dpop_nonce``) is
    the value to send in the ``DPoP-Nonce`` response header."""

    def __init__(self, description: str, error: str = INVALID_DPOP_PROOF, nonce: str | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.nonce = nonce


@dataclass(frozen=True)
class Proof:
    """A verified proof: ``jkt`` is the RFC 7638 thumbprint of its key (``cnf.jkt``, §6.1)."""

    jkt: str
    jti: str
    iat: float


class _HeaderKey:
    """The key source of a proof: the public key of its own ``jwk`` header (there is no kid)."""

    def __init__(self, key: Any, alg: str) -> None:
        self._found = (key, alg)

    def get(self, kid: str | None) -> tuple[Any, str]:
        return self._found


def verify_proof(
    proof: str | Sequence[str] | None,
    *,
    htm: str,
    htu: str,
    access_token: str | None = None,
    nonce: str | None = None,
    now: Callable[[], float] = time.time,
) -> Proof:
    """Verify the ``DPoP`` header of a request to ``htm`` ``htu``; raises DPoPError.

    ``proof``: the header's value, or the list of the request's ``DPoP`` header values.
    ``access_token``: the token presented with the proof (``ath`` is then required, §4.3
    point 11). ``nonce``: a nonce this request requires; when None, the server's own nonces
    are required if ``DPOP_NONCE_REQUIRED``.
    """
    value = _one(proof)
    try:
        header = jose.parse(value, max_size=oidc_settings.MAX_TOKEN_SIZE).header
        alg = header["alg"]  # jose.parse: one of jose.ALGORITHMS, never "none"
        if alg not in DPOP_PROOF.algorithms():  # point 5: asymmetric and supported
            raise DPoPError(f"DPoP proof algorithm {alg} is not supported.")
        member = header.get("jwk")
        imported = import_jwk(member, alg=alg)  # point 7: refuses private (and symmetric) members
        _, claims = decode(value, DPOP_PROOF, _HeaderKey(imported.key, alg), issuer=None, now=now)
    except (jose.InvalidToken, InvalidJWK) as exc:  # points 2, 3, 4, 6 and 11 (iat) in ``decode``
        raise DPoPError(f"Invalid DPoP proof: {exc}") from None
    if claims["htm"] != htm:  # point 8 (methods are case-sensitive, RFC 9110 §9.1)
        raise DPoPError("DPoP proof htm does not match the request method.")
    expected_htu = normalized_htu(htu)
    if expected_htu is None or normalized_htu(claims["htu"]) != expected_htu:  # point 9
        raise DPoPError("DPoP proof htu does not match the request URI.")
    _check_nonce(claims.get("nonce"), nonce, now())  # point 10
    if access_token is not None and not _equal(claims.get("ath"), access_token_hash(access_token)):
        raise DPoPError("DPoP proof ath does not match the access token.")  # point 12, §7.1
    jkt = thumbprint(member)
    _claim_jti(jkt, claims)
    return Proof(jkt=jkt, jti=claims["jti"], iat=claims["iat"])


def _one(proof: str | Sequence[str] | None) -> str:
    """§4.3 point 1: exactly one DPoP header field with one value."""
    values = [proof] if isinstance(proof, str) else list(proof or ())
    if not values:
        raise DPoPError("No DPoP proof.")
    # A server joins repeated header fields with commas (RFC 9110 §5.3); a JWS has none.
    if len(values) > 1 or not isinstance(values[0], str) or "," in values[0]:
        raise DPoPError("More than one DPoP proof.")
    return values[0].strip()


def _claim_jti(jkt: str, claims: dict[str, Any]) -> None:
    """§11.1: a jti is accepted once per key while its proof's iat is inside the window."""
    window_end = claims["iat"] + oidc_settings.DPOP_PROOF_MAX_AGE + oidc_settings.LEEWAY
    expires_at = datetime.fromtimestamp(window_end, tz=UTC)
    if not single_use.claim_once(JTI_NAMESPACE, f"{jkt}\x00{claims['jti']}", expires_at):
        raise DPoPError("DPoP proof was already used.")


def access_token_hash(access_token: str) -> str:
    """``ath`` (RFC 9449 §4.2): base64url of the SHA-256 of the token's ASCII value."""
    return jose.b64encode(hashlib.sha256(access_token.encode("utf-8")).digest())


def _equal(value: Any, expected: str) -> bool:
    """Constant-time equality of a claim with a value of ours (ASCII)."""
    if not (isinstance(value, str) and value.isascii() and expected.isascii()):
        return False
    return hmac.compare_digest(value, expected)


# --- htu (RFC 9449 §4.3 point 9; RFC 3986 §6.2.2 and §6.2.3) --------------------------------

DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_URI_CHARS = re.compile(r"[\x21-\x7e]+")


def normalized_htu(uri: Any) -> str | None:
    """``scheme://authority/path`` of an http(s) URI, without query and fragment (§4.3 point
    9), normalised by RFC 3986 §6.2.2 (case, percent-encoding, dot segments) and §6.2.3
    (default port, empty path); None when it is not one."""
    if not isinstance(uri, str) or not _URI_CHARS.fullmatch(uri):
        return None  # urlsplit would silently drop tabs and newlines
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None  # RFC 9110 §4.2.4: no userinfo in http(s) URIs
    if ":" in host:
        host = f"[{host}]"
    authority = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _remove_dot_segments(_PERCENT.sub(_normalize_percent, parts.path)) or "/"
    return f"{scheme}://{authority}{path}"


def _normalize_percent(match: re.Match[str]) -> str:
    # §6.2.2.1: hex digits in upper case; §6.2.2.2: unreserved characters decoded.
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else f"%{match.group(1).upper()}"


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 (§6.2.2.3) for an absolute path."""
    segments = path.split("/")
    output: list[str] = []
    for segment in segments:
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")
    return "/".join(output)


# --- nonces (RFC 9449 §8) ---------------------------------------------------------------------


def _nonce_for(window: int) -> str:
    # Domain separation: this key serves DPoP nonces only (salted_hmac derives it from SECRET_KEY).
    mac = salted_hmac("oidc_provider.dpop", f"nonce\x00{window}", algorithm="sha256")
    return jose.b64encode(mac.digest())


def _window(now: float) -> int:
    return int(now // oidc_settings.DPOP_NONCE_LIFETIME)


def current_nonce(now: float | None = None) -> str:
    """The nonce to send in ``DPoP-Nonce`` now; it is accepted for 1 to 2 ``DPOP_NONCE_LIFETIME``."""
    return _nonce_for(_window(time.time() if now is None else now))


def nonce_valid(value: Any, now: float | None = None) -> bool:
    """True for the current or the previous window's nonce (§8: rotated on a schedule)."""
    window = _window(time.time() if now is None else now)
    return any(_equal(value, _nonce_for(w)) for w in (window, window - 1))


def _check_nonce(claim: Any, required: str | None, now: float) -> None:
    if required is not None:
        accepted = _equal(claim, required)
    elif oidc_settings.DPOP_NONCE_REQUIRED:
        accepted = nonce_valid(claim, now)
    else:
        return
    if not accepted:
        description = "DPoP proof has no nonce." if claim is None else "DPoP proof nonce is not valid."
        raise DPoPError(description, USE_DPOP_NONCE, nonce=required or current_nonce(now))
