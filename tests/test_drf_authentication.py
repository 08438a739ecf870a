"""JWTAccessTokenAuthentication in local mode: what it accepts, what it refuses and why."""

import base64
import json
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from oidc_provider import jose
from oidc_provider.keys import keyring

from .drf import AUDIENCE, bearer, challenge, claims, client_credentials_token, sign
from .factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.drf_urls")]


@pytest.fixture
def resource_server(settings):
    def update(**changes):
        current = settings.OIDC_PROVIDER.get("RESOURCE_SERVER", {})
        settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RESOURCE_SERVER": {**current, **changes}}

    return update


def b64json(value):
    return jose.b64encode(json.dumps(value).encode())


def with_header(token, **changes):
    header_b64, payload, signature = token.split(".")
    header = json.loads(jose.b64decode(header_b64))
    header.update(changes)
    return f"{b64json(header)}.{payload}.{signature}"


def assert_invalid_token(response, description=None):
    assert response.status_code == 401, response.content
    header = challenge(response)
    assert header.startswith('Bearer realm="api", error="invalid_token"'), header
    if description:
        assert f'error_description="{description}"' in header
        assert response.json()["detail"] == description


# -- accepted -------------------------------------------------------------------------------


def test_minted_client_credentials_token_needs_no_query(client, rsa_key, django_assert_num_queries):
    token = client_credentials_token(client, scope="read")
    client.get("/t/token", **bearer(token))  # warm the key ring, as any running process is
    with django_assert_num_queries(0):
        response = client.get("/t/token", **bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "read"
    assert body["sub"] == body["client_id"]


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_hand_signed_user_token_needs_no_query(client, signing_keys, alg, django_assert_num_queries):
    token = sign(alg)
    with django_assert_num_queries(0):
        response = client.get("/t/token", **bearer(token))
    assert response.json() == {"client_id": "rp-client", "scope": "openid read", "sub": "42"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_scheme_is_case_insensitive(client, rsa_key, scheme):
    response = client.get("/t/token", HTTP_AUTHORIZATION=f"{scheme} {sign()}")
    assert response.status_code == 200


def test_audience_list_and_leeway(client, rsa_key):
    token = sign(aud=["https://other.example", AUDIENCE], exp=int(time.time()) - 10)
    assert client.get("/t/token", **bearer(token)).status_code == 200


def test_configured_audience_replaces_the_default(client, rsa_key, resource_server):
    resource_server(AUDIENCE="https://orders.example.com")
    assert_invalid_token(client.get("/t/token", **bearer(sign())), "Token audience is not accepted.")
    token = sign(aud="https://orders.example.com")
    assert client.get("/t/token", **bearer(token)).status_code == 200


# -- users ------------------------------------------------------------------------------------


def test_lazy_user_loads_the_row_on_first_use(client, rsa_key, django_assert_num_queries):
    user = UserFactory(username="ada")
    token = sign(sub=str(user.pk))
    with django_assert_num_queries(1):
        response = client.get("/t/user", **bearer(token))
    assert response.json() == {"username": "ada", "type": "User", "pk": user.pk}


@pytest.mark.parametrize("state", ["inactive", "deleted", "not-a-pk"])
def test_lazy_user_that_is_gone_fails_with_401(client, rsa_key, state):
    user = UserFactory()
    sub = "not-a-pk" if state == "not-a-pk" else str(user.pk)
    if state == "inactive":
        user.is_active = False
        user.save()
    elif state == "deleted":
        user.delete()
    response = client.get("/t/user", **bearer(sign(sub=sub)))
    assert_invalid_token(response, "The token's user is unknown or inactive.")


def test_client_token_user_is_a_stateless_client(client, rsa_key, django_assert_num_queries):
    token = sign(sub="rp-client", client_id="rp-client")
    with django_assert_num_queries(0):
        response = client.get("/t/user", **bearer(token))
    assert response.json() == {"username": "rp-client", "type": "TokenUser", "pk": None}


def test_stateless_user_mode(client, rsa_key, resource_server, django_assert_num_queries):
    resource_server(USER_MODE="stateless")
    token = sign(sub="42")
    with django_assert_num_queries(0):
        response = client.get("/t/user", **bearer(token))
    assert response.json() == {"username": "42", "type": "TokenUser", "pk": "42"}


def test_demo_me_endpoint(client, rsa_key):
    user = UserFactory(username="grace")
    response = client.get("/api/me", **bearer(sign(sub=str(user.pk), scope="openid")))
    assert response.json() == {"username": "grace", "client_id": "rp-client", "scope": "openid"}


# -- refused ----------------------------------------------------------------------------------


def test_no_bearer_header_is_not_ours(client, rsa_key):
    response = client.get("/t/token", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 401
    assert challenge(response) == 'Bearer realm="api"'


def test_bad_signature(client, rsa_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = sign(key=other)
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token signature is invalid.")


def test_signature_of_another_token(client, rsa_key):
    header, payload, _ = sign(scope="read").split(".")
    forged = f"{header}.{payload}.{sign(scope='admin').split('.')[2]}"
    assert_invalid_token(client.get("/t/token", **bearer(forged)), "Token signature is invalid.")


@pytest.mark.parametrize("alg", ["RS512", "PS256", "ES256"])
def test_header_alg_changed(client, rsa_key, alg):
    token = with_header(sign(), alg=alg)
    response = client.get("/t/token", **bearer(token))
    assert_invalid_token(response, "Token algorithm is not accepted for this key.")


def test_alg_the_key_was_not_made_for(client, rsa_key):
    # PS256 signature made with the RS256 key: a valid signature, but not the key's algorithm.
    token = jose.sign(
        claims(), keyring().signing_key("RS256").private_key, "PS256", kid=rsa_key.kid, typ="at+jwt"
    )
    response = client.get("/t/token", **bearer(token))
    assert_invalid_token(response, "Token algorithm is not accepted for this key.")


@pytest.mark.parametrize("signature", ["", "c2ln"])
def test_alg_none(client, rsa_key, signature):
    header = b64json({"alg": "none", "typ": "at+jwt", "kid": rsa_key.kid})
    token = f"{header}.{b64json(claims())}.{signature}"
    assert_invalid_token(client.get("/t/token", **bearer(token)))


@pytest.mark.parametrize("material", ["pem", "jwk", "der"])
def test_hmac_signed_with_the_public_key(client, rsa_key, material):
    public = keyring().keys[rsa_key.kid].public_key
    secret = {
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "jwk": json.dumps(rsa_key.public_jwk).encode(),
    }[material]
    token = jose.sign(claims(), secret, "HS256", kid=rsa_key.kid, typ="at+jwt")
    response = client.get("/t/token", **bearer(token))
    assert_invalid_token(response, "Token algorithm is not accepted for this key.")


@pytest.mark.parametrize("typ", ["JWT", "id_token", ""])
def test_wrong_typ(client, rsa_key, typ):
    assert_invalid_token(client.get("/t/token", **bearer(sign(typ=typ))), "Token type is not accepted here.")


def test_id_token_is_not_an_access_token(client, rsa_key):
    # An ID token: typ JWT, aud the client, azp, nonce; also refused if it named the API.
    token = sign(typ="JWT", aud=AUDIENCE, nonce="n-0S6_WzA2Mj", azp="rp-client", scope=None)
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token type is not accepted here.")


def test_wrong_issuer(client, rsa_key):
    token = sign(iss="https://evil.example/o")
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token issuer is not accepted.")


def test_wrong_audience(client, rsa_key):
    token = sign(aud="https://other-api.example.com")
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token audience is not accepted.")


def test_expired_beyond_leeway(client, rsa_key):
    token = sign(exp=int(time.time()) - 31 - 5)
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token has expired.")


def test_not_yet_valid(client, rsa_key):
    token = sign(nbf=int(time.time()) + 600)
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token is not valid yet.")


def test_unknown_kid(client, rsa_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = sign(key=other, kid="not-published")
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token is signed by an unknown key.")


def test_revoked_signing_key(client, rsa_key):
    from oidc_provider import keys

    token = sign()
    keys.revoke(rsa_key)
    keys.clear_local_cache()
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token is signed by an unknown key.")


@pytest.mark.parametrize("name", ["sub", "exp", "iss", "jti"])
def test_missing_required_claim(client, rsa_key, name):
    response = client.get("/t/token", **bearer(sign(**{name: None})))
    assert_invalid_token(response, f"Token has no {name} claim.")


def test_jwe_and_crit_are_refused(client, rsa_key):
    assert_invalid_token(client.get("/t/token", **bearer("a.b.c.d.e")))
    assert_invalid_token(client.get("/t/token", **bearer(with_header(sign(), crit=["exp"]))))


def test_jku_header_is_never_followed(client, rsa_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = with_header(sign(key=other, kid="attacker"), jku="https://evil.example/jwks")
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token is signed by an unknown key.")


# -- never a 500 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer ....",
        "Bearer é.é.é",
        "Bearer \u2603.\u2603.\u2603",
        "Bearer eyJ.eyJ.e",
        "Bearer " + "A" * 100_000,
        "Bearer " + ".".join([b64json([1]), b64json({}), "AA"]),
        "Bearer " + ".".join([b64json({"alg": "RS256", "kid": 5, "typ": "at+jwt"}), b64json({}), "AA"]),
        "Bearer " + base64.b64encode(b"\xff" * 64).decode(),
    ],
)
def test_garbage_is_a_401(client, rsa_key, header):
    response = client.get("/t/token", HTTP_AUTHORIZATION=header)
    assert_invalid_token(response)


def test_huge_token_is_refused_before_parsing(client, rsa_key):
    token = sign(pad="x" * 10_000)
    assert_invalid_token(client.get("/t/token", **bearer(token)), "Token is too large.")


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=300))
def test_any_header_is_never_a_500(client, rsa_key, value):
    response = client.get("/t/token", HTTP_AUTHORIZATION=f"Bearer {value}")
    assert response.status_code == 401


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.dictionaries(
        st.sampled_from(["iss", "aud", "exp", "nbf", "iat", "sub", "jti", "scope", "client_id"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=2),
        ),
    )
)
def test_any_signed_claims_are_never_a_500(client, rsa_key, payload):
    active = keyring().signing_key("RS256")
    token = jose.sign(payload, active.private_key, "RS256", kid=active.kid, typ="at+jwt")
    response = client.get("/t/token", **bearer(token))
    assert response.status_code in (200, 401)


# -- a separate service imports no model -----------------------------------------------------


def test_remote_service_imports_no_model():
    script = """
import django, sys
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "rest_framework",
                    "oidc_provider.contrib.rest_framework"],
    DATABASES={}, SECRET_KEY="x" * 50,
    OIDC_PROVIDER={"RESOURCE_SERVER": {"MODE": "remote", "ISSUER": "https://id.example.com/o",
        "AUDIENCE": "https://api.example.com", "JWKS_URI": "https://id.example.com/o/.well-known/jwks.json",
        "REVOCATION_CHECK": "cache"}},
)
django.setup()
from django.core import checks
from oidc_provider.contrib.rest_framework import authentication, permissions, jwks, introspection
from rest_framework.test import APIRequestFactory
auth = authentication.JWTAccessTokenAuthentication()
request = APIRequestFactory().get("/", HTTP_AUTHORIZATION="Bearer a.b.c")
from rest_framework.request import Request
try:
    auth.authenticate(Request(request))
except Exception as exc:
    print(type(exc).__name__)
print([m.id for m in checks.run_checks() if m.id.startswith("oidc_provider")])
print(sorted(m for m in sys.modules if m.startswith("oidc_provider.models") or m == "oauth2_provider.models"))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd="."
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["InvalidBearerToken", "[]", "[]"]
