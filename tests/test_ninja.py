"""contrib.ninja: the same tokens, settings and errors as the DRF class (oidc_provider.resource_server)."""

import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

from .drf import bearer, challenge, client_credentials_token, sign
from .factories import ClientCredentialsApplicationFactory, UserFactory
from .test_drf_jwks import remote, transport  # noqa: F401  (fixtures: remote mode over fake HTTP)
from .test_revocation import revoke

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ninja_urls")]

# Each pair: the DRF test view and the ninja operation doing the same thing.
BOTH = pytest.mark.parametrize("prefix", ["/t/", "/n/"], ids=["drf", "ninja"])


@pytest.fixture
def resource_server(settings):
    def update(**changes):
        current = settings.OIDC_PROVIDER.get("RESOURCE_SERVER", {})
        settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RESOURCE_SERVER": {**current, **changes}}

    return update


@BOTH
def test_minted_token_needs_no_query(client, rsa_key, prefix, django_assert_num_queries):
    token = client_credentials_token(client, scope="read")
    client.get(f"{prefix}token", **bearer(token))  # warm the key ring
    with django_assert_num_queries(0):
        response = client.get(f"{prefix}token", **bearer(token))
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read"
    assert response.json()["sub"] == response.json()["client_id"]


def test_demo_api_answers_the_same_token_in_drf_and_ninja(client, rsa_key):
    token = client_credentials_token(client, scope="read")
    drf = client.get("/api/orders", **bearer(token))
    ninja = client.get("/api/ninja/orders", **bearer(token))
    assert drf.status_code == ninja.status_code == 200
    assert ninja.json()["orders"] == drf.json()["orders"]
    refused = client_credentials_token(client, scope="write")
    assert client.get("/api/orders", **bearer(refused)).status_code == 403
    assert client.get("/api/ninja/orders", **bearer(refused)).status_code == 403


@BOTH
def test_no_token_is_401_with_a_bare_challenge(client, prefix):
    response = client.get(f"{prefix}token")
    assert response.status_code == 401
    assert challenge(response) == 'Bearer realm="api"'


@BOTH
@pytest.mark.parametrize(
    ("header", "description"),
    [
        ("Bearer", "Malformed Bearer credentials."),
        ("Bearer a b", "Malformed Bearer credentials."),
        ("Bearer a.b.c", None),
    ],
)
def test_bad_token_is_401_invalid_token(client, rsa_key, prefix, header, description):
    response = client.get(f"{prefix}token", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401, response.content
    assert challenge(response).startswith('Bearer realm="api", error="invalid_token"')
    if description:
        assert f'error_description="{description}"' in challenge(response)
        assert response.json()["detail"] == description


@BOTH
def test_expired_and_foreign_tokens_are_refused_alike(client, rsa_key, prefix):
    for token, description in [
        (sign(exp=1_000), "Token has expired."),
        (sign(aud="https://other.example.com"), "Token audience is not accepted."),
        (sign(typ="JWT"), "Token type is not accepted here."),
    ]:
        response = client.get(f"{prefix}token", **bearer(token))
        assert response.status_code == 401
        assert f'error_description="{description}"' in challenge(response)


@BOTH
def test_missing_scope_is_403_insufficient_scope(client, rsa_key, prefix):
    response = client.get(f"{prefix}scoped", **bearer(sign(scope="openid")))
    assert response.status_code == 403
    header = challenge(response)
    assert header.startswith('Bearer realm="api", error="insufficient_scope"'), header
    assert 'scope="read"' in header
    assert client.get(f"{prefix}scoped", **bearer(sign(scope="read"))).status_code == 200


def test_require_scopes_inside_an_operation(client, rsa_key):
    assert client.post("/n/write", **bearer(sign(scope="read"))).status_code == 403
    assert client.post("/n/write", **bearer(sign(scope="write"))).json() == {"ok": "write"}


@BOTH
def test_user_row_is_loaded_lazily_and_a_deleted_user_is_401(client, rsa_key, prefix):
    user = UserFactory()
    token = sign(sub=str(user.pk))
    body = client.get(f"{prefix}user", **bearer(token)).json()
    assert body == {"username": user.username, "type": get_user_model().__name__, "pk": user.pk}
    user.delete()
    response = client.get(f"{prefix}user", **bearer(token))
    assert response.status_code == 401
    assert "unknown or inactive" in challenge(response)


@BOTH
def test_stateless_user_mode(client, rsa_key, prefix, resource_server, django_assert_num_queries):
    resource_server(USER_MODE="stateless")
    client.get(f"{prefix}user", **bearer(sign(sub="42")))  # warm the key ring
    with django_assert_num_queries(0):
        body = client.get(f"{prefix}user", **bearer(sign(sub="42"))).json()
    assert body == {"username": "42", "type": "TokenUser", "pk": "42"}


@BOTH
def test_hybrid_revocation(client, rsa_key, prefix, resource_server):
    resource_server(REVOCATION_CHECK="cache")
    app = ClientCredentialsApplicationFactory()
    token = client_credentials_token(client, app=app)
    assert client.get(f"{prefix}token", **bearer(token)).status_code == 200
    revoke(client, app, token)
    response = client.get(f"{prefix}token", **bearer(token))
    assert response.status_code == 401
    assert 'error_description="Token has been revoked."' in challenge(response)


@BOTH
def test_remote_mode(client, remote, prefix):  # noqa: F811
    token = sign()
    assert client.get(f"{prefix}token", **bearer(token)).status_code == 200
    assert client.get(f"{prefix}token", **bearer(token)).status_code == 200
    assert len(remote.calls) == 1  # one JWKS fetch, shared by both frameworks' later calls


def test_core_never_imports_ninja():
    script = """
import django, importlib, pathlib, sys
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
        "django.contrib.sessions", "django.contrib.messages", "oauth2_provider", "oidc_provider",
        "rest_framework", "oidc_provider.contrib.rest_framework"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SECRET_KEY="x" * 50, ROOT_URLCONF="oidc_provider.urls",
)
django.setup()
for path in sorted(pathlib.Path("oidc_provider").rglob("*.py")):
    name = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
    if not name.startswith(("oidc_provider.contrib.ninja", "oidc_provider.migrations")):
        importlib.import_module(name)
print(sorted(m for m in sys.modules if m == "ninja" or m.startswith("ninja.")))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
