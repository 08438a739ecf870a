import base64

import pytest
from django.core.cache import cache

from oidc_provider import client_jwks, keys, profiles, revocation
from oidc_provider.conf import oidc_settings

from .factories import CLIENT_SECRET, SigningKeyFactory
from .loopback import LogoutEndpoint


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts with an empty shared cache and no in-process key ring."""
    cache.clear()
    keys.clear_local_cache()
    profiles.clear_local_cache()
    revocation.clear_local_cache()
    client_jwks.clear_local_cache()
    oidc_settings.reload()
    yield
    keys.clear_local_cache()
    profiles.clear_local_cache()
    revocation.clear_local_cache()


@pytest.fixture
def rsa_key(db):
    return SigningKeyFactory(algorithm="RS256")


@pytest.fixture
def es_key(db):
    return SigningKeyFactory(algorithm="ES256")


@pytest.fixture
def signing_keys(rsa_key, es_key):
    return {"RS256": rsa_key, "ES256": es_key}


def basic_auth(client_id: str, secret: str = CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def jwks(client):
    """The provider's JWKS, fetched over HTTP like a resource server would."""

    def fetch():
        response = client.get("/o/.well-known/jwks.json")
        assert response.status_code == 200
        return response.json()

    return fetch


@pytest.fixture
def rp(settings):
    """A relying party's back-channel logout endpoint on loopback that the provider may call
    (http while DEBUG, private addresses allowed)."""
    settings.DEBUG = True
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "BACKCHANNEL_LOGOUT_ALLOW_PRIVATE_ADDRESSES": True,
        "BACKCHANNEL_LOGOUT_TIMEOUT": 1,
    }
    with LogoutEndpoint() as endpoint:
        yield endpoint
