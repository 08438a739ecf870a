import hashlib
import time
from datetime import timedelta

import jwt
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_id_token_model, get_refresh_token_model

from oidc_provider import jose, keys, profiles, versions
from oidc_provider.conf import oidc_settings
from oidc_provider.models import ClientProfile

from .factories import (
    ApplicationFactory,
    ClientCredentialsApplicationFactory,
    ClientProfileFactory,
    IntrospectorFactory,
    UserFactory,
)
from .oauth import authorize, basic, client_credentials, code_flow, exchange_code, verify

pytestmark = pytest.mark.django_db
API = "https://api.example.com"
AccessToken = get_access_token_model()


@pytest.fixture(autouse=True)
def _keys(signing_keys):
    return signing_keys


def test_client_credentials_jwt_follows_rfc_9068(client, jwks):
    app = ClientCredentialsApplicationFactory()
    body = client_credentials(client, app, scope="read write")
    token = body["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    assert header["kid"] == keys.keyring().active["RS256"].kid
    claims = verify(token, jwks(), API)
    assert claims["sub"] == app.client_id == claims["client_id"]  # RFC 9068 §2.2, no resource owner
    assert claims["scope"] == "read write"
    assert claims["exp"] - claims["iat"] == 900 == body["expires_in"]
    assert len(claims["jti"]) >= 16
    assert "auth_time" not in claims


def test_stored_row_expires_with_the_jwt(client, jwks):
    app = ClientCredentialsApplicationFactory()
    token = client_credentials(client, app)["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    row = AccessToken.objects.get(token_checksum=hashlib.sha256(token.encode()).hexdigest())
    assert int(row.expires.timestamp()) == claims["exp"]


@pytest.mark.parametrize("alg", ["ES256", "PS256", "EdDSA"])
def test_access_token_algorithm_setting(client, jwks, settings, alg):
    keys.ensure_active_key(alg)
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "ACCESS_TOKEN_ALGORITHM": alg}
    token = client_credentials(client, ClientCredentialsApplicationFactory())["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == alg
    assert verify(token, jwks(), API)["scope"] == "read"


def test_per_client_lifetime_audience_and_opaque_format(client, jwks):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=app, access_token_lifetime=60, audiences=["https://a.example", "https://b.example"]
    )
    body = client_credentials(client, app)
    claims = verify(body["access_token"], jwks(), "https://b.example")
    assert body["expires_in"] == 60 and claims["exp"] - claims["iat"] == 60
    assert claims["aud"] == ["https://a.example", "https://b.example"]

    opaque = ClientCredentialsApplicationFactory()
    ClientProfileFactory(application=opaque, access_token_format=ClientProfile.TokenFormat.OPAQUE)
    token = client_credentials(client, opaque)["access_token"]
    assert token.count(".") == 0 and AccessToken.objects.filter(token=token).exists()


def test_resource_parameter_narrows_the_audience(client, jwks):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(application=app, audiences=["https://a.example", "https://b.example"])
    body = client_credentials(client, app, resource="https://b.example")
    assert verify(body["access_token"], jwks(), "https://b.example")["aud"] == "https://b.example"
    denied = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "resource": "https://evil.example"},
        **basic(app.client_id),
    )
    assert denied.status_code == 400 and denied.json()["error"] == "invalid_target"


def test_claims_hook_adds_roles_but_never_overrides_registered_claims(client, jwks, settings):
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "ACCESS_TOKEN_CLAIMS_HOOK": "tests.hooks.roles_by_scope",
    }
    claims = verify(
        client_credentials(client, ClientCredentialsApplicationFactory())["access_token"], jwks(), API
    )
    assert claims["roles"] == ["reader"]
    assert "email" not in claims  # no personal data unless a scope asks


def test_no_active_key_is_a_503_not_a_500(client, settings):
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "ACCESS_TOKEN_ALGORITHM": "EdDSA",
        "ALLOWED_ALGORITHMS": ["EdDSA"],
    }
    app = ClientCredentialsApplicationFactory()
    response = client.post("/o/token/", {"grant_type": "client_credentials"}, **basic(app.client_id))
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


# -- authorization code, ID token, refresh --------------------------------------------------


def test_code_flow_issues_access_and_id_token(client, jwks):
    user = UserFactory()
    app = ApplicationFactory()
    body = code_flow(client, app, user, scope="openid profile email read", nonce="n-0S6")
    access = verify(body["access_token"], jwks(), API)
    assert access["sub"] == str(user.pk) and access["client_id"] == app.client_id
    assert "auth_time" in access and "email" not in access

    id_header = jwt.get_unverified_header(body["id_token"])
    assert id_header["typ"] == "JWT" and id_header["alg"] == "RS256"
    id_claims = verify(body["id_token"], jwks(), app.client_id)
    assert id_claims["nonce"] == "n-0S6"
    assert id_claims["sub"] == str(user.pk) and id_claims["auth_time"] <= int(time.time())
    assert id_claims["at_hash"] == jose.token_hash("RS256", body["access_token"])
    assert id_claims["exp"] - id_claims["iat"] == 600
    # OIDC Core §5.4: with an access token issued, profile/email claims go to userinfo.
    assert "email" not in id_claims
    assert get_id_token_model().objects.filter(jti=id_claims["jti"]).exists()


@pytest.mark.parametrize("alg", ["ES256", "PS256", "EdDSA"])
def test_id_token_algorithm_per_client(client, jwks, alg):
    keys.ensure_active_key(alg)
    app = ApplicationFactory()
    ClientProfileFactory(application=app, id_token_algorithm=alg)
    body = code_flow(client, app, UserFactory())
    assert jwt.get_unverified_header(body["id_token"])["alg"] == alg
    claims = verify(body["id_token"], jwks(), app.client_id)
    assert claims["at_hash"] == jose.token_hash(alg, body["access_token"])


def test_hs256_id_token_uses_the_unhashed_client_secret(client):
    secret = "an-unhashed-client-secret-of-40-bytes-xx"  # RFC 7518 §3.2: at least 32 bytes
    app = ApplicationFactory(hash_client_secret=False, algorithm="HS256", client_secret=secret)
    ClientProfileFactory(application=app, id_token_algorithm="HS256")
    body = code_flow(client, app, UserFactory(), secret=secret)
    claims = jwt.decode(body["id_token"], secret, algorithms=["HS256"], audience=app.client_id)
    assert claims["iss"] == "https://testserver/o"


def test_hs256_with_hashed_secret_is_refused_cleanly(client):
    app = ApplicationFactory()
    ClientProfileFactory(application=app, id_token_algorithm="HS256")
    user = UserFactory()
    client.force_login(user)
    code, verifier = authorize(client, app)
    response = exchange_code(client, app, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


def test_refresh_issues_a_fresh_jwt_with_the_same_rules(client, jwks):
    user = UserFactory()
    app = ApplicationFactory()
    first = code_flow(client, app, user, scope="openid read")
    response = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        **basic(app.client_id),
    )
    assert response.status_code == 200, response.content
    second = response.json()
    assert second["refresh_token"].count(".") == 0  # refresh tokens stay opaque
    a, b = verify(first["access_token"], jwks(), API), verify(second["access_token"], jwks(), API)
    assert a["jti"] != b["jti"] and a["sub"] == b["sub"] and a["scope"] == b["scope"] == "openid read"


def test_per_client_refresh_lifetime(client):
    app = ApplicationFactory()
    ClientProfileFactory(application=app, refresh_token_lifetime=1)
    first = code_flow(client, app, UserFactory(), scope="openid read")
    get_refresh_token_model().objects.update(created=timezone.now() - timedelta(seconds=5))
    response = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        **basic(app.client_id),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_scopes_limited_per_client(client):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(application=app, allowed_scopes="read")
    response = client.post(
        "/o/token/", {"grant_type": "client_credentials", "scope": "write"}, **basic(app.client_id)
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


# -- DOT's introspection, revocation and resource protection keep working for JWTs --------


def _introspector():
    return IntrospectorFactory()


def test_introspection_of_a_jwt_adds_rfc_7662_members(client):
    token = client_credentials(client, ClientCredentialsApplicationFactory(), scope="read")["access_token"]
    rs = _introspector()
    response = client.post("/o/introspect/", {"token": token}, **basic(rs.client_id))
    assert response.status_code == 200
    data = response.json()
    assert data["active"] is True and data["token_type"] == "Bearer"
    claims = jwt.decode(token, options={"verify_signature": False})
    for name in ("iss", "sub", "aud", "iat", "exp", "jti", "client_id", "scope"):
        assert data[name] == claims[name]


def test_revoked_jwt_is_inactive_and_refused_by_the_api(client, settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RESOURCE_SERVER": {"REVOCATION_CHECK": "cache"}}
    app = ClientCredentialsApplicationFactory()
    token = client_credentials(client, app)["access_token"]
    assert client.get("/api/orders", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    revoked = client.post(
        "/o/revoke_token/", {"token": token, "token_type_hint": "access_token"}, **basic(app.client_id)
    )
    assert revoked.status_code == 200
    response = client.post("/o/introspect/", {"token": token}, **basic(_introspector().client_id))
    assert response.json() == {"active": False}
    assert client.get("/api/orders", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_userinfo_returns_scope_claims(client):
    user = UserFactory(email="ada@example.com")
    body = code_flow(client, ApplicationFactory(), user, scope="openid profile email")
    client.logout()
    response = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data == {
        "sub": str(user.pk),
        "preferred_username": user.username,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
        "email_verified": False,
    }


# -- discovery -------------------------------------------------------------------------------


def test_discovery_lists_what_is_supported(client):
    data = client.get("/o/.well-known/openid-configuration").json()
    assert data["issuer"] == "https://testserver/o"
    assert data["jwks_uri"] == "https://testserver/o/.well-known/jwks.json"
    assert data["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]  # no HS256 client
    assert "email" in data["claims_supported"] and "sub" in data["claims_supported"]
    assert data["token_endpoint"] == "https://testserver/o/token/"


def test_rfc_8414_metadata(client):
    response = client.get("/o/.well-known/oauth-authorization-server")
    data = response.json()
    assert data["issuer"] == "https://testserver/o"
    assert data["jwks_uri"] == "https://testserver/o/.well-known/jwks.json"
    assert "client_credentials" in data["grant_types_supported"]


def test_client_profiles_are_read_once_per_process_and_change(
    client, jwks, django_capture_on_commit_callbacks, monkeypatch
):
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(application=app, access_token_lifetime=120)
    assert client_credentials(client, app)["expires_in"] == 120
    with CaptureQueriesContext(connection) as queries:
        client_credentials(client, app)
    assert not [q for q in queries.captured_queries if "clientprofile" in q["sql"]]

    # A change saved in this process applies at once; other processes learn it after commit.
    stamp = versions.read(profiles.VERSION_NAME)
    with django_capture_on_commit_callbacks(execute=True):
        profile = ClientProfile.objects.get(application=app)
        profile.access_token_lifetime = 60
        profile.save()
        assert client_credentials(client, app)["expires_in"] == 60
    assert versions.read(profiles.VERSION_NAME) != stamp
    assert client_credentials(client, app)["expires_in"] == 60

    # A change made by another process (no signal here): seen once this process looks at the
    # version again (every KEY_CACHE_CHECK_INTERVAL seconds) and finds it moved.
    clock = [time.monotonic()]
    monkeypatch.setattr(profiles.time, "monotonic", lambda: clock[0])
    ClientProfile.objects.filter(application=app).update(access_token_lifetime=30)
    versions.bump(profiles.VERSION_NAME)
    assert client_credentials(client, app)["expires_in"] == 60
    clock[0] += oidc_settings.KEY_CACHE_CHECK_INTERVAL
    assert client_credentials(client, app)["expires_in"] == 30

    # And at the latest after MAX_AGE seconds, even if the stamp never moved.
    ClientProfile.objects.filter(application=app).update(access_token_lifetime=45)
    clock[0] += profiles.MAX_AGE
    assert client_credentials(client, app)["expires_in"] == 45


def test_a_profile_copy_read_under_an_older_stamp_is_never_served(client, jwks):
    """Two requests race: the later-starting one read the new row under the new stamp; the other,
    still holding the old row read under the old stamp, must not serve it afterwards."""
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(application=app, access_token_lifetime=120)
    client_credentials(client, app)
    old_stamp = versions.read(profiles.VERSION_NAME)
    stale = ClientProfile.objects.get(application=app)
    ClientProfile.objects.filter(application=app).update(access_token_lifetime=60)
    profiles.invalidate()
    assert client_credentials(client, app)["expires_in"] == 60
    profiles._profiles[(app.pk, app.client_id)] = (old_stamp, time.monotonic(), stale)  # the slow one
    assert client_credentials(client, app)["expires_in"] == 60
