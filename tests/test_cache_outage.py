"""Redis goes away mid-run: token, introspection and API requests keep succeeding (no 500).

The test starts its own redis-server on a free port and stops it; the shared Redis of other
test runs is never touched.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time

import pytest

from oidc_provider import shared_cache

from .factories import ClientCredentialsApplicationFactory, IntrospectorFactory, SigningKeyFactory
from .oauth import basic

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(settings):
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.OIDC_PROVIDER = {
        **settings.OIDC_PROVIDER,
        "KEY_CACHE_CHECK_INTERVAL": 60,  # also: at most one warning per minute per process
        "RESOURCE_SERVER": {"REVOCATION_CHECK": "cache"},
    }

    shared_cache._warned_at.clear()

    def stop():
        process.terminate()
        process.wait(timeout=10)

    yield stop
    if process.poll() is None:
        stop()


def requests_succeed(client, app, introspector) -> None:
    response = client.post(
        "/o/token/", {"grant_type": "client_credentials", "scope": "read"}, **basic(app.client_id)
    )
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    assert client.get("/api/orders", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    introspected = client.post("/o/introspect/", {"token": token}, **basic(introspector.client_id))
    assert introspected.status_code == 200 and introspected.json()["active"] is True
    assert client.get("/o/.well-known/jwks.json").status_code == 200
    revoked = client.post("/o/revoke_token/", {"token": token}, **basic(app.client_id))
    assert revoked.status_code == 200


def test_requests_keep_succeeding_when_redis_stops_mid_run(client, own_redis, caplog):
    SigningKeyFactory(algorithm="RS256")
    app, introspector = ClientCredentialsApplicationFactory(), IntrospectorFactory()
    for _ in range(3):
        requests_succeed(client, app, introspector)
    own_redis()  # Redis is gone
    with caplog.at_level(logging.WARNING, logger="oidc_provider.cache"):
        for _ in range(3):
            requests_succeed(client, app, introspector)
    warnings = [r for r in caplog.records if r.name == "oidc_provider.cache"]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()  # not one per call


def test_an_assertion_replay_is_refused_while_redis_is_down(own_redis, monkeypatch):
    from oidc_provider.client_auth import ClientAuthError, _consume_jti

    claims = {"jti": "jti-during-outage", "exp": time.time() + 60}
    own_redis()
    _consume_jti("client-1", claims, time.time(), None)
    with pytest.raises(ClientAuthError, match="already been used"):
        _consume_jti("client-1", claims, time.time(), None)
