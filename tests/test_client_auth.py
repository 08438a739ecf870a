"""private_key_jwt and client_secret_jwt at the token, introspection and revocation endpoints."""

import base64
import hashlib
import json
import secrets
import socket
import time
import uuid
from html.parser import HTMLParser

import hypothesis
import jwt as pyjwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto import jwk

from oidc_provider import client_jwks, jose
from oidc_provider import jwk as jwk_import
from oidc_provider.client_auth import ASSERTION_TYPE
from oidc_provider.models import ClientProfile

from .conftest import basic_auth
from .factories import (
    CLIENT_SECRET,
    ApplicationFactory,
    ClientCredentialsApplicationFactory,
    ClientProfileFactory,
    IntrospectorFactory,
    UserFactory,
)
from .oauth import FakeHTTPResponse

TOKEN_URL = "https://testserver/o/token/"
ISSUER = "https://testserver/o"
JWKS_URI = "https://client.example.com/jwks.json"
LONG_SECRET = "a-client-secret-that-is-long-enough-for-hs512-" + "x" * 40


def public_jwk(private_key, kid, alg=None):
    data = jwk.JWK.from_pyca(private_key.public_key()).export_public(as_dict=True)
    data.update({"kid": kid, "use": "sig"})
    if alg:
        data["alg"] = alg
    return data


@pytest.fixture(scope="module")
def rsa_client_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_client_key():
    return ec.generate_private_key(ec.SECP256R1())


def claims_for(client_id, **overrides):
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "exp": now + 60,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def assertion(client_id, key, alg="RS256", kid="k1", **overrides):
    return jose.sign(claims_for(client_id, **overrides), key, alg, kid=kid)


@pytest.fixture
def jwt_client(db, signing_keys, rsa_client_key, ec_client_key):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=app,
        token_endpoint_auth_method="private_key_jwt",
        client_jwks={
            "keys": [
                public_jwk(rsa_client_key, "k1"),
                public_jwk(ec_client_key, "ec1", "ES256"),
            ]
        },
        introspection_allowed=True,
    )
    return app


def token_request(client, form, **extra):
    return client.post("/o/token/", {"grant_type": "client_credentials", **form}, **extra)


def with_assertion(value, **form):
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": value, **form}


def assert_invalid_client(response, fragment):
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"] == "invalid_client"
    assert fragment in body.get("error_description", ""), body


# -- happy paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "kid", "key_name"), [("RS256", "k1", "rsa"), ("PS256", "k1", "rsa"), ("ES256", "ec1", "ec")]
)
def test_client_credentials_with_private_key_jwt(
    client, jwt_client, rsa_client_key, ec_client_key, alg, kid, key_name
):
    key = rsa_client_key if key_name == "rsa" else ec_client_key
    response = token_request(client, with_assertion(assertion(jwt_client.client_id, key, alg, kid)))
    assert response.status_code == 200, response.content
    access = pyjwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert access["client_id"] == jwt_client.client_id


def test_client_keys_are_imported_once(client, jwt_client, rsa_client_key):
    response = token_request(client, with_assertion(assertion(jwt_client.client_id, rsa_client_key)))
    assert response.status_code == 200, response.content
    before = jwk_import._key_object.cache_info()
    for _ in range(2):
        response = token_request(client, with_assertion(assertion(jwt_client.client_id, rsa_client_key)))
        assert response.status_code == 200, response.content
    info = jwk_import._key_object.cache_info()
    assert (info.misses - before.misses, info.hits - before.hits) == (0, 2)


def test_client_key_members_beyond_the_public_key_are_ignored(rsa_client_key):
    deep = []
    for _ in range(10_000):
        deep = [deep]  # json.dumps of this raises RecursionError
    member = public_jwk(rsa_client_key, "k1")
    found = client_jwks.load_key({**member, "x5c": ["junk"], "extra": deep}, "RS256")
    assert found is not None and found[1] == "RS256"
    assert client_jwks.load_key({**member, "n": deep}, "RS256") is None
    assert client_jwks.load_key({**member, "e": 65537}, "RS256") is None


def test_client_id_in_body_must_match(client, jwt_client, rsa_client_key):
    ok = assertion(jwt_client.client_id, rsa_client_key)
    assert token_request(client, with_assertion(ok, client_id=jwt_client.client_id)).status_code == 200
    other = assertion(jwt_client.client_id, rsa_client_key)
    response = token_request(client, with_assertion(other, client_id="someone-else"))
    assert_invalid_client(response, "sub does not match client_id")


def test_assertion_built_with_pyjwt_and_issuer_audience(client, jwt_client, rsa_client_key):
    value = pyjwt.encode(
        claims_for(jwt_client.client_id, aud=ISSUER), rsa_client_key, "RS256", headers={"kid": "k1"}
    )
    assert token_request(client, with_assertion(value)).status_code == 200


def test_single_key_without_kid(client, db, signing_keys, ec_client_key):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=app,
        token_endpoint_auth_method="private_key_jwt",
        client_jwks={"keys": [public_jwk(ec_client_key, "only")]},
    )
    value = assertion(app.client_id, ec_client_key, "ES256", kid=None)
    assert token_request(client, with_assertion(value)).status_code == 200


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_authorization_code_exchange_with_private_key_jwt(client, db, signing_keys, rsa_client_key):
    app = ApplicationFactory()
    ClientProfileFactory(
        application=app,
        token_endpoint_auth_method="private_key_jwt",
        client_jwks={"keys": [public_jwk(rsa_client_key, "k1", "RS256")]},
    )
    client.force_login(UserFactory())
    verifier, challenge = pkce_pair()
    response = client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": "https://rp.example.com/callback",
            "scope": "read",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302, response.content
    code = response["Location"].split("code=")[1].split("&")[0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://rp.example.com/callback",
        "code_verifier": verifier,
    }
    # Without an assertion, the JWT client cannot get its code exchanged.
    refused = client.post("/o/token/", {**form, "client_id": app.client_id})
    assert_invalid_client(refused, "private_key_jwt")
    response = client.post("/o/token/", with_assertion(assertion(app.client_id, rsa_client_key), **form))
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read"


def issue_token(client, app, key):
    response = token_request(client, with_assertion(assertion(app.client_id, key)))
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_introspection_and_revocation_with_assertions(client, jwt_client, rsa_client_key):
    token = issue_token(client, jwt_client, rsa_client_key)
    url = "https://testserver/o/introspect/"
    response = client.post(
        "/o/introspect/",
        with_assertion(assertion(jwt_client.client_id, rsa_client_key, aud=url), token=token),
    )
    assert response.status_code == 200, response.content
    assert response.json()["active"] is True

    url = "https://testserver/o/revoke_token/"
    response = client.post(
        "/o/revoke_token/",
        with_assertion(assertion(jwt_client.client_id, rsa_client_key, aud=url), token=token),
    )
    assert response.status_code == 200, response.content

    response = client.post(
        "/o/introspect/", with_assertion(assertion(jwt_client.client_id, rsa_client_key), token=token)
    )
    assert response.json() == {"active": False}


def test_introspection_rejects_bad_assertion_with_401(client, jwt_client, rsa_client_key):
    token = issue_token(client, jwt_client, rsa_client_key)
    bad = assertion(jwt_client.client_id, rsa_client_key, aud="https://elsewhere.example.com")
    response = client.post("/o/introspect/", with_assertion(bad, token=token))
    assert_invalid_client(response, "audience")


def test_revocation_rejects_bad_assertion(client, jwt_client, rsa_client_key):
    token = issue_token(client, jwt_client, rsa_client_key)
    bad = assertion(jwt_client.client_id, rsa_client_key, exp=int(time.time()) - 3600)
    response = client.post("/o/revoke_token/", with_assertion(bad, token=token))
    assert_invalid_client(response, "expired")


def test_introspection_audience_not_accepted_at_token_endpoint(client, jwt_client, rsa_client_key):
    value = assertion(jwt_client.client_id, rsa_client_key, aud="https://testserver/o/introspect/")
    assert_invalid_client(token_request(client, with_assertion(value)), "audience")


# -- rejections ----------------------------------------------------------------------------


def test_wrong_audience(client, jwt_client, rsa_client_key):
    value = assertion(jwt_client.client_id, rsa_client_key, aud="https://other.example.com/token")
    assert_invalid_client(token_request(client, with_assertion(value)), "audience")


def test_expired(client, jwt_client, rsa_client_key):
    now = int(time.time())
    value = assertion(jwt_client.client_id, rsa_client_key, exp=now - 600, iat=now - 700)
    assert_invalid_client(token_request(client, with_assertion(value)), "expired")


def test_exp_too_far_ahead(client, jwt_client, rsa_client_key):
    value = assertion(jwt_client.client_id, rsa_client_key, exp=int(time.time()) + 3600)
    assert_invalid_client(token_request(client, with_assertion(value)), "seconds ahead")


def test_missing_exp(client, jwt_client, rsa_client_key):
    value = jose.sign({**claims_for(jwt_client.client_id), "exp": None}, rsa_client_key, "RS256", kid="k1")
    assert_invalid_client(token_request(client, with_assertion(value)), "exp")


def test_issued_in_the_future(client, jwt_client, rsa_client_key):
    value = assertion(jwt_client.client_id, rsa_client_key, iat=int(time.time()) + 600)
    assert_invalid_client(token_request(client, with_assertion(value)), "future")


def test_not_yet_valid(client, jwt_client, rsa_client_key):
    value = assertion(jwt_client.client_id, rsa_client_key, nbf=int(time.time()) + 600)
    assert_invalid_client(token_request(client, with_assertion(value)), "not valid yet")


def test_replayed_jti(client, jwt_client, rsa_client_key):
    value = assertion(jwt_client.client_id, rsa_client_key)
    assert token_request(client, with_assertion(value)).status_code == 200
    assert_invalid_client(token_request(client, with_assertion(value)), "already been used")


def test_same_jti_from_two_clients_is_not_a_replay(client, db, signing_keys, rsa_client_key):
    apps = []
    for _ in range(2):
        app = ClientCredentialsApplicationFactory()
        ClientProfileFactory(
            application=app,
            token_endpoint_auth_method="private_key_jwt",
            client_jwks={"keys": [public_jwk(rsa_client_key, "k1")]},
        )
        apps.append(app)
    for app in apps:
        value = assertion(app.client_id, rsa_client_key, jti="shared-jti")
        assert token_request(client, with_assertion(value)).status_code == 200


def test_missing_jti(client, jwt_client, rsa_client_key):
    value = assertion(jwt_client.client_id, rsa_client_key, jti=None)
    assert_invalid_client(token_request(client, with_assertion(value)), "jti")


@pytest.mark.parametrize(
    ("iss", "sub", "fragment"),
    [("someone-else", None, "iss and sub"), (None, "someone-else", "iss and sub"), ("x", "x", "Unknown")],
)
def test_wrong_iss_or_sub(client, jwt_client, rsa_client_key, iss, sub, fragment):
    value = assertion(
        jwt_client.client_id, rsa_client_key, iss=iss or jwt_client.client_id, sub=sub or jwt_client.client_id
    )
    assert_invalid_client(token_request(client, with_assertion(value)), fragment)


def test_alg_none(client, jwt_client):
    header = jose.b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = jose.b64encode(json.dumps(claims_for(jwt_client.client_id)).encode())
    for value in (f"{header}.{payload}.", f"{header}.{payload}.{jose.b64encode(b'x')}"):
        response = token_request(client, with_assertion(value))
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"


def test_hs256_signed_with_the_clients_public_key(client, jwt_client, rsa_client_key):
    """Key confusion (RFC 8725 §2.1): the public key as an HMAC secret must not verify."""
    from cryptography.hazmat.primitives import serialization

    pem = rsa_client_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (pem, json.dumps(public_jwk(rsa_client_key, "k1")).encode()):
        value = jose.sign(claims_for(jwt_client.client_id), secret, "HS256", kid="k1")
        assert_invalid_client(token_request(client, with_assertion(value)), "private key")


def test_signed_by_another_key(client, jwt_client):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    value = assertion(jwt_client.client_id, stranger)
    assert_invalid_client(token_request(client, with_assertion(value)), "signature")


def test_unknown_kid(client, jwt_client, rsa_client_key):
    value = assertion(jwt_client.client_id, rsa_client_key, kid="nope")
    assert_invalid_client(token_request(client, with_assertion(value)), "unknown key")


def test_alg_not_made_for_the_key(client, jwt_client, ec_client_key):
    # ec1 is declared ES256; an ES384 header must not be accepted for it.
    value = assertion(jwt_client.client_id, ec_client_key, "ES256", kid="ec1")
    rest = value.split(".", 1)[1]
    forged = jose.b64encode(json.dumps({"alg": "ES384", "kid": "ec1"}).encode()) + "." + rest
    assert_invalid_client(token_request(client, with_assertion(forged)), "Invalid client assertion")


@pytest.mark.parametrize(
    "value",
    ["garbage", "a.b.c", "x" * 100_000, "eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24.c2ln", "", "ä.ö.ü"],
)
def test_garbage_assertions_are_invalid_client(client, jwt_client, value):
    response = token_request(client, with_assertion(value, client_id=jwt_client.client_id))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_wrong_assertion_type(client, jwt_client, rsa_client_key):
    form = with_assertion(assertion(jwt_client.client_id, rsa_client_key))
    form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    assert_invalid_client(token_request(client, form), "client_assertion_type")


def test_secret_fallback_for_a_jwt_client(client, jwt_client):
    jwt_client.client_secret = CLIENT_SECRET
    response = token_request(client, {}, HTTP_AUTHORIZATION=basic_auth(jwt_client.client_id))
    assert_invalid_client(response, "private_key_jwt")
    response = token_request(client, {"client_id": jwt_client.client_id, "client_secret": CLIENT_SECRET})
    assert_invalid_client(response, "private_key_jwt")


def test_secret_client_cannot_send_an_assertion(client, db, signing_keys, rsa_client_key):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(application=app, client_jwks={"keys": [public_jwk(rsa_client_key, "k1")]})
    assert token_request(client, {}, HTTP_AUTHORIZATION=basic_auth(app.client_id)).status_code == 200
    response = token_request(client, with_assertion(assertion(app.client_id, rsa_client_key)))
    assert_invalid_client(response, "not registered")


def test_assertion_plus_secret_is_refused(client, jwt_client, rsa_client_key):
    form = with_assertion(assertion(jwt_client.client_id, rsa_client_key))
    response = token_request(client, form, HTTP_AUTHORIZATION=basic_auth(jwt_client.client_id))
    assert_invalid_client(response, "single client authentication method")


def test_basic_only_client_cannot_use_post(client, db, signing_keys):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(application=app, token_endpoint_auth_method="client_secret_basic")
    response = token_request(client, {"client_id": app.client_id, "client_secret": CLIENT_SECRET})
    assert_invalid_client(response, "client_secret_basic")
    assert token_request(client, {}, HTTP_AUTHORIZATION=basic_auth(app.client_id)).status_code == 200


# -- client_secret_jwt ---------------------------------------------------------------------


@pytest.fixture
def secret_jwt_client(db, signing_keys):
    app = ClientCredentialsApplicationFactory(client_secret=LONG_SECRET, hash_client_secret=False)
    ClientProfileFactory(application=app, token_endpoint_auth_method="client_secret_jwt")
    return app


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_client_secret_jwt(client, secret_jwt_client, alg):
    value = assertion(secret_jwt_client.client_id, LONG_SECRET.encode(), alg, kid=None)
    assert token_request(client, with_assertion(value)).status_code == 200


def test_client_secret_jwt_wrong_secret_and_asymmetric_alg(client, secret_jwt_client, rsa_client_key):
    value = assertion(secret_jwt_client.client_id, b"w" * 64, "HS256", kid=None)
    assert_invalid_client(token_request(client, with_assertion(value)), "signature")
    value = assertion(secret_jwt_client.client_id, rsa_client_key, "RS256")
    assert_invalid_client(token_request(client, with_assertion(value)), "HS256")


def test_client_secret_jwt_cannot_use_the_secret_directly(client, secret_jwt_client):
    response = token_request(
        client, {}, HTTP_AUTHORIZATION=basic_auth(secret_jwt_client.client_id, LONG_SECRET)
    )
    assert_invalid_client(response, "client_secret_jwt")


def test_client_secret_jwt_with_hashed_secret_is_refused(client, db, signing_keys):
    app = ClientCredentialsApplicationFactory(client_secret=LONG_SECRET)  # hashed by DOT
    ClientProfileFactory(application=app, token_endpoint_auth_method="client_secret_jwt")
    value = assertion(app.client_id, LONG_SECRET.encode(), "HS256", kid=None)
    assert_invalid_client(token_request(client, with_assertion(value)), "stored hashed")


def test_client_secret_jwt_short_secret(client, db, signing_keys):
    app = ClientCredentialsApplicationFactory(client_secret="short-secret", hash_client_secret=False)
    ClientProfileFactory(application=app, token_endpoint_auth_method="client_secret_jwt")
    value = assertion(app.client_id, b"short-secret", "HS256", kid=None)
    assert_invalid_client(token_request(client, with_assertion(value)), "too short")


# -- jwks_uri ------------------------------------------------------------------------------


@pytest.fixture
def remote(monkeypatch, settings):
    """A mocked jwks_uri: set .jwks (dict, bytes or an exception); .calls counts fetches."""

    class Remote:
        calls = 0
        jwks = None
        status = 200

    def fake_get(session, url, **kwargs):
        assert url == JWKS_URI
        assert kwargs["timeout"] == 5 and kwargs["allow_redirects"] is False
        Remote.calls += 1
        if isinstance(Remote.jwks, Exception):
            raise Remote.jwks
        body = Remote.jwks if isinstance(Remote.jwks, bytes) else json.dumps(Remote.jwks).encode()
        return FakeHTTPResponse(Remote.status, body)

    # The fake stands in for DNS too: client.example.com resolves nowhere here.
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "FETCH_ALLOWED_HOSTS": ["client.example.com"]}
    monkeypatch.setattr(requests.Session, "get", fake_get)
    return Remote


@pytest.fixture
def uri_client(db, signing_keys):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=app, token_endpoint_auth_method="private_key_jwt", client_jwks_uri=JWKS_URI
    )
    return app


def test_jwks_uri_is_fetched_once_and_cached(client, uri_client, remote, rsa_client_key):
    remote.jwks = {"keys": [public_jwk(rsa_client_key, "k1")]}
    for _ in range(3):
        assert (
            token_request(client, with_assertion(assertion(uri_client.client_id, rsa_client_key))).status_code
            == 200
        )
    assert remote.calls == 1


def test_unknown_kid_refetches_at_most_once_per_interval(
    client, uri_client, remote, rsa_client_key, settings
):
    remote.jwks = {"keys": [public_jwk(rsa_client_key, "k1")]}
    assert (
        token_request(client, with_assertion(assertion(uri_client.client_id, rsa_client_key))).status_code
        == 200
    )
    # The client rotates to k2; our cached set does not know it yet.
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    remote.jwks = {"keys": [public_jwk(new_key, "k2")]}
    client_jwks.shared_cache.delete(client_jwks._cache_key(JWKS_URI) + ":throttle")
    value = assertion(uri_client.client_id, new_key, kid="k2")
    assert token_request(client, with_assertion(value)).status_code == 200
    assert remote.calls == 2
    # Unknown kids inside the interval do not reach the client's server again.
    for _ in range(3):
        value = assertion(uri_client.client_id, new_key, kid="unknown")
        assert_invalid_client(token_request(client, with_assertion(value)), "unknown key")
    assert remote.calls == 2


def test_jwks_uri_clients_keep_authenticating_while_the_shared_cache_is_down(
    client, uri_client, remote, rsa_client_key, settings
):
    remote.jwks = {"keys": [public_jwk(rsa_client_key, "k1")]}
    value = assertion(uri_client.client_id, rsa_client_key)
    assert token_request(client, with_assertion(value)).status_code == 200
    with socket.socket() as unused:  # a port nothing listens on: every cache call fails fast
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    for _ in range(3):  # beyond the refetch throttle: the process's copy of the set is used
        value = assertion(uri_client.client_id, rsa_client_key)
        assert token_request(client, with_assertion(value)).status_code == 200
    assert remote.calls == 1


def test_a_process_copy_of_a_jwks_expires_with_the_shared_one(client, uri_client, remote, rsa_client_key):
    remote.jwks = {"keys": [public_jwk(rsa_client_key, "k1")]}
    assert (
        token_request(client, with_assertion(assertion(uri_client.client_id, rsa_client_key))).status_code
        == 200
    )
    key = client_jwks._cache_key(JWKS_URI)
    for stale in (key, key + ":throttle"):  # the shared copy has expired ...
        client_jwks.shared_cache.delete(stale)
    client_jwks._local[key] = (0.0, client_jwks._local[key][1])  # ... and so has this process's
    assert (
        token_request(client, with_assertion(assertion(uri_client.client_id, rsa_client_key))).status_code
        == 200
    )
    assert remote.calls == 2


@pytest.mark.parametrize(
    ("jwks", "status"),
    [
        (requests.ConnectionError("down"), 200),
        (requests.Timeout("slow"), 200),
        (b"<html>not json</html>", 200),
        (b'{"keys": "nope"}', 200),
        (b"[1, 2]", 200),
        (b'{"keys": []}', 500),
        (b"x" * (client_jwks.MAX_JWKS_BYTES + 10), 200),
        (b'{"keys": [{"kty": "RSA", "kid": "k1", "n": "!!", "e": "AQAB"}, 7, "x"]}', 200),
    ],
)
def test_jwks_uri_failures_are_invalid_client(client, uri_client, remote, rsa_client_key, jwks, status):
    remote.jwks, remote.status = jwks, status
    response = token_request(client, with_assertion(assertion(uri_client.client_id, rsa_client_key)))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    # A broken jwks_uri is not hammered: the next request inside the interval does not fetch.
    token_request(client, with_assertion(assertion(uri_client.client_id, rsa_client_key)))
    assert remote.calls == 1


def test_http_jwks_uri_is_refused_outside_debug(client, db, signing_keys, remote, rsa_client_key):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=app,
        token_endpoint_auth_method="private_key_jwt",
        client_jwks_uri="http://client.example.com/j",
    )
    response = token_request(client, with_assertion(assertion(app.client_id, rsa_client_key)))
    assert_invalid_client(response, "Could not fetch the client's keys.")  # not what went wrong
    assert remote.calls == 0


def test_weak_rsa_client_key_is_ignored(client, db, signing_keys):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=app,
        token_endpoint_auth_method="private_key_jwt",
        client_jwks={"keys": [public_jwk(weak, "k1")]},
    )
    assert_invalid_client(
        token_request(client, with_assertion(assertion(app.client_id, weak))), "unknown key"
    )


# -- discovery -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/o/.well-known/openid-configuration", "/o/.well-known/oauth-authorization-server"]
)
def test_discovery_advertises_jwt_methods(client, signing_keys, path):
    data = client.get(path).json()
    assert {"private_key_jwt", "client_secret_jwt", "client_secret_basic"} <= set(
        data["token_endpoint_auth_methods_supported"]
    )
    algs = data["token_endpoint_auth_signing_alg_values_supported"]
    assert {"RS256", "PS256", "ES256", "HS256"} <= set(algs)
    assert "none" not in algs


# -- admin ---------------------------------------------------------------------------------


class FormFields(HTMLParser):
    """The values a browser would submit for the admin change form."""

    def __init__(self):
        super().__init__()
        self.data, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            elif a.get("type") != "submit":
                self.data[name] = a.get("value", "")
        elif tag == "textarea" and name and "__prefix__" not in name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name and "__prefix__" not in name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data.lstrip("\n") if not self.data[self._textarea] else data


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def admin_post(admin_client, app, **changes):
    """GET the Application change page, change some fields, POST it back."""
    url = f"/admin/oauth2_provider/application/{app.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.content.decode())
    data = parser.data
    assert "oidc_profile-TOTAL_FORMS" in data  # the inline prefix
    # DOT's Application.clean() insists on OIDC_RSA_PRIVATE_KEY for RS256; ID tokens are
    # signed by our database keys (ClientProfile.id_token_algorithm), so DOT's field stays empty.
    data["algorithm"] = ""
    for name, value in changes.items():
        name = name.replace("profile__", "oidc_profile-0-")
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return admin_client.post(url, data)


def form_errors(response):
    assert response.status_code == 200, "the form was saved"
    return " ".join(str(e) for e in response.context["inline_admin_formsets"][0].formset.errors) + str(
        response.context["adminform"].form.errors
    )


def test_admin_rejects_a_private_jwk(admin_client, rsa_client_key):
    app = ClientCredentialsApplicationFactory()
    private = jwk.JWK.from_pyca(rsa_client_key).export_private(as_dict=True)
    response = admin_post(
        admin_client,
        app,
        profile__token_endpoint_auth_method="private_key_jwt",
        profile__client_jwks=json.dumps({"keys": [private]}),
    )
    assert "private or symmetric key material" in form_errors(response)
    assert not ClientProfile.objects.filter(application=app, client_jwks__isnull=False).exists()


def test_admin_saves_public_jwks_and_the_client_can_authenticate(admin_client, signing_keys, rsa_client_key):
    app = ClientCredentialsApplicationFactory()
    response = admin_post(
        admin_client,
        app,
        profile__token_endpoint_auth_method="private_key_jwt",
        profile__client_jwks=json.dumps({"keys": [public_jwk(rsa_client_key, "k1")]}),
    )
    assert response.status_code == 302
    admin_client.logout()
    response = token_request(admin_client, with_assertion(assertion(app.client_id, rsa_client_key)))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("uri", "debug", "ok"),
    [
        ("https://client.example.com/jwks", False, True),
        ("http://client.example.com/jwks", False, False),
        ("http://127.0.0.1:9000/jwks", True, True),
    ],
)
def test_admin_jwks_uri_must_be_https(admin_client, settings, uri, debug, ok):
    settings.DEBUG = debug
    app = ClientCredentialsApplicationFactory()
    response = admin_post(
        admin_client, app, profile__token_endpoint_auth_method="private_key_jwt", profile__client_jwks_uri=uri
    )
    if ok:
        assert response.status_code == 302
        assert ClientProfile.objects.get(application=app).client_jwks_uri == uri
    else:
        assert "must use https" in form_errors(response)


def test_admin_rejects_both_jwks_and_jwks_uri(admin_client, rsa_client_key):
    app = ClientCredentialsApplicationFactory()
    response = admin_post(
        admin_client,
        app,
        profile__token_endpoint_auth_method="private_key_jwt",
        profile__client_jwks=json.dumps({"keys": [public_jwk(rsa_client_key, "k1")]}),
        profile__client_jwks_uri=JWKS_URI,
    )
    assert "not both" in form_errors(response)


def test_admin_client_secret_jwt_needs_an_unhashed_secret(admin_client, signing_keys):
    app = ClientCredentialsApplicationFactory()  # DOT hashes its secret
    response = admin_post(admin_client, app, profile__token_endpoint_auth_method="client_secret_jwt")
    assert "stored unhashed" in form_errors(response)
    # Unticking "hash" alone does not help: the stored value is already a hash.
    response = admin_post(
        admin_client, app, profile__token_endpoint_auth_method="client_secret_jwt", hash_client_secret=None
    )
    assert "stored unhashed" in form_errors(response)
    response = admin_post(
        admin_client,
        app,
        profile__token_endpoint_auth_method="client_secret_jwt",
        hash_client_secret=None,
        client_secret="short",
    )
    assert "at least 32 bytes" in form_errors(response)
    response = admin_post(
        admin_client,
        app,
        profile__token_endpoint_auth_method="client_secret_jwt",
        hash_client_secret=None,
        client_secret=LONG_SECRET,
    )
    assert response.status_code == 302
    admin_client.logout()
    value = assertion(app.client_id, LONG_SECRET.encode(), "HS256", kid=None)
    assert token_request(admin_client, with_assertion(value)).status_code == 200


# -- shared cache --------------------------------------------------------------------------


def redis_available():
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["locmem", "redis"])
def test_jti_is_single_use_under_concurrency(settings, backend):
    """Racing threads presenting one assertion: exactly one wins, decided by the database
    (the Redis fast path refuses most replays without a query). Processes: test_multiprocess.py."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    from oidc_provider.client_auth import ClientAuthError, _consume_jti

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (make test runs it against PostgreSQL)")
    if backend == "redis":
        if not redis_available():
            pytest.skip("needs Redis on 127.0.0.1:6379")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/15",
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            }
        }
    claims = {"jti": uuid.uuid4().hex, "exp": time.time() + 60}

    def attempt(_):
        try:
            _consume_jti("client-x", claims, time.time(), None)
        except ClientAuthError:
            return False
        finally:
            connections.close_all()
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(32)))
    assert results.count(True) == 1


def test_secret_client_still_introspects_with_basic_auth(client, db, signing_keys, rsa_client_key):
    app = IntrospectorFactory()
    token = token_request(client, {}, HTTP_AUTHORIZATION=basic_auth(app.client_id)).json()["access_token"]
    response = client.post("/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=basic_auth(app.client_id))
    assert response.status_code == 200
    assert response.json()["active"] is True


def test_accepted_audiences(settings):
    from types import SimpleNamespace

    from oidc_provider.client_auth import accepted_audiences

    at_token = accepted_audiences(SimpleNamespace(uri="/o/token/"))
    assert {ISSUER, TOKEN_URL, TOKEN_URL.rstrip("/")} == at_token
    at_revoke = accepted_audiences(SimpleNamespace(uri="/o/revoke_token/?x=1"))
    assert at_revoke == at_token | {"https://testserver/o/revoke_token/", "https://testserver/o/revoke_token"}
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": ""}
    assert accepted_audiences(SimpleNamespace(uri="/o/token/")) == set()


@hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    junk=hypothesis.strategies.one_of(
        hypothesis.strategies.text(max_size=300),
        hypothesis.strategies.lists(
            hypothesis.strategies.text(
                alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40
            ),
            min_size=1,
            max_size=6,
        ).map(".".join),
    )
)
def test_fuzzed_assertions_are_invalid_client_never_500(client, jwt_client, junk):
    response = token_request(client, with_assertion(junk, client_id=jwt_client.client_id))
    assert response.status_code in (400, 401), response.content
    assert "access_token" not in response.json()
