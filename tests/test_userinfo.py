"""The userinfo endpoint (OIDC Core §5.3) answers RFC 6750 errors, never a 500."""

import pytest

from .factories import ApplicationFactory, ClientCredentialsApplicationFactory, SigningKeyFactory, UserFactory
from .oauth import client_credentials, code_flow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _key(db):
    SigningKeyFactory(algorithm="RS256")


def _bearer_error(response) -> str:
    assert response.status_code == 401, response.content
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    return challenge


def test_userinfo_with_a_client_credentials_token_is_invalid_token(client):
    app = ClientCredentialsApplicationFactory()
    token = client_credentials(client, app, scope="openid read")["access_token"]
    response = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert 'error="invalid_token"' in _bearer_error(response)


def test_userinfo_of_a_deactivated_user_is_invalid_token(client):
    user = UserFactory()
    token = code_flow(client, ApplicationFactory(), user, scope="openid profile")["access_token"]
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    user.is_active = False
    user.save()
    response = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert 'error="invalid_token"' in _bearer_error(response)
