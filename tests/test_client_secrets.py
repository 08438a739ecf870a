"""The fast client-secret hasher: storage, upgrade from PBKDF2, weak-secret refusal, equal cost."""

from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from oidc_provider import client_secrets
from oidc_provider.client_secrets import ClientSecretHasher

from .factories import ClientCredentialsApplicationFactory, ClientProfileFactory
from .oauth import basic

pytestmark = pytest.mark.django_db
Application = get_application_model()
STRONG = "Xq7vR2mK9pL4sT8wZ1bN6cH3jF5gD0aYeU"  # 34 letters and digits, as a generator makes them
PBKDF2 = "django.contrib.auth.hashers.PBKDF2PasswordHasher"


def token_request(client, app, secret):
    return client.post("/o/token/", {"grant_type": "client_credentials"}, **basic(app.client_id, secret))


def test_hash_is_salted_and_checks_in_constant_time_form():
    first, second = (
        make_password(STRONG, hasher="oidc_client_secret_sha256"),
        make_password(STRONG, hasher="oidc_client_secret_sha256"),
    )
    assert first != second and first.startswith("oidc_client_secret_sha256$")
    assert STRONG not in first
    assert check_password(STRONG, first) and not check_password(STRONG + "x", first)
    assert set(ClientSecretHasher().safe_summary(first)) == {"algorithm", "salt", "hash"}


def test_new_secrets_are_stored_with_the_fast_hasher(client, rsa_key):
    app = ClientCredentialsApplicationFactory(client_secret=STRONG)
    assert identify_hasher(app.client_secret).algorithm == "oidc_client_secret_sha256"
    assert token_request(client, app, STRONG).status_code == 200


def test_pbkdf2_secret_authenticates_once_then_is_stored_with_the_fast_hasher(client, rsa_key, settings):
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, PBKDF2]
    app = ClientCredentialsApplicationFactory(client_secret=make_password(STRONG, hasher="pbkdf2_sha256"))
    assert token_request(client, app, "wrong-" + STRONG).status_code == 401
    app.refresh_from_db()
    assert app.client_secret.startswith("pbkdf2_sha256$")  # a wrong secret changes nothing
    assert token_request(client, app, STRONG).status_code == 200
    app.refresh_from_db()
    assert app.client_secret.startswith("oidc_client_secret_sha256$")
    assert token_request(client, app, STRONG).status_code == 200


def test_weak_pbkdf2_secret_keeps_its_slow_hash(client, rsa_key, settings):
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, PBKDF2]
    app = ClientCredentialsApplicationFactory(client_secret=make_password("hunter2", hasher="pbkdf2_sha256"))
    assert token_request(client, app, "hunter2").status_code == 200
    app.refresh_from_db()
    assert app.client_secret.startswith("pbkdf2_sha256$")


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("s3cret-client-secret", "at least 32"),
        ("correct horse battery staple is my secret!", "characters a secret generator never uses"),
        ("ab" * 20, "too few distinct"),
    ],
)
def test_weak_secrets_are_refused_by_model_validation(secret, reason):
    app = Application(
        name="x",
        client_id="weak",
        client_secret=secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    with pytest.raises(ValidationError) as exc:
        app.full_clean()
    assert reason in str(exc.value.message_dict["client_secret"])


def test_generated_and_already_hashed_secrets_pass_validation():
    client_secrets.validate_client_secret(generate_client_secret())
    client_secrets.validate_client_secret(STRONG)
    client_secrets.validate_client_secret(make_password("short", hasher="oidc_client_secret_sha256"))
    client_secrets.validate_client_secret("")  # public clients


def test_weak_secret_accepted_when_the_site_keeps_the_password_hasher(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "CLIENT_SECRET_HASHER": "default"}
    client_secrets.validate_client_secret("s3cret-client-secret")


def test_admin_refuses_a_weak_secret(admin_client):
    data = {
        "client_id": "admin-weak",
        "user": "",
        "redirect_uris": "",
        "post_logout_redirect_uris": "",
        "allowed_origins": "",
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        "client_secret": "my-own-secret",
        "hash_client_secret": "on",
        "name": "weak",
        "oidc_profile-TOTAL_FORMS": "0",
        "oidc_profile-INITIAL_FORMS": "0",
        "oidc_profile-MIN_NUM_FORMS": "0",
        "oidc_profile-MAX_NUM_FORMS": "1",
    }
    response = admin_client.post("/admin/oauth2_provider/application/add/", data)
    assert response.status_code == 200
    assert "not strong enough for the fast client-secret hasher" in response.content.decode()
    assert not Application.objects.filter(client_id="admin-weak").exists()
    response = admin_client.post(
        "/admin/oauth2_provider/application/add/", {**data, "client_secret": generate_client_secret()}
    )
    assert response.status_code == 302
    assert Application.objects.filter(client_id="admin-weak").exists()


def _count_verifications():
    verify = ClientSecretHasher.verify
    return mock.patch.object(ClientSecretHasher, "verify", autospec=True, side_effect=verify)


def test_unknown_client_runs_the_same_secret_check_as_a_wrong_secret(client, rsa_key):
    app = ClientCredentialsApplicationFactory(client_secret=STRONG)
    with _count_verifications() as known:
        assert token_request(client, app, "wrong").status_code == 401
    unknown_app = Application(client_id="no-such-client")
    with _count_verifications() as unknown:
        assert token_request(client, unknown_app, "wrong").status_code == 401
    assert known.call_count == unknown.call_count == 1


def test_body_secret_is_not_tried_after_a_failed_basic_header(client, rsa_key):
    app = ClientCredentialsApplicationFactory(client_secret=STRONG)
    data = {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": STRONG}
    response = client.post("/o/token/", data, **basic(app.client_id, "wrong"))
    assert response.status_code == 401  # RFC 6749 §2.3: one method per request
    del data["grant_type"]
    assert client.post("/o/token/", {**data, "grant_type": "client_credentials"}).status_code == 200


def test_the_client_row_is_kept_in_the_process_until_it_changes(client, rsa_key):
    app = ClientCredentialsApplicationFactory(client_secret=STRONG)
    ClientProfileFactory(application=app)
    assert token_request(client, app, STRONG).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert token_request(client, app, STRONG).status_code == 200
    assert not [q for q in captured.captured_queries if 'FROM "oauth2_provider_application"' in q["sql"]]
    new_secret = generate_client_secret()
    app.client_secret = new_secret
    app.save()
    assert token_request(client, app, STRONG).status_code == 401
    assert token_request(client, app, new_secret).status_code == 200
    app.delete()
    assert token_request(client, app, new_secret).status_code == 401


def test_unknown_and_known_client_ids_cost_the_same_queries(client, rsa_key, django_assert_num_queries):
    app = ClientCredentialsApplicationFactory(client_secret=STRONG)
    ClientProfileFactory(application=app)
    unknown_app = Application(client_id="no-such-client")
    assert token_request(client, app, "wrong").status_code == 401
    assert token_request(client, unknown_app, "wrong").status_code == 401
    for candidate in (app, unknown_app):
        with django_assert_num_queries(0):
            assert token_request(client, candidate, "wrong").status_code == 401
