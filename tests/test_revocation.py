"""Hybrid mode: revoked JWT access tokens are refused without a query or HTTP call per request."""

from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from oauth2_provider.models import get_access_token_model

from oidc_provider.contrib.rest_framework import jwks
from oidc_provider.revocation import MARKER_PREFIX, access_token_deleted, is_marked, is_revoked

from .conftest import basic_auth
from .drf import bearer, challenge, client_credentials_token, sign
from .factories import ClientCredentialsApplicationFactory, IntrospectorFactory
from .oauth import FakeHTTPResponse

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.drf_urls")]


@pytest.fixture
def resource_server(settings):
    def update(**changes):
        settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RESOURCE_SERVER": changes}

    return update


def revoke(client, app, token):
    response = client.post("/o/revoke_token/", {"token": token}, HTTP_AUTHORIZATION=basic_auth(app.client_id))
    assert response.status_code == 200


def test_revoked_token_is_refused_with_one_cache_read(
    client, rsa_key, resource_server, django_assert_num_queries
):
    resource_server(REVOCATION_CHECK="cache")
    app = ClientCredentialsApplicationFactory()
    token = client_credentials_token(client, app=app)
    with django_assert_num_queries(0):
        assert client.get("/t/token", **bearer(token)).status_code == 200
    revoke(client, app, token)
    response = client.get("/t/token", **bearer(token))
    assert response.status_code == 401
    assert 'error_description="Token has been revoked."' in challenge(response)


def test_without_the_check_a_revoked_token_still_validates(client, rsa_key):
    app = ClientCredentialsApplicationFactory()
    token = client_credentials_token(client, app=app)
    revoke(client, app, token)
    assert client.get("/t/token", **bearer(token)).status_code == 200


def test_marker_only_for_live_jwts(rsa_key):
    model = get_access_token_model()
    access_token_deleted(instance=model(token="opaque-token"))
    access_token_deleted(instance=model(token=sign(jti="old", exp=1_000)))
    access_token_deleted(instance=model(token="a.b.c"))
    assert not is_revoked("old") and not is_marked("old")
    access_token_deleted(instance=model(token=sign(jti="live")))
    assert is_revoked("live") and is_marked("live")


def test_deleting_the_row_marks_the_jti(client, rsa_key):
    token = client_credentials_token(client)
    get_access_token_model().objects.filter(token=token).delete()
    from django.core.cache import cache

    assert any(k.startswith(f":1:{MARKER_PREFIX}") for k in cache._cache)


class Introspection:
    """requests.Session.post against the site's own introspection endpoint, counted."""

    def __init__(self):
        self.calls = 0
        self.down = False
        self.client = Client()

    def post(self, session, url, data=None, auth=None, **kwargs):
        self.calls += 1
        if self.down:
            raise requests.Timeout("slow issuer")
        response = self.client.post(urlsplit(url).path, data, HTTP_AUTHORIZATION=basic_auth(*auth))
        return FakeHTTPResponse(response.status_code, response.content)


@pytest.fixture
def introspection(monkeypatch, resource_server):
    fake = Introspection()
    monkeypatch.setattr(requests.Session, "post", lambda s, url, **kw: fake.post(s, url, **kw))
    resource_app = IntrospectorFactory(client_id="orders-api")
    resource_server(
        REVOCATION_CHECK="introspection",
        INTROSPECTION_URL="https://testserver/o/introspect/",
        INTROSPECTION_CLIENT_ID=resource_app.client_id,
        INTROSPECTION_CLIENT_SECRET="s3cret-client-secret",
        REVOCATION_CHECK_DELAY=60,
    )
    jwks.clear_local_cache()
    return fake


def test_introspection_result_is_cached_for_the_delay(
    client, rsa_key, introspection, django_assert_num_queries
):
    from django.core.cache import cache

    app = ClientCredentialsApplicationFactory()
    token = client_credentials_token(client, app=app)
    assert client.get("/t/token", **bearer(token)).status_code == 200
    assert introspection.calls == 1
    with django_assert_num_queries(0):
        assert client.get("/t/token", **bearer(token)).status_code == 200
    assert introspection.calls == 1
    revoke(client, app, token)
    assert client.get("/t/token", **bearer(token)).status_code == 200  # within the delay
    cache.delete_many([k.removeprefix(":1:") for k in cache._cache if "introspected" in k])  # delay over
    response = client.get("/t/token", **bearer(token))
    assert response.status_code == 401
    assert introspection.calls == 2


def test_introspection_unreachable_fails_open(client, rsa_key, introspection):
    introspection.down = True
    token = client_credentials_token(client)
    assert client.get("/t/token", **bearer(token)).status_code == 200
    assert client.get("/t/token", **bearer(token)).status_code == 200
    assert introspection.calls == 1  # the failure is remembered too: no call per request


# -- the database list (REVOCATION_CHECK = "database", the same site) ----------------------


def test_database_check_refuses_a_revoked_token_with_no_query_per_request(
    client, rsa_key, resource_server, django_assert_num_queries
):
    resource_server(REVOCATION_CHECK="database")
    app = ClientCredentialsApplicationFactory()
    token = client_credentials_token(client, app=app)
    assert client.get("/t/token", **bearer(token)).status_code == 200  # first look at the list
    with django_assert_num_queries(0):
        assert client.get("/t/token", **bearer(token)).status_code == 200
    revoke(client, app, token)
    response = client.get("/t/token", **bearer(token))
    assert response.status_code == 401
    assert 'error_description="Token has been revoked."' in challenge(response)


def test_a_revocation_recorded_by_another_process_is_seen_within_the_interval(
    rsa_key, monkeypatch, django_assert_num_queries
):
    """Another process (or host) adds a row; this one's memory learns it at its next look."""
    from datetime import timedelta

    from django.utils import timezone

    from oidc_provider import revocation
    from oidc_provider.conf import oidc_settings
    from oidc_provider.models import RevokedToken

    clock = [1000.0]
    monkeypatch.setattr(revocation.time, "monotonic", lambda: clock[0])
    assert not is_revoked("jti-1")
    RevokedToken.objects.create(jti="jti-1", expires_at=timezone.now() + timedelta(minutes=5))
    RevokedToken.objects.create(jti="gone", expires_at=timezone.now() - timedelta(minutes=5))
    with django_assert_num_queries(0):
        assert not is_revoked("jti-1")  # within the interval: memory only
    clock[0] += oidc_settings.KEY_CACHE_CHECK_INTERVAL
    with django_assert_num_queries(1):
        assert is_revoked("jti-1")
    assert not is_revoked("gone")  # expired entries are not loaded


def test_revoked_entries_are_recorded_in_the_database_and_pruned(client, rsa_key):
    from django.core.management import call_command

    from oidc_provider.models import RevokedToken

    token = client_credentials_token(client)
    get_access_token_model().objects.filter(token=token).delete()
    assert RevokedToken.objects.count() == 1
    RevokedToken.objects.update(expires_at="2000-01-01T00:00:00Z")
    call_command("oidc_prune")
    assert not RevokedToken.objects.exists()
