"""RFC 9728: the API's metadata document and the resource_metadata of its 401 challenges."""

import pytest

from .drf import bearer, challenge, client_credentials_token, sign

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.resource_metadata_urls")]

DOCUMENT = "/.well-known/oauth-protected-resource/api"
METADATA = f'resource_metadata="https://testserver{DOCUMENT}"'


@pytest.fixture(autouse=True)
def resource(settings):
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "RESOURCE_SERVER": {
            "AUDIENCE": ["https://api.example.com"],
            "RESOURCE": "https://testserver/api",
            "SCOPES_SUPPORTED": ["read", "write"],
        },
    }


def configure(settings, **changes):
    current = settings.OIDC_PROVIDER["RESOURCE_SERVER"]
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RESOURCE_SERVER": {**current, **changes}}


def test_document(client):
    response = client.get(DOCUMENT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "resource": "https://testserver/api",
        "authorization_servers": ["https://testserver/o"],
        "scopes_supported": ["read", "write"],
        "bearer_methods_supported": ["header"],
    }


def test_scopes_default_to_dots(client, settings):
    configure(settings, SCOPES_SUPPORTED=None)
    assert "openid" in client.get(DOCUMENT).json()["scopes_supported"]


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource", f"{DOCUMENT}/other"])
def test_other_paths_are_not_this_resource(client, path):
    # RFC 9728 §3.3: resource must be the identifier the metadata URL was formed from.
    assert client.get(path).status_code == 404


def test_resource_without_path_is_at_the_root(client, settings):
    configure(settings, RESOURCE="https://testserver")
    response = client.get("/.well-known/oauth-protected-resource")
    assert response.json()["resource"] == "https://testserver"
    assert client.get(DOCUMENT).status_code == 404


def test_resource_defaults_to_the_first_audience(client, settings):
    configure(settings, RESOURCE=None)
    assert client.get("/.well-known/oauth-protected-resource").json()["resource"] == "https://api.example.com"


@pytest.mark.parametrize("prefix", ["/t/", "/n/"], ids=["drf", "ninja"])
def test_challenges_name_the_document(client, rsa_key, prefix):
    assert challenge(client.get(f"{prefix}token")) == f'Bearer realm="api", {METADATA}'
    invalid = challenge(client.get(f"{prefix}token", **bearer(sign(exp=1_000))))
    assert invalid.startswith('Bearer realm="api", error="invalid_token"') and invalid.endswith(METADATA)
    scope = challenge(client.get(f"{prefix}scoped", **bearer(sign(scope="openid"))))
    assert 'error="insufficient_scope"' in scope and scope.endswith(METADATA)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", 'Bearer realm="api"'),
        ("https://meta.example/doc", 'resource_metadata="https://meta.example/doc"'),
    ],
)
def test_metadata_url_setting(client, settings, setting, expected):
    configure(settings, RESOURCE_METADATA_URL=setting)
    header = challenge(client.get("/t/token"))
    assert header == expected or header.endswith(expected)
    assert "testserver/.well-known" not in header


@pytest.mark.urls("tests.ninja_urls")
def test_not_advertised_when_the_document_is_not_served(client):
    assert challenge(client.get("/t/token")) == 'Bearer realm="api"'


def test_dot_protected_views_advertise_the_same_document(client, rsa_key):
    response = client.get("/d/protected")
    assert response.status_code == 401
    assert METADATA in challenge(response)
    token = client_credentials_token(client, scope="read")
    assert client.get("/d/protected", **bearer(token)).status_code == 200
