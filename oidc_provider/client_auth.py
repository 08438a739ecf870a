"""Client authentication with JWT assertions: private_key_jwt and client_secret_jwt.

RFC 7523 §2.2 and §3, OIDC Core §9. Each client uses exactly the method set in its
``ClientProfile.token_endpoint_auth_method``: a JWT client cannot fall back to a
secret and a secret client cannot send an assertion. Every failure is an
``invalid_client`` error (RFC 6749 §5.2) whose description is safe to show.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.hashers import identify_hasher
from django.urls import NoReverseMatch, reverse
from oauth2_provider.models import redirect_to_uri_allowed
from oauthlib.oauth2.rfc6749 import errors

from . import client_secrets, events, jose, single_use
from .client_jwks import ClientKeys, KeysUnavailable
from .conf import oidc_settings
from .models import ClientProfile
from .profiles import profile_for
from .validation import CLIENT_ASSERTION, decode

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
Method = ClientProfile.AuthMethod
JWT_METHODS = frozenset({Method.PRIVATE_KEY_JWT, Method.SECRET_JWT})
PRIVATE_KEY_ALGORITHMS = sorted(jose.ASYMMETRIC)
SECRET_ALGORITHMS = sorted(jose.HMAC)
JTI_NAMESPACE = "client-assertion"


class ClientAuthError(errors.InvalidClientError):
    """invalid_client (RFC 6749 §5.2, HTTP 401) with a description for the client."""

    def __init__(self, description: str, request: Any = None) -> None:
        super().__init__(description=description, request=request)


class AssertionReplay(ClientAuthError):
    """The assertion's jti was already used (RFC 7523 §3 item 7)."""


def assertion_algorithms() -> list[str]:
    """token_endpoint_auth_signing_alg_values_supported (RFC 8414 §2); never "none"."""
    return PRIVATE_KEY_ALGORITHMS + SECRET_ALGORITHMS


def auth_methods(dot_methods: list[str]) -> list[str]:
    """DOT's secret methods plus the two JWT methods, without duplicates."""
    return list(dict.fromkeys([*dot_methods, Method.SECRET_JWT.value, Method.PRIVATE_KEY_JWT.value]))


def presents_assertion(request: Any) -> bool:
    """True when the request carries RFC 7523 client assertion parameters."""
    return bool(getattr(request, "client_assertion_type", None) or getattr(request, "client_assertion", None))


def requires_assertion(client: Any) -> bool:
    return profile_for(client).token_endpoint_auth_method in JWT_METHODS


def check_secret_method(client: Any, used: str, request: Any = None) -> None:
    """Refuse a secret where the client is registered for another method."""
    method = profile_for(client).token_endpoint_auth_method
    if method in JWT_METHODS:
        raise ClientAuthError(
            f"This client authenticates with {method}: send client_assertion_type and "
            "client_assertion instead of a client secret.",
            request,
        )
    if method in (Method.SECRET_BASIC, Method.SECRET_POST) and method != used:
        raise ClientAuthError(f"This client authenticates with {method} only.", request)


def secret_is_recoverable(client: Any) -> bool:
    """client_secret_jwt needs the plain secret: DOT hashes it unless hash_client_secret=False."""
    secret = getattr(client, "client_secret", "") or ""
    if not secret or getattr(client, "hash_client_secret", True):
        return False
    try:
        identify_hasher(secret)
    except ValueError:
        return True
    return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def accepted_audiences(request: Any) -> set[str]:
    """The issuer and the token endpoint URL; at introspection/revocation also their URLs."""
    issuer = oidc_settings.ISSUER
    if not issuer:
        return set()  # misconfigured site (check E010): accept no audience rather than guess
    origin = _origin(issuer)
    path = urlsplit(getattr(request, "uri", "") or "").path
    accepted = {issuer}
    for name in ("token", "introspect", "revoke-token"):
        try:
            endpoint = reverse(f"oauth2_provider:{name}")
        except NoReverseMatch:
            continue
        if name == "token" or endpoint == path:
            accepted.add(origin + endpoint)
    return accepted | {a.rstrip("/") for a in accepted}


def hmac_secret(client: Any, alg: str) -> bytes:
    """The client secret as the key of an HMAC ``alg``; ValueError with a safe message if it cannot be.

    Used for client_secret_jwt assertions and HS256 ID tokens alike.
    """
    if not secret_is_recoverable(client):
        raise ValueError(
            f"{alg} is not available for this client: its secret is stored hashed "
            "(the site must set hash_client_secret=False and issue a new secret)."
        )
    secret = client.client_secret.encode("utf-8")
    algorithm = jose.ALGORITHMS.get(alg)
    # RFC 7518 §3.2: the HMAC key must be at least as long as the hash output.
    if algorithm is not None and algorithm.hash is not None and len(secret) < algorithm.hash.digest_size:
        raise ValueError(
            f"The client secret is too short for {alg}: it needs at least "
            f"{algorithm.hash.digest_size} bytes (RFC 7518 §3.2)."
        )
    return secret


def _secret_key(client: Any, alg: str) -> tuple[bytes, str]:
    try:
        return hmac_secret(client, alg), alg
    except ValueError as exc:
        raise ClientAuthError(str(exc)) from None


class SecretKeys:
    """KeySource of the client secret for client_secret_jwt (any or no kid)."""

    def __init__(self, client: Any, alg: str) -> None:
        self.client, self.alg = client, alg

    def get(self, kid: str | None) -> tuple[Any, str] | None:
        return _secret_key(self.client, self.alg)


def _key_source(client: Any, profile: ClientProfile, header_alg: str) -> tuple[Any, list[str]]:
    """The client's verification keys and the algorithms its method allows (RFC 8725 §3.1)."""
    if profile.token_endpoint_auth_method == Method.SECRET_JWT:
        if header_alg not in jose.HMAC:
            raise ClientAuthError("client_secret_jwt assertions are signed with HS256, HS384 or HS512.")
        return SecretKeys(client, header_alg), SECRET_ALGORITHMS
    if header_alg not in jose.ASYMMETRIC:
        # An HMAC "signed" with the client's public key must never verify (key confusion).
        raise ClientAuthError("private_key_jwt assertions are signed with the client's private key.")
    if profile.client_jwks:
        return ClientKeys(profile.client_jwks, "", header_alg), PRIVATE_KEY_ALGORITHMS
    if profile.client_jwks_uri:
        return ClientKeys(None, profile.client_jwks_uri, header_alg), PRIVATE_KEY_ALGORITHMS
    raise ClientAuthError("No public keys are registered for this client.")


def _parse(request: Any, assertion: str) -> tuple[str, str]:
    """(client_id, alg) from the still unverified assertion."""
    try:
        unverified = jose.parse(assertion, max_size=oidc_settings.MAX_TOKEN_SIZE)
        claims = unverified.claims()
    except jose.InvalidToken as exc:
        raise ClientAuthError(f"Invalid client assertion: {exc}", request) from None
    iss, sub = claims.get("iss"), claims.get("sub")
    # RFC 7523 §3: iss and sub are both the client_id.
    if not isinstance(sub, str) or not sub or iss != sub:
        raise ClientAuthError("Invalid client assertion: iss and sub must both be the client_id.", request)
    if request.client_id and request.client_id != sub:
        raise ClientAuthError("Invalid client assertion: sub does not match client_id.", request)
    return sub, unverified.header["alg"]


def _consume_jti(client_id: str, claims: dict[str, Any], now: float, request: Any) -> None:
    """RFC 7523 §3 item 7: each jti is accepted once, until the assertion expires.

    The database decides (single_use), so a replay sent to another process or host fails too.
    """
    expires_at = datetime.fromtimestamp(claims["exp"] + oidc_settings.LEEWAY, tz=UTC)
    if not single_use.claim_once(JTI_NAMESPACE, f"{client_id}\x00{claims['jti']}", expires_at):
        raise AssertionReplay("Invalid client assertion: it has already been used.", request)


def authenticate_assertion(request: Any, load_application: Any, *, other_credentials: bool) -> bool:
    """Authenticate ``request`` by its client assertion; sets client and client_id or raises.

    Every refusal is a security event (``events``), with the client the assertion claims to be.
    """
    try:
        return _authenticate_assertion(request, load_application, other_credentials=other_credentials)
    except AssertionReplay:
        events.replay_detected("client assertion", _claimed_client(request))
        raise
    except ClientAuthError as exc:
        events.assertion_refused(exc.description, _claimed_client(request))
        raise


def _claimed_client(request: Any) -> Any:
    """The client_id of the request, else the unverified ``sub`` of its assertion (for logs)."""
    if getattr(request, "client_id", None):
        return request.client_id
    try:
        return jose.parse(request.client_assertion, max_size=oidc_settings.MAX_TOKEN_SIZE).claims().get("sub")
    except (jose.InvalidToken, AttributeError, TypeError):
        return None


def _authenticate_assertion(request: Any, load_application: Any, *, other_credentials: bool) -> bool:
    assertion = getattr(request, "client_assertion", None)
    if other_credentials:
        raise ClientAuthError("Use a single client authentication method (RFC 6749 §2.3).", request)
    if getattr(request, "client_assertion_type", None) != ASSERTION_TYPE:
        raise ClientAuthError(f"client_assertion_type must be {ASSERTION_TYPE}.", request)
    if not isinstance(assertion, str) or not assertion:
        raise ClientAuthError("client_assertion is missing.", request)
    client_id, header_alg = _parse(request, assertion)
    client = load_application(client_id, request)
    if client is None:
        raise ClientAuthError("Unknown or disabled client.", request)
    profile = profile_for(client)
    if profile.token_endpoint_auth_method not in JWT_METHODS:
        raise ClientAuthError(
            "This client is not registered for client_secret_jwt or private_key_jwt.", request
        )
    now = time.time()
    try:
        keys, algorithms = _key_source(client, profile, header_alg)
        _, claims = decode(
            assertion,
            CLIENT_ASSERTION,
            keys,
            issuer=client_id,
            audience=accepted_audiences(request),
            algorithms=algorithms,
            now=lambda: now,
        )
    except jose.InvalidToken as exc:
        raise ClientAuthError(f"Invalid client assertion: {exc}", request) from None
    except KeysUnavailable as exc:
        raise ClientAuthError(str(exc), request) from None
    _consume_jti(client_id, claims, now, request)
    request.client = client
    request.client_id = client_id
    return True


def authenticate(request: Any, validator: Any) -> bool:
    """``authenticate_client``: an assertion, or DOT's secret methods (``validator``'s) as registered."""
    if presents_assertion(request):
        other = bool(validator._extract_basic_auth(request) or getattr(request, "client_secret", None))
        return authenticate_assertion(request, validator._load_application, other_credentials=other)
    # RFC 6749 §2.3: one method per request, so a failed Basic header is not retried with body
    # parameters (which would check the secret twice and let timing tell clients apart).
    if validator._extract_basic_auth(request):
        method, check = "client_secret_basic", validator._authenticate_basic_auth
    else:
        method, check = "client_secret_post", validator._authenticate_request_body
    if check(request):
        check_secret_method(request.client, method, request)
        return True
    if request.client is None:
        client_secrets.verify_dummy()  # an unknown client_id costs what a wrong secret costs
    elif requires_assertion(request.client):
        check_secret_method(request.client, "", request)
    return False


def redirect_port_allowed(client: Any, redirect_uri: str) -> bool:
    """RFC 8252 §7.3 lets native apps (public clients) pick any loopback port; DOT applies it to
    every client, so a confidential client must match a registered port exactly."""
    if client.client_type == client.CLIENT_PUBLIC:
        return True
    port = urlsplit(redirect_uri).port
    return any(
        urlsplit(allowed).port == port and redirect_to_uri_allowed(redirect_uri, [allowed])
        for allowed in client.redirect_uris.split()
    )
