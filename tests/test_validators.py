"""OIDCValidator rules beyond DOT's: deactivated users, loopback redirect URIs, HS256 ID tokens."""

from urllib.parse import parse_qs, urlsplit

import pytest

from .factories import ApplicationFactory, SigningKeyFactory, UserFactory
from .oauth import authorize, basic, code_flow, exchange_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _key(db):
    SigningKeyFactory(algorithm="RS256")


def _deactivate(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


def test_refresh_for_a_deactivated_user_is_invalid_grant(client):
    user, app = UserFactory(), ApplicationFactory()
    tokens = code_flow(client, app, user, scope="openid read")
    _deactivate(user)
    response = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        **basic(app.client_id),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_code_issued_before_deactivation_is_invalid_grant(client):
    user, app = UserFactory(), ApplicationFactory()
    client.force_login(user)
    code, verifier = authorize(client, app)
    _deactivate(user)
    response = exchange_code(client, app, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_prompt_none_for_a_deactivated_user_is_login_required(client):
    user, app = UserFactory(), ApplicationFactory()
    client.force_login(user)
    _deactivate(user)
    response = client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uris,
            "scope": "openid",
            "prompt": "none",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["login_required"]


# -- one owner of the ID-token algorithm: ClientProfile.id_token_algorithm -------------------

LONG_SECRET = "an-unhashed-client-secret-of-40-bytes-xx"


def test_hs256_id_tokens_work_for_a_client_configured_in_the_admin(client):
    import jwt

    from .factories import ClientProfileFactory

    # The admin hides DOT's algorithm field and leaves it empty.
    app = ApplicationFactory(algorithm="", hash_client_secret=False, client_secret=LONG_SECRET)
    ClientProfileFactory(application=app, id_token_algorithm="HS256")
    body = code_flow(client, app, UserFactory(), secret=LONG_SECRET)
    claims = jwt.decode(body["id_token"], LONG_SECRET, algorithms=["HS256"], audience=app.client_id)
    assert claims["iss"] == "https://testserver/o"


def test_hs256_with_a_secret_shorter_than_32_bytes_is_refused(client):
    """RFC 7518 §3.2: an HS256 key is at least 256 bits."""
    from .factories import ClientProfileFactory

    short = "only-31-bytes-of-client-secret!"
    assert len(short) == 31
    app = ApplicationFactory(algorithm="HS256", hash_client_secret=False, client_secret=short)
    ClientProfileFactory(application=app, id_token_algorithm="HS256")
    client.force_login(UserFactory())
    code, verifier = authorize(client, app)
    response = exchange_code(client, app, code, verifier, secret=short)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "unauthorized_client"
    assert "32" in response.json()["error_description"]


@pytest.mark.parametrize("id_token_algorithm", ["RS256", "HS256"])
def test_an_old_dot_rs256_client_on_a_site_with_oidc_rsa_private_key_gets_our_id_token(
    client, settings, id_token_algorithm
):
    """DOT's Application.algorithm and jwk_key (the settings key) never decide: the profile does."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from .factories import ClientProfileFactory

    pem = (
        rsa.generate_private_key(65537, 2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": pem}
    app = ApplicationFactory(algorithm="RS256", hash_client_secret=False, client_secret=LONG_SECRET)
    ClientProfileFactory(application=app, id_token_algorithm=id_token_algorithm)
    body = code_flow(client, app, UserFactory(), secret=LONG_SECRET)
    header = jwt.get_unverified_header(body["id_token"])
    assert header["alg"] == id_token_algorithm
    if id_token_algorithm == "RS256":
        assert header["kid"] in {k["kid"] for k in client.get("/o/.well-known/jwks.json").json()["keys"]}
    else:
        jwt.decode(body["id_token"], LONG_SECRET, algorithms=["HS256"], audience=app.client_id)


# -- RFC 8252 §7.3: any loopback port, for native (public) clients only --------------------------


def _authorize_at(client, app, redirect_uri):
    from .oauth import pkce

    client.force_login(UserFactory())
    _, challenge = pkce()
    return client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_public_clients_may_use_any_loopback_port(client, host):
    from .factories import PublicApplicationFactory

    app = PublicApplicationFactory(redirect_uris=f"http://{host}/callback")
    response = _authorize_at(client, app, f"http://{host}:51234/callback")
    assert response.status_code == 302
    assert response["Location"].startswith(f"http://{host}:51234/callback?code=")


def test_confidential_clients_must_use_the_registered_loopback_port(client):
    app = ApplicationFactory(redirect_uris="http://127.0.0.1:8080/callback")
    response = _authorize_at(client, app, "http://127.0.0.1:51234/callback")
    assert response.status_code == 400  # shown to the user, never redirected
    assert _authorize_at(client, app, "http://127.0.0.1:8080/callback").status_code == 302
