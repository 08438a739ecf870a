"""The one JWT validation engine, ``decode``, and the named profiles every caller uses.

A profile says what one kind of token must look like: its ``typ``, the algorithms it may be
signed with, its required claims and its expiry rules, each with the section it comes from.
Callers give only what the profile cannot know: the key source, and the issuer and audience
values for this request. Every JWT that enters the app passes here (DRF, introspection, the
admin inspector, ``id_token_hint`` at authorize and at logout, client assertions).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from . import jose
from .conf import oidc_settings
from .jose import InvalidToken, parse, verify_signature

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
ID_TOKEN_TYPES = frozenset({"jwt"})  # lowercased, as ``decode`` compares typ
STRING_CLAIMS = ("iss", "sub", "jti", "client_id", "scope", "sid", "htm", "htu")


def _site_algorithms() -> Collection[str]:
    return oidc_settings.ALLOWED_ALGORITHMS


def _assertion_algorithms() -> Collection[str]:
    return sorted(jose.ALGORITHMS)  # narrowed per client to HMAC or asymmetric by client_auth


def _asymmetric() -> Collection[str]:
    return jose.ASYMMETRIC


def _assertion_max_lifetime() -> int:
    return oidc_settings.CLIENT_ASSERTION_MAX_LIFETIME


MAX_JTI_LENGTH = 256


def _assertion_rules(claims: dict[str, Any]) -> None:
    # RFC 7523 §3 item 7: the jti is remembered until exp, so it must be a short string.
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise InvalidToken("jti must be a short non-empty string.")


@dataclass(frozen=True)
class Profile:
    """The rules for one kind of JWT; ``decode`` enforces exactly these.

    ``typ``: accepted ``typ`` header values (lowercase); None accepts any or none.
    ``algorithms``: the algorithms allowed at all (a caller may narrow them, never widen).
    ``required``: claims that must be present. ``check_exp``: refuse an expired token.
    ``max_age``: seconds; refuse ``exp`` further ahead, or ``iat`` further back, than this.
    ``require_kid``: a header without ``kid`` is refused (else the key source picks its one key).
    ``check``: extra rules on the verified claims (raises InvalidToken).
    ``audience``: what the caller passes as audience (the engine checks whatever it is given).
    """

    name: str
    typ: frozenset[str] | None
    algorithms: Callable[[], Collection[str]]
    required: tuple[str, ...]
    audience: str
    check_exp: bool = True
    max_age: Callable[[], int] | None = None
    require_kid: bool = True
    check: Callable[[dict[str, Any]], None] | None = None


# RFC 9068 §4: typ at+jwt, signed (never none), iss and aud checked, not expired.
# RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are all required.
ACCESS_TOKEN = Profile(
    name="access token (RFC 9068)",
    typ=ACCESS_TOKEN_TYPES,
    algorithms=_site_algorithms,
    required=("iss", "exp", "aud", "sub", "client_id", "iat", "jti"),
    audience="the resource server's own identifiers; None at this site's userinfo and introspection",
)

# OIDC Core §2 (required claims) and §3.1.3.7 (validation): an ID token presented to us.
ID_TOKEN = Profile(
    name="ID token (OIDC Core §2)",
    typ=ID_TOKEN_TYPES,  # never an access token (at+jwt), though this site signs both
    algorithms=_site_algorithms,
    required=("iss", "sub", "aud", "exp", "iat"),
    audience="a client_id of this site",
)

# OIDC Core §3.1.2.1 id_token_hint and RP-Initiated Logout §2: one of our own ID tokens,
# signed by one of this site's keys; an expired one is still a valid hint. Its aud is the
# client the request names, when it names one.
ID_TOKEN_HINT = Profile(
    name="id_token_hint (OIDC Core §3.1.2.1)",
    typ=ID_TOKEN_TYPES,
    algorithms=_site_algorithms,
    required=("iss", "sub", "aud", "iat"),  # logout also needs jti to find the IDToken row
    audience="the client_id of the request, when it names one",
    check_exp=False,
)

# RFC 7523 §3: iss and sub are the client_id, aud names this server, exp required, jti once
# (OIDC Core §9); no typ is defined. OIDC Core §10.1: kid may be omitted with a single key.
# exp/iat at most CLIENT_ASSERTION_MAX_LIFETIME from now (RFC 7523 §3 item 4 lets us limit it).
CLIENT_ASSERTION = Profile(
    name="client assertion (RFC 7523 §3)",
    typ=None,
    algorithms=_assertion_algorithms,
    required=("iss", "sub", "aud", "exp", "jti"),
    audience="this issuer or the endpoint URL the assertion is sent to",
    max_age=_assertion_max_lifetime,
    require_kid=False,
    check=_assertion_rules,
)


def _dpop_rules(claims: dict[str, Any]) -> None:
    # RFC 9449 §4.2: htm and htu are strings; the caller compares them with its request.
    for name in ("htm", "htu"):
        if not isinstance(claims.get(name), str):
            raise InvalidToken(f"DPoP proof has no {name} claim.")


# RFC 9449 §4.3: typ dpop+jwt, an asymmetric alg (never none or MAC), the public key in the
# header's jwk (the caller turns it into the key source: there is no kid), jti, htm, htu and a
# recent iat; no exp is defined, so freshness is iat within the window.
DPOP_PROOF = Profile(
    name="DPoP proof (RFC 9449 §4.3)",
    typ=frozenset({"dpop+jwt"}),
    algorithms=_asymmetric,
    required=("jti", "htm", "htu", "iat"),
    audience="none: a proof has no aud (pass None)",
    check_exp=False,
    max_age=_assertion_max_lifetime,
    require_kid=False,
    check=_dpop_rules,
)

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _logout_rules(claims: dict[str, Any]) -> None:
    # Back-Channel Logout §2.4: the logout event member, sub or sid, and never a nonce.
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise InvalidToken("Logout token has no back-channel logout event.")
    if "sub" not in claims and "sid" not in claims:
        raise InvalidToken("Logout token names neither sub nor sid.")
    if "nonce" in claims:
        raise InvalidToken("Logout token must not contain a nonce.")


# Back-Channel Logout §2.4/§2.6: typ logout+jwt, iss, aud (the RP's client_id), iat, exp, jti,
# events; signed like ID tokens.
LOGOUT_TOKEN = Profile(
    name="logout token (Back-Channel Logout §2.4)",
    typ=frozenset({"logout+jwt"}),
    algorithms=_site_algorithms,
    required=("iss", "aud", "iat", "exp", "jti", "events"),
    audience="the relying party's client_id",
    check=_logout_rules,
)


class KeySource(Protocol):
    """Finds the verification key for a kid: returns (public key object, alg) or None.

    ``kid`` is None only for profiles with ``require_kid=False``.
    """

    def get(self, kid: str | None) -> tuple[Any, str] | None: ...


class LocalKeys:
    """This site's published keys, from the in-process key ring (no query when warm)."""

    def get(self, kid: str | None) -> tuple[Any, str] | None:
        key = _keyring().keys.get(kid)
        return (key.public_key, key.alg) if key is not None else None


def _keyring() -> Any:
    # keys imports the models: resolved on first use, so remote-only services never load them,
    # then bound here (a function-level import on every call costs more than the lookup).
    global _keyring
    from .keys import keyring

    _keyring = keyring
    return keyring()


def _numeric(claims: dict[str, Any], name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise InvalidToken(f"Token has no {name} claim.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidToken(f"Token claim {name} is not a number.")
    return value


def _audience_accepted(aud: Any, expected: Collection[str]) -> bool:
    if isinstance(aud, str):
        return aud in expected
    return isinstance(aud, list) and any(isinstance(v, str) and v in expected for v in aud)


def decode(
    token: str | bytes,
    profile: Profile,
    keys: KeySource,
    *,
    issuer: str | None,
    audience: str | Collection[str] | None = None,
    algorithms: Collection[str] | None = None,
    leeway: int | None = None,
    remember: bool = False,
    now: Callable[[], float] = time.time,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact JWS against ``profile``; returns (header, claims) or raises InvalidToken.

    ``issuer``/``audience``: the values this request accepts (None: not checked, the admin
    inspector only). ``algorithms`` narrows the profile's. ``remember``: check each token's
    signature once per process and key (access tokens that come back with every request; see
    ``jose.verify_signature``).
    """
    unverified = parse(token, max_size=oidc_settings.MAX_TOKEN_SIZE)
    header = unverified.header
    if profile.typ is not None and str(header.get("typ", "")).lower() not in profile.typ:
        # RFC 8725 §3.11: explicit typing keeps one kind of token from passing as another.
        raise InvalidToken("Token type is not accepted here.")
    kid = header.get("kid")
    if (kid is not None or profile.require_kid) and (not isinstance(kid, str) or not kid):
        raise InvalidToken("Token has no key id.")
    found = keys.get(kid)
    if found is None:
        raise InvalidToken("Token is signed by an unknown key.")
    allowed = profile.algorithms()
    if algorithms is not None:
        allowed = [alg for alg in algorithms if alg in allowed]
    claims = verify_signature(unverified, found[0], found[1], allowed, remember=remember)

    for name in profile.required:
        if name not in claims:
            raise InvalidToken(f"Token has no {name} claim.")
    if issuer is not None and claims.get("iss") != issuer:
        raise InvalidToken("Token issuer is not accepted.")
    if audience is not None:
        expected = (audience,) if isinstance(audience, str) else audience
        if not _audience_accepted(claims.get("aud"), expected):
            raise InvalidToken("Token audience is not accepted.")
    _check_times(claims, profile, oidc_settings.LEEWAY if leeway is None else leeway, now())
    for name in STRING_CLAIMS:  # present means a string: null is not one
        if not isinstance(claims.get(name, ""), str):
            raise InvalidToken(f"Token claim {name} is not a string.")
    if profile.check is not None:
        profile.check(claims)
    return header, claims


def _check_times(claims: dict[str, Any], profile: Profile, leeway: int, current: float) -> None:
    exp = _numeric(claims, "exp", "exp" in profile.required)
    if profile.check_exp and exp is not None and exp <= current - leeway:
        raise InvalidToken("Token has expired.")
    nbf = _numeric(claims, "nbf", False)
    if nbf is not None and nbf > current + leeway:
        raise InvalidToken("Token is not valid yet.")
    iat = _numeric(claims, "iat", "iat" in profile.required)
    if iat is not None and iat > current + leeway:
        raise InvalidToken("Token was issued in the future.")
    if profile.max_age is not None:
        max_age = profile.max_age()
        if exp is not None and exp > current + max_age + leeway:
            raise InvalidToken(f"Token exp is more than {max_age} seconds ahead.")
        if iat is not None and iat < current - max_age - leeway:
            raise InvalidToken("Token was issued too long ago.")


def audience_list(claims: dict[str, Any]) -> list[str]:
    """The ``aud`` claim as a list (RFC 7519 §4.1.3: one string or an array of strings)."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


def decode_local(
    token: str | bytes, profile: Profile = ACCESS_TOKEN, **options: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``decode`` one of this site's own tokens: its keys and its issuer (no audience unless given)."""
    return decode(token, profile, LocalKeys(), issuer=oidc_settings.ISSUER, **options)
