import json
import time
from datetime import timedelta
from unittest.mock import patch

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from oidc_provider import encryption, keys, versions
from oidc_provider.models import DataVersion, SigningKey
from oidc_provider.signals import key_rotated

from .factories import ClientProfileFactory, SigningKeyFactory

pytestmark = pytest.mark.django_db

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


@pytest.mark.parametrize(
    ("alg", "kty", "crv"),
    [("RS256", "RSA", None), ("PS256", "RSA", None), ("ES256", "EC", "P-256"), ("EdDSA", "OKP", "Ed25519")],
)
def test_create_key_publishes_thumbprint_kid_and_hides_private_key(alg, kty, crv):
    key = keys.create_key(alg)
    assert key.state == SigningKey.State.NEXT
    assert key.public_jwk["kty"] == kty and key.public_jwk.get("crv") == crv
    assert key.public_jwk["kid"] == key.kid and key.public_jwk["alg"] == alg
    assert not PRIVATE_MEMBERS & set(key.public_jwk)
    assert b"PRIVATE KEY" not in key.private_key_encrypted.encode()  # encrypted at rest
    pem = encryption.decrypt(key.private_key_encrypted, key.kid)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_rsa_keys_are_at_least_2048_bits(settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "RSA_KEY_SIZE": 1024}
    loaded = keys.LoadedKey(keys.create_key("RS256"))
    assert loaded.public_key.key_size == 2048


def test_rotation_moves_every_key_one_step():
    first = keys.rotate("ES256")  # bootstrap: no next existed
    assert first.retired is None and first.activated.state == "active" and first.created.state == "next"
    second = keys.rotate("ES256")
    assert second.retired.kid == first.activated.kid
    assert second.activated.kid == first.created.kid  # the published next key starts signing
    states = dict(SigningKey.objects.values_list("kid", "state"))
    assert states == {
        first.activated.kid: "retired",
        first.created.kid: "active",
        second.created.kid: "next",
    }


def test_retired_key_is_published_until_its_longest_token_expired(settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "KEY_RETIRE_LEEWAY": 60}
    ClientProfileFactory(access_token_lifetime=7200)
    keys.rotate("ES256")
    result = keys.rotate("ES256")
    retired = SigningKey.objects.get(kid=result.retired.kid)
    assert retired.expires_at == retired.retired_at + timedelta(seconds=7200 + 60)


def test_concurrent_rotation_with_the_same_expectation_rotates_once():
    keys.rotate("ES256")
    active = SigningKey.objects.get(algorithm="ES256", state="active").kid
    assert keys.rotate("ES256", expected_active=active).performed
    late = keys.rotate("ES256", expected_active=active)
    assert not late.performed
    assert SigningKey.objects.filter(algorithm="ES256", state="retired").count() == 1


def test_only_one_active_key_per_algorithm_is_possible():
    keys.create_key("ES256", state="active")
    with pytest.raises(Exception):
        from django.db import transaction

        with transaction.atomic():
            keys.create_key("ES256", state="active")


def test_rotated_signal_is_sent(django_capture_on_commit_callbacks):
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    key_rotated.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = keys.rotate("RS256")
    finally:
        key_rotated.disconnect(receiver)
    assert seen and seen[0]["activated"].kid == result.activated.kid and seen[0]["algorithm"] == "RS256"


def test_rotate_if_due(settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "KEY_ROTATION_PERIOD": 3600}
    keys.rotate("ES256")
    assert keys.rotate_if_due("ES256") is None
    SigningKey.objects.filter(state="active").update(activated_at=timezone.now() - timedelta(hours=2))
    assert keys.rotate_if_due("ES256").performed


def test_revoke_and_prune():
    keys.rotate("ES256")
    result = keys.rotate("ES256")
    keys.revoke(result.activated)
    SigningKey.objects.filter(kid=result.retired.kid).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert keys.prune() == 2
    assert sorted(SigningKey.objects.values_list("state", flat=True)) == ["active", "next"]


def states(alg="ES256"):
    return {k.kid: k.state for k in SigningKey.objects.filter(algorithm=alg)}


@pytest.mark.parametrize("operation", [keys.revoke, keys.retire])
def test_revoking_or_retiring_the_active_key_promotes_next_in_the_same_transaction(
    operation, django_assert_max_num_queries
):
    first = keys.rotate("ES256")
    active, nxt = first.activated, first.created
    operation(SigningKey.objects.get(kid=active.kid))
    now = states()
    assert now[active.kid] == ("revoked" if operation is keys.revoke else "retired")
    assert now[nxt.kid] == "active"  # the published successor signs at once: no outage
    assert sorted(now.values()).count("next") == 1  # and a new successor is published
    assert keys.keyring().signing_key("ES256").kid == nxt.kid


def test_revoking_the_only_key_generates_a_new_active_and_next():
    only = SigningKeyFactory(algorithm="ES256", state="active")
    keys.revoke(only)
    now = states()
    assert now.pop(only.kid) == "revoked"
    assert sorted(now.values()) == ["active", "next"]


def test_revoking_the_next_key_publishes_another_and_keeps_the_active_one():
    first = keys.rotate("ES256")
    keys.revoke(SigningKey.objects.get(kid=first.created.kid))
    now = states()
    assert now[first.activated.kid] == "active" and now[first.created.kid] == "revoked"
    assert list(now.values()).count("next") == 1


def test_a_failed_replacement_rolls_the_revocation_back(monkeypatch):
    only = SigningKeyFactory(algorithm="ES256", state="active")

    def fail(*args, **kwargs):
        raise keys.KeyOperationError("no entropy today")

    monkeypatch.setattr(keys, "create_key", fail)
    with pytest.raises(keys.KeyOperationError):
        keys.revoke(only)
    assert SigningKey.objects.get(pk=only.pk).state == "active"


def test_retire_refuses_a_revoked_key():
    key = SigningKeyFactory(algorithm="ES256", state="active")
    keys.revoke(key)
    with pytest.raises(keys.KeyOperationError, match="only next or active"):
        keys.retire(key)


def test_wrong_encryption_key_names_the_kid(settings):
    key = SigningKeyFactory(algorithm="ES256")
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "ENCRYPTION_KEYS": [Fernet.generate_key()]}
    keys.clear_local_cache()
    with pytest.raises(encryption.KeyDecryptionError, match=key.kid):
        keys.keyring().signing_key("ES256").private_key  # noqa: B018


def test_wrong_encryption_key_is_a_clean_json_error_at_the_token_endpoint(client, settings, caplog):
    from .factories import ClientCredentialsApplicationFactory
    from .oauth import basic

    key = SigningKeyFactory(algorithm="RS256")
    app = ClientCredentialsApplicationFactory()
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "ENCRYPTION_KEYS": [Fernet.generate_key().decode()]}
    keys.clear_local_cache()
    response = client.post("/o/token/", {"grant_type": "client_credentials"}, **basic(app.client_id))
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    assert response.json()["error"] == "temporarily_unavailable"
    assert "Traceback" not in response.content.decode() and key.kid not in response.content.decode()
    assert any(key.kid in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


def test_encryption_key_rotation_with_reencrypt(settings):
    key = SigningKeyFactory(algorithm="ES256")
    old = settings.OIDC_PROVIDER["ENCRYPTION_KEYS"][0]
    new = Fernet.generate_key().decode()
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "ENCRYPTION_KEYS": [new, old]}
    assert keys.reencrypt_all() == 1
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "ENCRYPTION_KEYS": [new]}
    key.refresh_from_db()
    assert encryption.decrypt(key.private_key_encrypted, key.kid).startswith(b"-----BEGIN")


def test_derived_encryption_key_without_settings(settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "ENCRYPTION_KEYS": []}
    key = keys.create_key("ES256")
    assert encryption.decrypt(key.private_key_encrypted, key.kid).startswith(b"-----BEGIN")


# -- key ring and cross-process invalidation -----------------------------------------------


def test_key_ring_is_served_without_queries_when_warm(django_assert_num_queries, es_key):
    keys.keyring()
    with django_assert_num_queries(0):
        ring = keys.keyring()
    assert es_key.kid in ring.keys and ring.active["ES256"].kid == es_key.kid


def test_change_in_another_process_is_seen_through_the_shared_cache(settings, es_key):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "KEY_CACHE_CHECK_INTERVAL": 0}
    ring = keys.keyring()
    assert es_key.kid in ring.keys
    # Simulate another process: it changes the row and bumps the shared stamp; our ring is untouched.
    SigningKey.objects.filter(pk=es_key.pk).update(state="revoked")
    assert es_key.kid in keys.keyring().keys  # same version: still the cached ring
    cache.set(versions.STAMP_PREFIX + keys.VERSION_NAME, "bumped-by-other-process", None)
    assert es_key.kid not in keys.keyring().keys


def test_change_in_another_process_is_seen_through_the_database_without_a_shared_cache(
    settings, es_key, django_assert_num_queries
):
    """LocMemCache: the other process's cache stamp never reaches us; the database counter does."""
    clock = [time.monotonic()]
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "KEY_CACHE_CHECK_INTERVAL": 5}
    with patch.object(versions.time, "monotonic", lambda: clock[0]):
        assert es_key.kid in keys.keyring().keys
        SigningKey.objects.filter(pk=es_key.pk).update(state="revoked")
        DataVersion.objects.filter(name=keys.VERSION_NAME).update(version=F("version") + 1)
        with django_assert_num_queries(0):  # within the interval: no query, the old ring
            assert es_key.kid in keys.keyring().keys
        clock[0] += 5
        with django_assert_num_queries(2):  # the version, then the keys
            assert es_key.kid not in keys.keyring().keys


def test_saving_a_key_bumps_the_version_in_its_transaction(django_capture_on_commit_callbacks, es_key):
    keys.keyring()
    before = versions.read(keys.VERSION_NAME)
    with django_capture_on_commit_callbacks(execute=True):
        keys.revoke(es_key)
    assert versions.read(keys.VERSION_NAME).split(":")[0] != before.split(":")[0]
    assert cache.get(versions.STAMP_PREFIX + keys.VERSION_NAME) != before.split(":")[1]
    assert es_key.kid not in keys.keyring().keys


def test_no_active_key_is_a_clear_error():
    with pytest.raises(keys.NoActiveKey, match="oidc_keys create --alg ES256"):
        keys.keyring().signing_key("ES256")


# -- JWKS view ------------------------------------------------------------------------------


def test_jwks_lists_next_active_retired_but_not_revoked(client):
    keys.rotate("ES256")
    rotation = keys.rotate("ES256")
    revoked = SigningKeyFactory(algorithm="RS256", state="next")
    SigningKey.objects.filter(pk=revoked.pk).update(state="revoked")
    keys.clear_local_cache()
    response = client.get("/o/.well-known/jwks.json")
    assert response.status_code == 200
    kids = {k["kid"] for k in response.json()["keys"]}
    assert kids == {rotation.retired.kid, rotation.activated.kid, rotation.created.kid}
    for member in response.json()["keys"]:
        assert member["use"] == "sig" and member["alg"] == "ES256" and member["kid"]
        assert not PRIVATE_MEMBERS & set(member)


def test_expired_retired_key_leaves_the_jwks(client):
    keys.rotate("ES256")
    rotation = keys.rotate("ES256")
    SigningKey.objects.filter(kid=rotation.retired.kid).update(expires_at=timezone.now())
    keys.clear_local_cache()
    kids = {k["kid"] for k in client.get("/o/.well-known/jwks.json").json()["keys"]}
    assert rotation.retired.kid not in kids


def test_jwks_headers_and_304(client, settings, es_key):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "JWKS_MAX_AGE": 120}
    first = client.get("/o/.well-known/jwks.json")
    assert first["Cache-Control"] == "public, max-age=120"
    assert first["ETag"].startswith('"') and first["Access-Control-Allow-Origin"] == "*"
    again = client.get("/o/.well-known/jwks.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    stale = client.get("/o/.well-known/jwks.json", HTTP_IF_NONE_MATCH='"other"')
    assert stale.status_code == 200


def test_jwks_warm_path_does_no_query(client, django_assert_num_queries, es_key):
    client.get("/o/.well-known/jwks.json")
    with django_assert_num_queries(0):
        assert client.get("/o/.well-known/jwks.json").status_code == 200


# -- management command ---------------------------------------------------------------------


def test_command_create_rotate_list_prune(capsys):
    call_command("oidc_keys", "create", "--alg", "ES256")
    # README: an active key and a pre-published next key when none exist.
    assert sorted(SigningKey.objects.values_list("state", flat=True)) == ["active", "next"]
    with pytest.raises(CommandError, match="The next ES256 key exists already"):
        call_command("oidc_keys", "create", "--alg", "ES256")
    with pytest.raises(CommandError, match="The active ES256 key exists already"):
        call_command("oidc_keys", "create", "--alg", "ES256", "--state", "active")
    call_command("oidc_keys", "rotate")
    call_command("oidc_keys", "list")
    out = capsys.readouterr().out
    assert "ES256: active" in out and "retired" in out and "KID" in out
    call_command("oidc_keys", "prune")
    call_command("oidc_keys", "reencrypt")
    assert "Re-encrypted 3 key(s)." in capsys.readouterr().out


def test_command_create_adds_only_the_missing_key():
    SigningKeyFactory(algorithm="ES256", state="active")
    call_command("oidc_keys", "create", "--alg", "ES256")
    assert sorted(SigningKey.objects.values_list("state", flat=True)) == ["active", "next"]


def test_command_revoke_and_retire_by_kid(capsys):
    first = keys.rotate("ES256")
    call_command("oidc_keys", "revoke", first.activated.kid)
    out = capsys.readouterr().out
    assert f"Revoked {first.activated.kid}" in out and f"ES256 signs with {first.created.kid}" in out
    assert states()[first.created.kid] == "active"
    call_command("oidc_keys", "retire", first.created.kid)
    assert states()[first.created.kid] == "retired"
    with pytest.raises(CommandError, match="already revoked"):
        call_command("oidc_keys", "revoke", first.activated.kid)
    with pytest.raises(CommandError, match="No signing key 'nope'"):
        call_command("oidc_keys", "revoke", "nope")


def test_rotate_if_due_without_a_period_fails_loudly(settings):
    keys.rotate("ES256")
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "KEY_ROTATION_PERIOD": None}
    with pytest.raises(CommandError, match="KEY_ROTATION_PERIOD"):
        call_command("oidc_keys", "rotate", "--if-due")


def test_command_errors_are_clear_and_leave_keys_intact(tmp_path):
    with pytest.raises(CommandError, match="No keys to rotate"):
        call_command("oidc_keys", "rotate")
    bad = tmp_path / "bad.pem"
    bad.write_text("not a pem")
    with pytest.raises(CommandError, match="Not a valid unencrypted PEM"):
        call_command("oidc_keys", "create", "--alg", "RS256", "--from-pem", str(bad))
    small = tmp_path / "small.pem"
    small.write_bytes(_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    with pytest.raises(CommandError, match="at least 2048"):
        call_command("oidc_keys", "create", "--alg", "RS256", "--from-pem", str(small))
    wrong = tmp_path / "ec.pem"
    wrong.write_bytes(_pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(CommandError, match="cannot be used with RS256"):
        call_command("oidc_keys", "create", "--alg", "RS256", "--from-pem", str(wrong))
    assert SigningKey.objects.count() == 0


def test_command_imports_a_pem(tmp_path):
    path = tmp_path / "ec.pem"
    private = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(_pem(private))
    call_command("oidc_keys", "create", "--alg", "ES256", "--from-pem", str(path))
    stored = keys.keyring().signing_key("ES256")
    assert stored.public_key.public_numbers() == private.public_key().public_numbers()


def _pem(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_public_jwk_round_trips_as_json(es_key):
    assert json.loads(json.dumps(es_key.public_jwk)) == es_key.public_jwk


@pytest.mark.django_db(transaction=True)
def test_parallel_rotations_on_postgresql_rotate_once():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (make test runs it against PostgreSQL)")
    keys.rotate("ES256")
    active = SigningKey.objects.get(algorithm="ES256", state="active").kid

    def rotate(_):
        try:
            return keys.rotate("ES256", expected_active=active).performed
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(rotate, range(6)))
    assert results.count(True) == 1
    assert SigningKey.objects.filter(algorithm="ES256", state="active").count() == 1
    assert SigningKey.objects.filter(algorithm="ES256", state="retired").count() == 1
    assert SigningKey.objects.filter(algorithm="ES256", state="next").count() == 1
