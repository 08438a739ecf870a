"""Single use under concurrency (PostgreSQL) and sequential reuse (any database)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client
from oauth2_provider.models import get_access_token_model, get_grant_model

from oidc_provider.validators import OIDCValidator

from .factories import ApplicationFactory, IntrospectorFactory, UserFactory
from .oauth import authorize, basic, code_flow, exchange_code

AccessToken, Grant = get_access_token_model(), get_grant_model()

THREADS = 6


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (make test runs it against PostgreSQL)")


def in_parallel(fn, n=THREADS):
    barrier = threading.Barrier(n)

    def run(_):
        try:
            barrier.wait()
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def active(token) -> bool:
    introspector = IntrospectorFactory()
    return Client().post("/o/introspect/", {"token": token}, **basic(introspector.client_id)).json()["active"]


def exchange(app, code, verifier):
    return exchange_code(Client(), app, code, verifier)


def refresh(app, token):
    return Client().post(
        "/o/token/", {"grant_type": "refresh_token", "refresh_token": token}, **basic(app.client_id)
    )


@pytest.mark.django_db
def test_reused_code_is_refused_and_revokes_its_tokens(client, rsa_key):
    app, user = ApplicationFactory(), UserFactory()
    client.force_login(user)
    code, verifier = authorize(client, app, scope="openid read")
    first = exchange(app, code, verifier)
    assert first.status_code == 200
    assert active(first.json()["access_token"])
    second = exchange(app, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert not active(first.json()["access_token"])  # RFC 6749 §4.1.2


@pytest.mark.django_db(transaction=True)
def test_same_code_redeemed_at_once_succeeds_once(rsa_key):
    postgres_only()
    app, user = ApplicationFactory(), UserFactory()
    browser = Client()
    browser.force_login(user)
    code, verifier = authorize(browser, app, scope="openid read")
    responses = in_parallel(lambda: exchange(app, code, verifier))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (THREADS - 1), [r.content for r in responses]
    assert all(r.json()["error"] == "invalid_grant" for r in responses if r.status_code == 400)
    winner = next(r for r in responses if r.status_code == 200).json()
    assert not active(winner["access_token"])  # the code was used more than once


@pytest.mark.django_db
def test_code_redeemed_by_a_parallel_request_mid_validation_is_invalid_grant(rsa_key, monkeypatch):
    """The interleaving above, made deterministic: the winner deletes the grant just after
    this request's validate_code read it (DOT's later .get() calls made that a 500)."""
    app, user = ApplicationFactory(), UserFactory()
    browser = Client()
    browser.force_login(user)
    code, verifier = authorize(browser, app, scope="openid read")
    validate_code = OIDCValidator.validate_code

    def validate_then_lose_the_race(self, *args, **kwargs):
        valid = validate_code(self, *args, **kwargs)
        Grant.objects.filter(code=code).delete()
        return valid

    monkeypatch.setattr(OIDCValidator, "validate_code", validate_then_lose_the_race)
    response = exchange(app, code, verifier)
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reuse_protection", [False, True])
def test_same_refresh_token_used_at_once_succeeds_once(settings, rsa_key, reuse_protection):
    postgres_only()
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "REFRESH_TOKEN_REUSE_PROTECTION": reuse_protection,
    }
    app = ApplicationFactory()
    first = code_flow(Client(), app, UserFactory(), scope="openid read")
    responses = in_parallel(lambda: refresh(app, first["refresh_token"]))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (THREADS - 1), [r.content for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    # With reuse protection the replays revoke the whole family, the winner's new tokens included.
    assert active(winner["access_token"]) is not reuse_protection
    assert (refresh(app, winner["refresh_token"]).status_code == 200) is not reuse_protection


@pytest.mark.django_db
def test_sequential_refresh_replay_follows_reuse_protection(settings, rsa_key):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_REUSE_PROTECTION": True}
    app = ApplicationFactory()
    first = code_flow(Client(), app, UserFactory(), scope="openid read")
    second = refresh(app, first["refresh_token"])
    assert second.status_code == 200
    replay = refresh(app, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert refresh(app, second.json()["refresh_token"]).status_code == 400  # family revoked
