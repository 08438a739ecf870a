import json

import pytest
from django.contrib.auth import get_user_model

from oidc_provider.models import ClientProfile, SigningKey

from .factories import ApplicationFactory, SigningKeyFactory

pytestmark = pytest.mark.django_db
KEYS = "/admin/oidc_provider/signingkey/"
PRIVATE_MARKERS = ("PRIVATE KEY", '"d":', "private_key_encrypted")


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(admin)
    return client


def _no_private_material(body: str, key: SigningKey) -> None:
    for marker in PRIVATE_MARKERS:
        assert marker not in body
    assert key.private_key_encrypted not in body


def test_key_list_and_detail_show_public_parts_only(admin_client):
    key = SigningKeyFactory(algorithm="ES256")
    listing = admin_client.get(KEYS).content.decode()
    assert key.kid in listing and "ES256" in listing
    detail = admin_client.get(f"{KEYS}{key.pk}/change/").content.decode()
    assert "BEGIN PUBLIC KEY" in detail and key.public_jwk["x"] in detail
    _no_private_material(listing + detail, key)


def test_generate_key_from_the_add_form(admin_client):
    response = admin_client.post(
        f"{KEYS}add/", {"algorithm": "ES256", "state": "active", "private_key_pem": ""}
    )
    assert response.status_code == 302
    key = SigningKey.objects.get()
    assert key.state == "active" and key.kid == key.public_jwk["kid"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"algorithm": "RS256", "state": "next", "private_key_pem": "garbage"},
            "Not a valid unencrypted PEM",
        ),
        ({"algorithm": "XX999", "state": "next", "private_key_pem": ""}, "Select a valid choice"),
        ({"algorithm": "ES256", "state": "retired", "private_key_pem": ""}, "starts as next or active"),
    ],
)
def test_bad_key_input_is_a_form_error(admin_client, data, message):
    response = admin_client.post(f"{KEYS}add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert SigningKey.objects.count() == 0


def test_second_active_key_is_refused(admin_client):
    SigningKeyFactory(algorithm="ES256")
    response = admin_client.post(f"{KEYS}add/", {"algorithm": "ES256", "state": "active"})
    assert "rotate instead" in response.content.decode()
    assert SigningKey.objects.count() == 1


def test_rotate_action_asks_for_confirmation_then_rotates(admin_client):
    key = SigningKeyFactory(algorithm="ES256")
    data = {"action": "rotate_now", "_selected_action": [key.pk]}
    confirm = admin_client.post(KEYS, data)
    assert confirm.status_code == 200 and "Yes, I" in confirm.content.decode()
    assert SigningKey.objects.get(pk=key.pk).state == "active"
    done = admin_client.post(KEYS, {**data, "post": "yes"}, follow=True)
    assert "now signs" in done.content.decode()
    assert SigningKey.objects.get(pk=key.pk).state == "retired"
    assert SigningKey.objects.filter(algorithm="ES256", state="active").exists()


def test_revoke_action(admin_client):
    key = SigningKeyFactory(algorithm="ES256")
    admin_client.post(KEYS, {"action": "revoke_keys", "_selected_action": [key.pk], "post": "yes"})
    assert SigningKey.objects.get(pk=key.pk).state == "revoked"


def test_bulk_delete_refuses_active_and_next_keys_and_offers_revoke(admin_client):
    from oidc_provider import keys

    keys.rotate("ES256")
    rotation = keys.rotate("ES256")
    every = list(SigningKey.objects.values_list("pk", flat=True))
    data = {"action": "delete_selected", "_selected_action": every}
    response = admin_client.post(KEYS, data, follow=True)
    assert "cannot be deleted" in response.content.decode() and "Revoke" in response.content.decode()
    admin_client.post(KEYS, {**data, "post": "yes"})
    assert SigningKey.objects.count() == 3  # nothing deleted
    retired = SigningKey.objects.get(kid=rotation.retired.kid)
    admin_client.post(KEYS, {"action": "delete_selected", "_selected_action": [retired.pk], "post": "yes"})
    assert not SigningKey.objects.filter(pk=retired.pk).exists()


def test_the_delete_page_of_the_active_key_is_refused(admin_client):
    key = SigningKeyFactory(algorithm="ES256", state="active")
    assert admin_client.post(f"{KEYS}{key.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SigningKey.objects.filter(pk=key.pk).exists()


def test_private_fields_cannot_be_changed(admin_client):
    key = SigningKeyFactory(algorithm="ES256")
    before = key.private_key_encrypted
    admin_client.post(f"{KEYS}{key.pk}/change/", {"state": "revoked", "private_key_encrypted": "x"})
    key.refresh_from_db()
    assert key.private_key_encrypted == before and key.state == "active"


# -- clients ----------------------------------------------------------------------------------

APP_URL = "/admin/oauth2_provider/application/"


def _application_form(app, **profile):
    data = {
        "client_id": app.client_id,
        "user": "",
        "redirect_uris": app.redirect_uris,
        "post_logout_redirect_uris": "",
        "allowed_origins": "",
        "client_type": app.client_type,
        "authorization_grant_type": app.authorization_grant_type,
        "client_secret": "",
        "hash_client_secret": "on",
        "name": app.name,
        "algorithm": app.algorithm,
        "skip_authorization": "on",
        "oidc_profile-TOTAL_FORMS": "1",
        "oidc_profile-INITIAL_FORMS": "0",
        "oidc_profile-MIN_NUM_FORMS": "0",
        "oidc_profile-MAX_NUM_FORMS": "1",
        "oidc_profile-0-access_token_format": "jwt",
        "oidc_profile-0-audiences": "",
        "oidc_profile-0-id_token_algorithm": "RS256",
        "oidc_profile-0-token_endpoint_auth_method": "",
        "oidc_profile-0-client_jwks": "",
        "oidc_profile-0-client_jwks_uri": "",
        "oidc_profile-0-allowed_scopes": "",
    }
    data.update({f"oidc_profile-0-{k}": v for k, v in profile.items()})
    return data


def test_application_admin_shows_profile_inline_and_endpoints(admin_client):
    app = ApplicationFactory()
    body = admin_client.get(f"{APP_URL}{app.pk}/change/").content.decode()
    assert "OpenID Connect / JWT settings" in body
    assert "/o/.well-known/openid-configuration" in body and "https://testserver/o" in body


def test_application_admin_saves_profile(admin_client):
    app = ApplicationFactory()
    data = _application_form(
        app,
        audiences="https://api.example.com\r\n\r\n  https://two.example.com  ",
        access_token_lifetime="120",
    )
    response = admin_client.post(f"{APP_URL}{app.pk}/change/", data)
    assert response.status_code == 302, [
        response.context["adminform"].form.errors,
        response.context["inline_admin_formsets"][0].formset.errors,
    ]
    profile = ClientProfile.objects.get(application=app)
    assert profile.audiences == ["https://api.example.com", "https://two.example.com"]
    assert profile.access_token_lifetime == 120
    before = app.client_secret
    app.refresh_from_db()
    assert app.client_secret == before  # an empty secret field keeps the stored secret


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"audiences": "not a uri"}, "Not an absolute URI"),
        ({"audiences": "https://api.example.com\nftp://files.example.com"}, "Not an absolute URI: ftp://"),
        ({"id_token_algorithm": "none"}, "Select a valid choice"),
        ({"client_jwks": "{not json"}, "Not valid JSON"),
        ({"client_jwks": json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})}, "private or symmetric"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "needs the client"),
    ],
)
def test_bad_client_input_is_a_form_error(admin_client, profile, message):
    app = ApplicationFactory()
    response = admin_client.post(f"{APP_URL}{app.pk}/change/", _application_form(app, **profile))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ClientProfile.objects.filter(application=app).exists()


def test_malformed_redirect_uri_is_a_form_error(admin_client):
    app = ApplicationFactory()
    data = _application_form(app)
    data["redirect_uris"] = "not-a-uri"
    response = admin_client.post(f"{APP_URL}{app.pk}/change/", data)
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def _pem(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _unsupported_curve_pem() -> str:
    """An EC private key on a curve OpenSSL does not know (OID 1.3.6.1.4.1.99999.1)."""
    import base64

    oid = bytes.fromhex("06092b0601040186 8d1f01".replace(" ", ""))
    private = b"\x04\x20" + b"\x01" * 32
    body = b"\x02\x01\x01" + private + b"\xa0" + bytes([len(oid)]) + oid
    der = b"\x30" + bytes([len(body)]) + body
    text = base64.encodebytes(der).decode()
    return f"-----BEGIN EC PRIVATE KEY-----\n{text}-----END EC PRIVATE KEY-----\n"


@pytest.mark.parametrize("kind", ["ed448", "x25519", "secp256k1", "unknown-curve", "rsa-1024"])
def test_unsupported_key_types_and_curves_are_form_errors(admin_client, kind):
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa, x25519

    pem = {
        "ed448": lambda: _pem(ed448.Ed448PrivateKey.generate()),
        "x25519": lambda: _pem(x25519.X25519PrivateKey.generate()),
        "secp256k1": lambda: _pem(ec.generate_private_key(ec.SECP256K1())),
        "unknown-curve": _unsupported_curve_pem,
        "rsa-1024": lambda: _pem(rsa.generate_private_key(65537, 1024)),
    }[kind]()
    response = admin_client.post(
        f"{KEYS}add/", {"algorithm": "ES256", "state": "next", "private_key_pem": pem}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["private_key_pem"]
    assert SigningKey.objects.count() == 0


@pytest.mark.parametrize("valid_key", [False, True])
def test_a_pasted_private_key_is_never_rendered_back(admin_client, valid_key):
    from cryptography.hazmat.primitives.asymmetric import ec

    if valid_key:
        SigningKeyFactory(algorithm="ES256")  # the form fails on state instead
        pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    else:
        pem = _pem(ec.generate_private_key(ec.SECP384R1()))  # not a P-256 key
    response = admin_client.post(
        f"{KEYS}add/", {"algorithm": "ES256", "state": "active", "private_key_pem": pem}
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors
    body = response.content.decode()
    assert "PRIVATE KEY" not in body
    assert pem.splitlines()[1] not in body


def test_client_fields_are_friendly_not_raw_json(admin_client, rsa_key):
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwcrypto import jwk

    from .factories import ClientProfileFactory

    member = jwk.JWK.from_pyca(ec.generate_private_key(ec.SECP256R1()).public_key()).export_public(
        as_dict=True
    )
    member.update(kid="client-key-1", alg="ES256")
    app = ApplicationFactory()
    ClientProfileFactory(
        application=app,
        audiences=["https://a.example.com", "https://b.example.com"],
        client_jwks={"keys": [member]},
    )
    page = admin_client.get(f"{APP_URL}{app.pk}/change/")
    body = page.content.decode()
    assert "https://a.example.com\nhttps://b.example.com</textarea>" in body  # one URI per line
    assert "client-key-1 (EC, P-256, ES256)" in body  # the kids preview
    assert "[&quot;https://a.example.com" not in body

    empty = ApplicationFactory()
    ClientProfileFactory(application=empty)
    body = admin_client.get(f"{APP_URL}{empty.pk}/change/").content.decode()
    assert ">null</textarea>" not in body and ">[]</textarea>" not in body
    assert "No keys." in body

    # A failed save shows what was typed, still one per line.
    data = _application_form(empty, audiences="https://ok.example.com\nnot-a-uri")
    data.update({"oidc_profile-INITIAL_FORMS": "1", "oidc_profile-0-id": str(empty.oidc_profile.pk)})
    data["oidc_profile-0-application"] = str(empty.pk)
    again = admin_client.post(f"{APP_URL}{empty.pk}/change/", data).content.decode()
    assert "https://ok.example.com\nnot-a-uri</textarea>" in again


def test_hs256_client_configured_in_the_admin_gets_hs256_id_tokens(admin_client, client):
    import jwt

    from .factories import UserFactory
    from .oauth import code_flow

    SigningKeyFactory(algorithm="RS256")
    secret = "an-unhashed-client-secret-of-40-bytes-xx"
    app = ApplicationFactory()
    data = _application_form(app, id_token_algorithm="HS256")
    data.update(client_secret=secret, hash_client_secret="")
    response = admin_client.post(f"{APP_URL}{app.pk}/change/", data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    app.refresh_from_db()
    body = code_flow(client, app, UserFactory(), secret=secret)
    assert jwt.decode(body["id_token"], secret, algorithms=["HS256"], audience=app.client_id)


@pytest.mark.parametrize(
    ("secret", "hashed", "message"),
    [("short-secret", "", "at least 32 bytes"), ("x" * 40, "on", "stored unhashed")],
)
def test_hs256_needs_an_unhashed_secret_of_32_bytes(admin_client, secret, hashed, message):
    app = ApplicationFactory()
    data = _application_form(app, id_token_algorithm="HS256")
    data.update(client_secret=secret, hash_client_secret=hashed)
    response = admin_client.post(f"{APP_URL}{app.pk}/change/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ClientProfile.objects.filter(application=app).exists()
