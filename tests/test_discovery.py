"""Discovery documents say exactly what the provider does (OIDC Discovery §3, RFC 8414)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from oidc_provider import keys

from .factories import ApplicationFactory, ClientProfileFactory, SigningKeyFactory, UserFactory
from .oauth import REDIRECT_URI, basic, pkce

pytestmark = pytest.mark.django_db
OIDC = "/o/.well-known/openid-configuration"
RFC8414 = "/o/.well-known/oauth-authorization-server"


@pytest.fixture(autouse=True)
def _key(db):
    SigningKeyFactory(algorithm="RS256")


def test_rfc_8414_path_aware_url_serves_the_metadata(client):
    """RFC 8414 §3.1: issuer https://testserver/o -> /.well-known/oauth-authorization-server/o."""
    response = client.get("/.well-known/oauth-authorization-server/o")
    assert response.status_code == 200
    assert response.json() == client.get(RFC8414).json()
    assert response.json()["issuer"] == "https://testserver/o"


def test_rfc_8414_path_aware_url_for_another_path_is_404(client):
    assert client.get("/.well-known/oauth-authorization-server/other").status_code == 404
    assert client.get("/.well-known/oauth-authorization-server/o/extra").status_code == 404


def test_request_objects_are_declared_unsupported(client):
    data = client.get(OIDC).json()
    assert data["request_parameter_supported"] is False
    assert data["request_uri_parameter_supported"] is False


@pytest.mark.parametrize(
    "param,error",
    [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")],
)
def test_request_objects_are_refused_not_ignored(client, param, error):
    app = ApplicationFactory()
    client.force_login(UserFactory())
    _, challenge = pkce()
    value = "eyJhbGciOiJub25lIn0.e30." if param == "request" else "https://rp.example.com/request.jwt"
    response = client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            param: value,
        },
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == [error] and query["state"] == ["s1"]
    assert "code" not in query


def _token_endpoint_accepts(client, grant_type: str) -> bool:
    app = ApplicationFactory()
    response = client.post("/o/token/", {"grant_type": grant_type}, **basic(app.client_id))
    return response.json().get("error") != "unsupported_grant_type"


def test_grant_types_agree_between_documents_and_the_token_endpoint(client):
    oidc = client.get(OIDC).json()["grant_types_supported"]
    rfc8414 = client.get(RFC8414).json()["grant_types_supported"]
    assert sorted(oidc) == sorted(rfc8414)
    for grant in oidc:
        if grant != "implicit":  # implicit is answered at the authorization endpoint
            assert _token_endpoint_accepts(client, grant), grant
    for grant in ("urn:ietf:params:oauth:grant-type:jwt-bearer", "made-up"):
        assert grant not in oidc and not _token_endpoint_accepts(client, grant)


def test_claims_supported_lists_only_what_the_claims_provider_returns(client, settings):
    claims = set(client.get(OIDC).json()["claims_supported"])
    assert {"sub", "email", "name", "preferred_username", "iss", "aud"} <= claims
    assert not {"phone_number", "address", "birthdate", "picture"} & claims


def test_claims_supported_follows_a_declared_custom_provider(client, settings):
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "USERINFO_CLAIMS_PROVIDER": "tests.hooks.phone_claims",
    }
    claims = set(client.get(OIDC).json()["claims_supported"])
    assert "phone_number" in claims and "email" not in claims


def test_signing_algorithms_are_those_of_usable_keys(client, settings):
    keys.ensure_active_key("ES384")  # active, but not an algorithm this site accepts
    keys.create_key("ES256", state="next")  # published, not signing yet
    algs = client.get(OIDC).json()["id_token_signing_alg_values_supported"]
    assert "RS256" in algs
    assert "ES384" not in algs and "ES256" not in algs


def test_hs256_is_advertised_only_when_a_client_can_use_it(client):
    assert "HS256" not in client.get(OIDC).json()["id_token_signing_alg_values_supported"]
    ClientProfileFactory(application=ApplicationFactory(), id_token_algorithm="HS256")  # hashed secret
    assert "HS256" not in client.get(OIDC).json()["id_token_signing_alg_values_supported"]
    app = ApplicationFactory(hash_client_secret=False, client_secret="x" * 40)
    ClientProfileFactory(application=app, id_token_algorithm="HS256")
    assert "HS256" in client.get(OIDC).json()["id_token_signing_alg_values_supported"]
