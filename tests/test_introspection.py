"""Who may introspect (RFC 7662 §2.1) and how refusals look (§2.3, RFC 6749 §5.2)."""

import pytest
from oauth2_provider.models import get_application_model

from .factories import (
    ClientCredentialsApplicationFactory,
    ClientProfileFactory,
    PublicApplicationFactory,
    SigningKeyFactory,
)
from .oauth import basic, client_credentials

pytestmark = pytest.mark.django_db
URL = "/o/introspect/"


@pytest.fixture(autouse=True)
def _key(db):
    SigningKeyFactory(algorithm="RS256")


@pytest.fixture
def token(client):
    return client_credentials(client, ClientCredentialsApplicationFactory())["access_token"]


def introspector(**kwargs):
    app = ClientCredentialsApplicationFactory(**kwargs)
    ClientProfileFactory(application=app, introspection_allowed=True)
    return app


def _refused(response, scheme: str, error: str = "invalid_client"):
    assert response.status_code == 401, (response.status_code, response.content)
    assert response["WWW-Authenticate"].startswith(scheme), response["WWW-Authenticate"]
    assert response["Cache-Control"] == "no-store"
    if scheme == "Bearer":
        assert f'error="{error}"' in response["WWW-Authenticate"]
    else:
        assert response.json()["error"] == error


def test_an_allowed_confidential_client_introspects(client, token):
    response = client.post(URL, {"token": token}, **basic(introspector().client_id))
    assert response.status_code == 200 and response.json()["active"] is True
    assert response["Cache-Control"] == "no-store"


def test_missing_client_authentication_is_401_with_a_challenge(client, token):
    response = client.post(URL, {"token": token})
    assert response.status_code == 401
    assert "Basic" in response["WWW-Authenticate"] and "Bearer" in response["WWW-Authenticate"]
    assert response["Cache-Control"] == "no-store"


def test_wrong_basic_secret_is_401_with_a_basic_challenge(client, token):
    _refused(client.post(URL, {"token": token}, **basic(introspector().client_id, "wrong")), "Basic")


def test_wrong_body_secret_is_401(client, token):
    app = introspector()
    response = client.post(URL, {"token": token, "client_id": app.client_id, "client_secret": "wrong"})
    _refused(response, "Basic")


def test_a_client_not_allowed_to_introspect_is_401(client, token):
    app = ClientCredentialsApplicationFactory()  # authenticates fine, but has no privilege
    _refused(client.post(URL, {"token": token}, **basic(app.client_id)), "Basic")


def test_a_public_client_never_introspects_even_with_the_hash_of_the_empty_secret(client, token):
    app = PublicApplicationFactory(client_secret="")
    ClientProfileFactory(application=app, introspection_allowed=True)
    stored = get_application_model().objects.get(pk=app.pk).client_secret
    assert stored  # the hash of "": DOT's client_secret_post check accepts an empty secret
    _refused(client.post(URL, {"token": token, "client_id": app.client_id, "client_secret": ""}), "Basic")
    _refused(client.post(URL, {"token": token}, **basic(app.client_id, "")), "Basic")


def test_a_bearer_token_without_the_introspection_scope_is_401(client, token):
    caller = client_credentials(client, introspector(), scope="read")["access_token"]
    response = client.post(URL, {"token": token}, HTTP_AUTHORIZATION=f"Bearer {caller}")
    _refused(response, "Bearer", "insufficient_scope")


def test_an_invalid_bearer_token_is_401(client, token):
    response = client.post(URL, {"token": token}, HTTP_AUTHORIZATION="Bearer nonsense")
    _refused(response, "Bearer", "invalid_token")


def test_a_bearer_token_of_an_allowed_client_with_the_scope_introspects(client, token):
    caller = client_credentials(client, introspector(), scope="introspection")["access_token"]
    response = client.post(URL, {"token": token}, HTTP_AUTHORIZATION=f"Bearer {caller}")
    assert response.status_code == 200 and response.json()["active"] is True


def test_a_bearer_token_with_the_scope_from_a_client_not_allowed_is_401(client, token):
    app = ClientCredentialsApplicationFactory()
    caller = client_credentials(client, app, scope="introspection")["access_token"]
    response = client.post(URL, {"token": token}, HTTP_AUTHORIZATION=f"Bearer {caller}")
    _refused(response, "Bearer", "insufficient_scope")


@pytest.mark.parametrize(
    "url,data", [("/o/token/", {"grant_type": "client_credentials"}), ("/o/revoke_token/", {"token": "x"})]
)
def test_token_and_revocation_endpoints_answer_a_failed_basic_login_with_a_basic_challenge(client, url, data):
    app = ClientCredentialsApplicationFactory()
    response = client.post(url, data, **basic(app.client_id, "bad"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic ")
