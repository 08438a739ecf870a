"""Stateless client_credentials access tokens: issue, API call, introspect, revoke, with no row."""

import pytest
from oauth2_provider.models import get_access_token_model
from oauth2_provider.signals import app_authorized

from oidc_provider.models import ClientProfile

from .conftest import basic_auth
from .drf import bearer
from .factories import ClientCredentialsApplicationFactory, ClientProfileFactory, IntrospectorFactory
from .oauth import client_credentials

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.drf_urls")]
AccessToken = get_access_token_model()


@pytest.fixture
def machine(rsa_key):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(application=app, store_access_tokens=False)
    return app


@pytest.fixture
def revocation_checked(settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RESOURCE_SERVER": {"REVOCATION_CHECK": "database"}}


@pytest.fixture
def resource_server(db):
    return IntrospectorFactory()


def introspect(client, token, app):
    response = client.post("/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=basic_auth(app.client_id))
    assert response.status_code == 200
    return response.json()


def revoke(client, token, app):
    response = client.post("/o/revoke_token/", {"token": token}, HTTP_AUTHORIZATION=basic_auth(app.client_id))
    assert response.status_code == 200


def test_issue_call_introspect_revoke_without_a_row(client, machine, resource_server, revocation_checked):
    token = client_credentials(client, machine)["access_token"]
    assert not AccessToken.objects.exists()
    assert client.get("/t/token", **bearer(token)).status_code == 200
    data = introspect(client, token, resource_server)
    assert data["active"] is True and data["client_id"] == machine.client_id and data["scope"] == "read"
    assert {"iss", "sub", "aud", "exp", "iat", "jti"} <= set(data)
    revoke(client, token, machine)
    assert introspect(client, token, resource_server) == {"active": False}
    assert client.get("/t/token", **bearer(token)).status_code == 401


def test_issuing_needs_no_query_once_the_client_is_known(client, machine, django_assert_num_queries):
    client_credentials(client, machine)  # the client's row and profile are now in this process
    with django_assert_num_queries(0):
        client_credentials(client, machine)


def test_app_authorized_gets_the_unsaved_token(client, machine):
    received = []

    def receiver(sender, request, token, **kwargs):
        received.append(token)

    app_authorized.connect(receiver)
    try:
        token = client_credentials(client, machine)["access_token"]
    finally:
        app_authorized.disconnect(receiver)
    assert received[0].pk is None and received[0].token == token and received[0].application == machine


def test_stored_tokens_by_default_and_for_other_formats(client, rsa_key):
    app = ClientCredentialsApplicationFactory()
    client_credentials(client, app)
    opaque = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=opaque, store_access_tokens=False, access_token_format=ClientProfile.TokenFormat.OPAQUE
    )
    client_credentials(client, opaque)
    assert AccessToken.objects.count() == 2


def test_another_client_cannot_revoke_it(client, machine, resource_server):
    token = client_credentials(client, machine)["access_token"]
    revoke(client, token, resource_server)
    assert introspect(client, token, resource_server)["active"] is True


def test_inactive_once_the_client_is_deleted_or_stores_tokens_again(client, machine, resource_server):
    token = client_credentials(client, machine)["access_token"]
    observer = resource_server
    profile = ClientProfile.objects.get(application=machine)
    profile.store_access_tokens = True
    profile.save()
    assert introspect(client, token, observer) == {"active": False}  # a stored token needs its row
    machine.delete()
    assert introspect(client, token, observer) == {"active": False}


def test_admin_offers_the_setting(admin_client, machine):
    body = admin_client.get(f"/admin/oauth2_provider/application/{machine.pk}/change/").content.decode()
    assert "store_access_tokens" in body and "admin lists no tokens" in body
