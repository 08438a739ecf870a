"""Security events: named loggers, signals, admin history; never a token or secret in a log."""

import logging

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

from oidc_provider import keys, signals
from oidc_provider.models import SigningKey

from .drf import bearer, sign
from .factories import CLIENT_SECRET, ApplicationFactory, ClientCredentialsApplicationFactory, UserFactory
from .oauth import authorize, basic, client_credentials, exchange_code
from .test_client_auth import (
    JWKS_URI,
    assertion,
    ec_client_key,  # noqa: F401  (fixture)
    jwt_client,  # noqa: F401  (fixture)
    rsa_client_key,  # noqa: F401  (fixture)
    token_request,
    with_assertion,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.DEBUG, logger="oidc_provider")
    return caplog


def lines(caplog, logger):
    return [r.getMessage() for r in caplog.records if r.name == logger]


@pytest.fixture
def sent():
    """Every security signal sent during the test, as (signal name, kwargs)."""
    seen = []
    names = [n for n in dir(signals) if isinstance(getattr(signals, n), type(signals.key_created))]
    handlers = []
    for name in names:

        def handler(sender, signal, _name=name, **kwargs):
            seen.append((_name, kwargs))

        getattr(signals, name).connect(handler, weak=False)
        handlers.append((name, handler))
    yield seen
    for name, handler in handlers:
        getattr(signals, name).disconnect(handler)


def test_key_lifecycle_is_logged_and_signalled(events, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = keys.rotate("RS256")
    with django_capture_on_commit_callbacks(execute=True):
        keys.retire(SigningKey.objects.get(state="next", algorithm="RS256"))
    with django_capture_on_commit_callbacks(execute=True):
        keys.revoke(result.activated)
    log = lines(events, "oidc_provider.keys")
    assert any(f"created: kid={result.created.kid}" in line for line in log)
    assert any(f"rotated: alg=RS256 activated={result.activated.kid}" in line for line in log)
    assert any(f"retired: kid={result.created.kid}" in line for line in log)
    revoked = [r for r in events.records if "revoked" in r.getMessage()]
    assert revoked and revoked[0].levelno == logging.WARNING
    names = [name for name, _ in sent]
    assert {"key_created", "key_rotated", "key_retired", "key_revoked"} <= set(names)
    pem = keys.LoadedKey(result.activated).private_key
    assert "PRIVATE KEY" not in events.text and str(pem) not in events.text


def test_issued_tokens_are_logged_without_the_token(client, rsa_key, events, sent):
    app = ClientCredentialsApplicationFactory()
    token = client_credentials(client, app)["access_token"]
    issued = lines(events, "oidc_provider.tokens")
    kid = rsa_key.kid
    assert any(
        f"Issued access token: client_id='{app.client_id}' grant_type=client_credentials kid={kid}" in line
        for line in issued
    ), issued
    assert sent[-1][0] == "token_issued" and sent[-1][1]["client_id"] == app.client_id
    assert sent[-1][1]["kid"] == kid and sent[-1][1]["grant_type"] == "client_credentials"
    assert token not in events.text and token.split(".")[2] not in events.text
    assert CLIENT_SECRET not in events.text


def test_id_tokens_are_logged(client, rsa_key, events):
    app, user = ApplicationFactory(), UserFactory()
    client.force_login(user)
    code, verifier = authorize(client, app)
    body = exchange_code(client, app, code, verifier).json()
    issued = lines(events, "oidc_provider.tokens")
    assert any("Issued ID token" in line and app.client_id in line for line in issued), issued
    assert any("grant_type=authorization_code" in line for line in issued)
    for secret in (body["id_token"], body["access_token"], body.get("refresh_token", "-"), code, verifier):
        assert secret not in events.text


def test_code_replay_is_a_warning(client, rsa_key, events, sent):
    app, user = ApplicationFactory(), UserFactory()
    client.force_login(user)
    code, verifier = authorize(client, app)
    assert exchange_code(client, app, code, verifier).status_code == 200
    assert exchange_code(client, app, code, verifier).status_code == 400
    replays = [r for r in events.records if r.name == "oidc_provider.auth" and "Replay" in r.getMessage()]
    assert replays and replays[0].levelno == logging.WARNING
    assert app.client_id in replays[0].getMessage()
    assert ("replay_detected", {"kind": "code", "client_id": app.client_id}) in sent
    assert code not in events.text


def test_token_endpoint_refusal_names_the_client_not_the_secret(client, rsa_key, events):
    app = ClientCredentialsApplicationFactory()
    response = client.post(
        "/o/token/", {"grant_type": "client_credentials"}, **basic(app.client_id, "wrong-secret-value")
    )
    assert response.status_code == 401
    refused = lines(events, "oidc_provider.tokens")
    assert any("refused at token endpoint: invalid_client" in line for line in refused), refused
    assert any(repr(app.client_id) in line for line in refused)
    assert "wrong-secret-value" not in events.text


def test_refused_access_token_at_the_api(client, rsa_key, events, sent):
    token = sign(exp=1_000)
    assert client.get("/api/orders", **bearer(token)).status_code == 401
    refused = lines(events, "oidc_provider.tokens")
    assert refused == ["Token refused at resource server: Token has expired. (client_id='rp-client')"]
    assert sent[-1] == (
        "token_refused",
        {"where": "resource server", "reason": "Token has expired.", "client_id": "rp-client"},
    )
    assert token not in events.text


def test_assertion_refusal_and_replay(client, jwt_client, rsa_client_key, events, sent):  # noqa: F811
    bad = assertion(jwt_client.client_id, rsa_client_key, aud="https://elsewhere.example.com")
    assert token_request(client, with_assertion(bad)).status_code == 401
    good = assertion(jwt_client.client_id, rsa_client_key)
    assert token_request(client, with_assertion(good)).status_code == 200
    assert token_request(client, with_assertion(good)).status_code == 401
    auth = [r for r in events.records if r.name == "oidc_provider.auth"]
    assert "Client assertion refused: Invalid client assertion: Token audience" in auth[0].getMessage()
    assert jwt_client.client_id in auth[0].getMessage()
    assert any("Replay detected: a used client assertion" in r.getMessage() for r in auth)
    assert ("replay_detected", {"kind": "client assertion", "client_id": jwt_client.client_id}) in sent
    assert good not in events.text and bad.split(".")[2] not in events.text


def test_jwks_uri_fetch_failure(client, db, signing_keys, monkeypatch, rsa_client_key, events, settings):  # noqa: F811
    import requests

    from .factories import ClientProfileFactory

    def down(*args, **kwargs):
        raise requests.ConnectionError("down")

    # The stand-in for the network answers for DNS too: the host is not looked up.
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "FETCH_ALLOWED_HOSTS": ["client.example.com"]}
    monkeypatch.setattr(requests.Session, "get", down)
    app = ClientCredentialsApplicationFactory()
    ClientProfileFactory(
        application=app, token_endpoint_auth_method="private_key_jwt", client_jwks_uri=JWKS_URI
    )
    token_request(client, with_assertion(assertion(app.client_id, rsa_client_key)))
    failures = [r for r in events.records if "JWKS fetch failed" in r.getMessage()]
    assert failures and failures[0].levelno == logging.WARNING
    assert JWKS_URI in failures[0].getMessage()


def test_admin_key_actions_write_history(admin_client, admin_user):
    first = keys.rotate("RS256").activated
    url = "/admin/oidc_provider/signingkey/"
    admin_client.post(url, {"action": "rotate_now", "_selected_action": [first.pk], "post": "yes"})
    nxt = SigningKey.objects.get(state="next", algorithm="RS256")
    admin_client.post(url, {"action": "retire_keys", "_selected_action": [nxt.pk], "post": "yes"})
    admin_client.post(url, {"action": "revoke_keys", "_selected_action": [first.pk], "post": "yes"})
    admin_client.post(f"{url}add/", {"algorithm": "ES256", "state": "next", "private_key_pem": ""})
    history = [
        (e.object_id, e.action_flag, e.get_change_message()) for e in LogEntry.objects.filter(user=admin_user)
    ]
    assert (str(first.pk), CHANGE, "Retired by a rotation.") in history
    assert (str(first.pk), CHANGE, "Revoked (compromised).") in history
    assert (str(nxt.pk), ADDITION, "Created as the next key by a rotation.") in history
    assert (str(nxt.pk), CHANGE, "Retired.") in history
    activated = SigningKey.objects.get(state="active", algorithm="RS256")
    assert (str(activated.pk), CHANGE, "Activated by a rotation.") in history
    created = SigningKey.objects.get(algorithm="ES256")
    assert (str(created.pk), ADDITION) in [h[:2] for h in history]
