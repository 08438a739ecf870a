"""oidc_provider.views through HTTP: RP-initiated logout (id_token_hint through our profile)."""

import base64
import json

import pytest
from django.contrib.auth import SESSION_KEY

from oidc_provider import jose

from .factories import CLIENT_SECRET, ApplicationFactory, UserFactory
from .oauth import code_flow

pytestmark = pytest.mark.django_db
AFTER_LOGOUT = "https://rp.example.com/bye"


@pytest.fixture(autouse=True)
def _keys(signing_keys, settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    }
    return signing_keys


@pytest.fixture
def app(db):
    return ApplicationFactory(post_logout_redirect_uris=AFTER_LOGOUT)


@pytest.fixture
def user(db):
    return UserFactory()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def logout(client, **params):
    return client.get("/o/logout/", params)


def assert_logout_error(response):
    assert response.status_code == 400
    assert response.context["error"].error == "invalid_request"


def test_logout_with_our_id_token_as_hint_ends_the_session_and_redirects(client, app, user):
    tokens = code_flow(client, app, user)
    response = logout(
        client,
        id_token_hint=tokens["id_token"],
        client_id=app.client_id,
        post_logout_redirect_uri=AFTER_LOGOUT,
    )
    assert response.status_code == 302 and response["Location"] == AFTER_LOGOUT
    assert SESSION_KEY not in client.session


def test_logout_with_our_access_token_as_hint_is_an_error(client, app, user):
    tokens = code_flow(client, app, user)
    assert_logout_error(logout(client, id_token_hint=tokens["access_token"]))
    assert SESSION_KEY in client.session


def test_logout_with_an_hs256_header_whose_aud_names_a_client_is_an_error(client, app, user):
    now = 1_900_000_000
    claims = {
        "iss": "https://testserver/o",
        "sub": str(user.pk),
        "aud": app.client_id,
        "iat": now,
        "exp": now,
    }
    hint = jose.sign(claims, CLIENT_SECRET.encode(), "HS256", typ="JWT")
    client.force_login(user)
    assert_logout_error(logout(client, id_token_hint=hint, client_id=app.client_id))
    assert SESSION_KEY in client.session


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_logout_with_a_hint_whose_payload_is_not_a_json_object_is_an_error(client, rsa_key, payload):
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": rsa_key.kid}).encode())
    assert_logout_error(logout(client, id_token_hint=f"{header}.{b64(payload)}.c2ln"))


def test_logout_with_an_unknown_client_id_is_an_error(client, user):
    client.force_login(user)
    assert_logout_error(logout(client, client_id="nobody", post_logout_redirect_uri=AFTER_LOGOUT))


def test_logout_with_a_hint_issued_to_another_client_is_an_error(client, app, user):
    tokens = code_flow(client, app, user)
    other = ApplicationFactory(post_logout_redirect_uris=AFTER_LOGOUT)
    assert_logout_error(logout(client, id_token_hint=tokens["id_token"], client_id=other.client_id))


def test_logout_with_a_genuine_hs256_id_token_is_an_error_not_a_500(client, user):
    """An HS256 ID token is signed with its client's secret: logout accepts only our keys' hints."""
    from .factories import ClientProfileFactory

    secret = "an-unhashed-client-secret-of-40-bytes-xx"
    hs = ApplicationFactory(
        post_logout_redirect_uris=AFTER_LOGOUT, hash_client_secret=False, client_secret=secret, algorithm=""
    )
    ClientProfileFactory(application=hs, id_token_algorithm="HS256")
    hint = code_flow(client, hs, user, secret=secret)["id_token"]
    assert jose.parse(hint).header["alg"] == "HS256"
    assert_logout_error(logout(client, id_token_hint=hint, client_id=hs.client_id))
