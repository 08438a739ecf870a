"""Remote mode: a separate service validating against the issuer's JWKS over (mocked) HTTP."""

import time
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from oidc_provider import keys
from oidc_provider.contrib.rest_framework import jwks
from oidc_provider.contrib.rest_framework.jwks import RemoteJWKS, parse_jwks
from oidc_provider.keys import keyring

from .drf import bearer, challenge, sign
from .factories import SigningKeyFactory
from .oauth import FakeHTTPResponse

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.drf_urls")]

JWKS_URI = "https://testserver/o/.well-known/jwks.json"
DISCOVERY_URL = "https://testserver/o/.well-known/openid-configuration"


def FakeResponse(response):
    return FakeHTTPResponse(response.status_code, response.content)


class Transport:
    """Stands in for requests.Session.get: serves the site's own views and counts the calls."""

    def __init__(self):
        self.calls = []
        self.down = False
        self.client = Client()

    def get(self, session, url, **kwargs):
        assert kwargs["timeout"] == 5 and kwargs["allow_redirects"] is False
        self.calls.append(url)
        if self.down:
            raise requests.ConnectionError("issuer unreachable")
        return FakeResponse(self.client.get(urlsplit(url).path))


@pytest.fixture
def transport(monkeypatch):
    transport = Transport()
    monkeypatch.setattr(requests.Session, "get", lambda session, url, **kw: transport.get(session, url, **kw))
    jwks.clear_local_cache()
    yield transport
    jwks.clear_local_cache()


@pytest.fixture
def remote(settings, transport, rsa_key):
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "RESOURCE_SERVER": {
            "MODE": "remote",
            "ISSUER": "https://testserver/o",
            "AUDIENCE": "https://api.example.com",
            "JWKS_URI": JWKS_URI,
        },
    }
    return transport


class Clock:
    def __init__(self, monkeypatch):
        self.offset = 0
        monkeypatch.setattr(jwks, "time", self)

    def time(self):
        return time.time() + self.offset


def throttle_passes():
    """What JWKS_MIN_REFETCH_INTERVAL elapsing does: the shared throttle key expires."""
    from django.core.cache import cache

    jwks_source = jwks.remote_jwks()
    cache.delete(jwks_source.throttle_key)


def test_valid_token_fetches_once_then_uses_the_cache(client, remote, django_assert_num_queries):
    token = sign()
    assert client.get("/t/token", **bearer(token)).status_code == 200
    assert remote.calls == [JWKS_URI]
    with django_assert_num_queries(0):
        assert client.get("/t/token", **bearer(sign())).status_code == 200
    assert remote.calls == [JWKS_URI]


def test_other_processes_use_the_shared_cache(client, remote):
    assert client.get("/t/token", **bearer(sign())).status_code == 200
    jwks.clear_local_cache()  # a second process: no parsed keys, same Django cache
    assert client.get("/t/token", **bearer(sign())).status_code == 200
    assert len(remote.calls) == 1


def test_unknown_kid_refetch_is_rate_limited(client, remote):
    assert client.get("/t/token", **bearer(sign())).status_code == 200
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for _ in range(20):
        response = client.get("/t/token", **bearer(sign(key=other, kid=f"kid-{_}")))
        assert response.status_code == 401
        assert 'error_description="Token is signed by an unknown key."' in challenge(response)
    assert len(remote.calls) == 1  # twenty unknown kids, no extra fetch inside the interval


def test_new_key_is_picked_up_after_the_interval(client, remote):
    assert client.get("/t/token", **bearer(sign())).status_code == 200
    SigningKeyFactory(algorithm="ES256")
    keys.clear_local_cache()  # the issuer's own process sees its new key
    token = sign("ES256")
    assert client.get("/t/token", **bearer(token)).status_code == 401
    assert len(remote.calls) == 1
    throttle_passes()
    assert client.get("/t/token", **bearer(token)).status_code == 200
    assert len(remote.calls) == 2


def test_issuer_down_cached_keys_still_work(client, remote, monkeypatch):
    assert client.get("/t/token", **bearer(sign())).status_code == 200
    remote.down = True
    clock = Clock(monkeypatch)
    clock.offset = 300 + 10  # past JWKS_CACHE_SECONDS: a refresh is attempted and fails
    throttle_passes()
    assert client.get("/t/token", **bearer(sign())).status_code == 200
    assert len(remote.calls) == 2
    jwks.clear_local_cache()  # a fresh process also gets the stale keys from the shared cache
    assert client.get("/t/token", **bearer(sign())).status_code == 200


def test_keys_past_the_stale_window_are_dropped(client, remote, monkeypatch):
    assert client.get("/t/token", **bearer(sign())).status_code == 200
    remote.down = True
    Clock(monkeypatch).offset = 300 + 86400 + 10
    throttle_passes()
    response = client.get("/t/token", **bearer(sign()))
    assert response.status_code == 401


def test_discovery_url(client, remote, settings):
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "RESOURCE_SERVER": {
            **settings.OIDC_PROVIDER["RESOURCE_SERVER"],
            "JWKS_URI": None,
            "DISCOVERY_URL": DISCOVERY_URL,
        },
    }
    assert client.get("/t/token", **bearer(sign())).status_code == 200
    assert [urlsplit(u).path for u in remote.calls] == [
        "/o/.well-known/openid-configuration",
        "/o/.well-known/jwks.json",
    ]


def test_discovery_with_another_issuer_is_refused(client, remote, settings):
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "RESOURCE_SERVER": {
            **settings.OIDC_PROVIDER["RESOURCE_SERVER"],
            "JWKS_URI": None,
            "DISCOVERY_URL": DISCOVERY_URL,
            "ISSUER": "https://id.other.example/o",
        },
    }
    response = client.get("/t/token", **bearer(sign(iss="https://id.other.example/o")))
    assert response.status_code == 401
    assert len(remote.calls) == 1  # the JWKS of a mismatched issuer is never fetched


def test_remote_errors_are_401_not_500(client, remote, monkeypatch):
    def broken(session, url, **kwargs):
        return FakeResponse(type("R", (), {"status_code": 200, "content": b"not json"})())

    monkeypatch.setattr(requests.Session, "get", broken)
    assert client.get("/t/token", **bearer(sign())).status_code == 401


def test_parse_jwks_keeps_only_usable_signature_keys(rsa_key, es_key):
    ring = keyring()
    rsa_jwk, es_jwk = ring.keys[rsa_key.kid].public_jwk, ring.keys[es_key.kid].public_jwk
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    import json

    from jwcrypto import jwk as jwcrypto_jwk

    private_jwk = json.loads(jwcrypto_jwk.JWK.from_pyca(private).export_private())
    document = {
        "keys": [
            rsa_jwk,
            es_jwk,
            {**rsa_jwk, "kid": "no-alg", "alg": None},
            {**rsa_jwk, "kid": "enc", "use": "enc"},
            {**rsa_jwk, "kid": "wrong-alg", "alg": "ES256"},
            {**rsa_jwk, "kid": "hmac", "alg": "HS256"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "oct", "alg": "HS256"},
            {**private_jwk, "kid": "private", "alg": "RS256"},
            {"kty": "RSA", "kid": "broken", "alg": "RS256", "n": "!!", "e": "AQAB"},
            "not a dict",
        ]
    }
    keys = parse_jwks(document)
    # A key published with its private half is compromised: anyone could sign with it.
    assert set(keys) == {rsa_key.kid, es_key.kid}
    assert keys[rsa_key.kid][1] == "RS256" and keys[es_key.kid][1] == "ES256"
    assert parse_jwks({"keys": "x"}) == {} and parse_jwks([]) == {}


def test_remote_jwks_needs_a_url():
    with pytest.raises(ValueError):
        RemoteJWKS()
