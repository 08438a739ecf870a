"""Scope permissions: ours answer RFC 6750 insufficient_scope; DOT's work with our token object."""

import pytest

from .drf import bearer, challenge, client_credentials_token, sign

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.drf_urls")]


def test_has_scope_allows_with_no_query(client, rsa_key, django_assert_num_queries):
    token = sign(scope="read")
    with django_assert_num_queries(0):
        assert client.get("/t/scoped", **bearer(token)).status_code == 200


def test_insufficient_scope_is_403_with_a_challenge(client, rsa_key):
    response = client.get("/t/scoped", **bearer(sign(scope="openid write")))
    assert response.status_code == 403
    assert response.json()["detail"].startswith("The access token does not grant")
    assert challenge(response).startswith('Bearer realm="api", error="insufficient_scope"')
    assert 'scope="read"' in challenge(response)


def test_no_token_is_401(client, rsa_key):
    response = client.get("/t/scoped")
    assert response.status_code == 401
    assert challenge(response) == 'Bearer realm="api"'


def test_other_credentials_are_not_a_token():
    from types import SimpleNamespace

    from oidc_provider.contrib.rest_framework.permissions import HasScope

    view = SimpleNamespace(required_scopes=["read"])
    # e.g. a DRF TokenAuthentication key or a session (auth None): denied, not an error.
    assert HasScope().has_permission(SimpleNamespace(auth="drf-token-key"), view) is False
    assert HasScope().has_permission(SimpleNamespace(auth=None), view) is False


@pytest.mark.parametrize(
    ("method", "scope", "status"),
    [("get", "read", 200), ("get", "write", 403), ("post", "write", 200), ("post", "read", 403)],
)
def test_read_write_split_by_method(client, rsa_key, method, scope, status):
    response = getattr(client, method)("/t/rw", **bearer(sign(scope=scope)))
    assert response.status_code == status
    if status == 403:
        other = "read" if method == "get" else "write"
        assert f'scope="{other}"' in challenge(response)


def test_minted_token_and_demo_orders(client, rsa_key):
    assert (
        client.get("/api/orders", **bearer(client_credentials_token(client, scope="read"))).status_code == 200
    )
    response = client.get("/api/orders", **bearer(client_credentials_token(client, scope="write")))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in challenge(response)


@pytest.mark.parametrize(("scope", "status"), [("read", 200), ("openid", 403)])
def test_dot_token_has_scope_works_unchanged(client, rsa_key, scope, status):
    assert client.get("/t/dot-scoped", **bearer(sign(scope=scope))).status_code == status


@pytest.mark.parametrize(
    ("method", "scope", "status"),
    [("get", "read", 200), ("get", "write", 403), ("post", "write", 200), ("post", "read", 403)],
)
def test_dot_read_write_works_unchanged(client, rsa_key, method, scope, status):
    assert getattr(client, method)("/t/dot-rw", **bearer(sign(scope=scope))).status_code == status


@pytest.mark.parametrize(("scope", "status"), [("admin", 200), ("read profile", 200), ("read", 403)])
def test_dot_oas_requirements_work_unchanged(client, rsa_key, scope, status):
    assert client.get("/t/dot-oas", **bearer(sign(scope=scope))).status_code == status


def test_token_object_is_duck_typed_like_dot(rsa_key):
    import time

    from oidc_provider.contrib.rest_framework.token import AccessTokenClaims

    token = AccessTokenClaims("t", {}, {"scope": "read write", "exp": time.time() + 60, "sub": "1"}, 30)
    assert token and token.is_valid(["read"]) and token.allow_scopes([]) and not token.allow_scopes(["x"])
    expired = AccessTokenClaims("t", {}, {"scope": "read", "exp": time.time() - 31, "sub": "1"}, 30)
    assert expired.is_expired() and not expired.is_valid(["read"])
