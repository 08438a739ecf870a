"""Key and client-setting changes made in one process reach another through a shared Redis cache."""

import os
import subprocess
import sys
import time

import pytest
from django.core.cache import caches
from django.db import connection

from oidc_provider import keys, profiles
from oidc_provider.models import SigningKey

from .factories import ClientCredentialsApplicationFactory, ClientProfileFactory
from .oauth import client_credentials

REDIS_URL = "redis://127.0.0.1:6379/15"
CHECK_INTERVAL = 1


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


@pytest.fixture
def shared_cache(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database two processes share (make test runs it against PostgreSQL)")
    if not redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "KEY_CACHE_CHECK_INTERVAL": CHECK_INTERVAL}
    caches["default"].clear()
    keys.clear_local_cache()
    profiles.clear_local_cache()
    yield
    caches["default"].clear()


@pytest.fixture
def peer(shared_cache):
    env = {
        **os.environ,
        "OIDC_TEST_REDIS_URL": REDIS_URL,
        "OIDC_TEST_DB_NAME": connection.settings_dict["NAME"],
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.peer"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )

    def ask(command: str) -> str:
        process.stdin.write(command + "\n")
        process.stdin.flush()
        return process.stdout.readline().strip()

    yield ask
    process.stdin.close()
    process.wait(timeout=10)


def eventually(check, timeout=10):  # the peer looks at the stamps every 5 s (the default)
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_rotation_and_revocation_in_one_process_reach_the_other(client, peer):
    keys.rotate("RS256")
    token = client_credentials(client, ClientCredentialsApplicationFactory())["access_token"]
    assert peer("validate " + token).startswith("ok ")
    old_active = SigningKey.objects.get(state="active").kid

    result = keys.rotate("RS256")  # this process; the peer learns it through Redis
    assert eventually(lambda: result.created.kid in peer("kids").split())
    assert peer("validate " + token).startswith("ok ")  # retired keys still validate

    keys.revoke(SigningKey.objects.get(kid=old_active))
    assert eventually(lambda: peer("validate " + token) == "invalid Token is signed by an unknown key.")


@pytest.mark.django_db(transaction=True)
def test_an_assertion_jti_accepted_in_one_process_is_a_replay_in_the_other(peer):
    from oidc_provider.client_auth import ClientAuthError, _consume_jti

    assert peer("claim client-1 jti-abc") == "accepted"
    with pytest.raises(ClientAuthError):
        _consume_jti("client-1", {"jti": "jti-abc", "exp": time.time() + 60}, time.time(), None)
    _consume_jti("client-1", {"jti": "jti-xyz", "exp": time.time() + 60}, time.time(), None)
    assert peer("claim client-1 jti-xyz") == "replayed"
    assert peer("claim client-2 jti-xyz") == "accepted"  # jti is per client


@pytest.mark.django_db(transaction=True)
def test_a_client_profile_saved_in_one_process_reaches_the_other(peer):
    profile = ClientProfileFactory(access_token_lifetime=120)
    assert peer(f"lifetime {profile.application.client_id}") == "120"
    profile.access_token_lifetime = 60
    profile.save()  # the peer keeps its copy until it sees the shared stamp move
    assert eventually(lambda: peer(f"lifetime {profile.application.client_id}") == "60")
