import logging
import time

import pytest
from django.urls import reverse
from oauth2_provider.models import get_access_token_model

from oidc_provider import jose, keys
from oidc_provider.inspector import inspect_token

from .conftest import basic_auth
from .factories import ClientCredentialsApplicationFactory, UserFactory

URL = "/admin/oidc_provider/signingkey/inspect/"


@pytest.fixture
def staff_client(client, db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.fixture
def access_token(client, signing_keys):
    app = ClientCredentialsApplicationFactory()
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "read"},
        HTTP_AUTHORIZATION=basic_auth(app.client_id),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def _results(token):
    return {c.name: c for c in inspect_token(token)["checks"]}


def test_url_is_linked_from_the_keys_changelist(staff_client):
    assert reverse("admin:oidc_provider_signingkey_inspect") == URL
    response = staff_client.get("/admin/oidc_provider/signingkey/")
    assert URL in response.content.decode()


@pytest.mark.django_db
def test_non_staff_are_sent_to_the_login_page(client):
    client.force_login(UserFactory(is_staff=False))
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.post(URL, {"token": "x.y.z"}).status_code == 302


def test_valid_access_token_lists_every_check(staff_client, access_token, signing_keys):
    response = staff_client.post(URL, {"token": access_token})
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("format", "key", "signature", "typ", "iss", "aud", "exp", "nbf / iat", "revoked"):
        assert f'<th scope="row">{name}</th>' in body
    assert "Valid: access token (RFC 9068)" in body
    assert signing_keys["RS256"].kid in body
    assert "FAIL" not in body


def test_token_is_not_echoed_or_logged(staff_client, access_token, caplog):
    signature = access_token.rsplit(".", 1)[1]
    with caplog.at_level(logging.DEBUG):
        response = staff_client.post(URL, {"token": access_token})
        tampered = staff_client.post(URL, {"token": access_token[:-4] + "AAAA"})
    for r in (response, tampered):
        assert signature not in r.content.decode()
        assert access_token[:-4] not in r.content.decode()
    assert access_token[:40] not in caplog.text


def test_revoked_access_token_fails_only_the_revoked_check(client, access_token, signing_keys):
    app = get_access_token_model().objects.get().application
    revoked = client.post(
        "/o/revoke_token/", {"token": access_token}, HTTP_AUTHORIZATION=basic_auth(app.client_id)
    )
    assert revoked.status_code == 200
    results = _results(access_token)
    assert results["revoked"].ok is False
    assert results["signature"].ok and results["exp"].ok and results["iss"].ok
    assert inspect_token(access_token)["valid"] is False


def test_tampered_signature_skips_the_claim_checks(db, access_token, signing_keys):
    header, payload, _ = access_token.split(".")
    forged = f"{header}.{payload}.{jose.b64encode(b'x' * 256)}"
    results = _results(forged)
    assert results["signature"].ok is False
    assert results["iss"].ok is None and results["exp"].ok is None
    assert inspect_token(forged)["reason"] == "Token signature is invalid."


def test_expired_token_fails_exp_only(db, signing_keys):
    key = keys.keyring().signing_key("RS256")
    now = int(time.time())
    claims = {
        "iss": "https://testserver/o",
        "aud": "https://api.example.com",
        "sub": "1",
        "client_id": "nobody",
        "iat": now - 7200,
        "exp": now - 3600,
        "jti": "j1",
    }
    token = jose.sign(claims, key.private_key, "RS256", kid=key.kid, typ="at+jwt")
    results = _results(token)
    assert results["exp"].ok is False and results["exp"].detail == "Token has expired."
    assert results["nbf / iat"].ok and results["iss"].ok and results["aud"].ok and results["typ"].ok


def test_future_nbf_fails_nbf_but_not_exp(db, signing_keys):
    key = keys.keyring().signing_key("RS256")
    now = int(time.time())
    claims = {"iss": "https://testserver/o", "aud": "https://api.example.com", "sub": "1", "iat": now}
    claims.update(exp=now + 7200, nbf=now + 3600, jti="j2")
    results = _results(jose.sign(claims, key.private_key, "RS256", kid=key.kid, typ="at+jwt"))
    assert results["nbf / iat"].ok is False
    assert results["exp"].ok is True


def test_revoked_signing_key_is_named(db, access_token, signing_keys):
    keys.revoke(signing_keys["RS256"])
    keys.clear_local_cache()
    result = inspect_token(access_token)
    assert result["key"]["state"] == "revoked" and result["key"]["published"] is False
    assert {c.name: c.ok for c in result["checks"]}["signature"] is False


@pytest.mark.parametrize("garbage", ["", "not a token", "a.b", "eyJhbGciOiJub25lIn0.e30.", "x" * 9000])
def test_garbage_is_a_format_failure_not_an_error(staff_client, garbage):
    response = staff_client.post(URL, {"token": garbage})
    assert response.status_code == 200
    if garbage:
        assert "Rejected:" in response.content.decode()


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "auth_time"])
@pytest.mark.parametrize("value", [1e20, 253402300800, -1e20, 10**30])
def test_times_out_of_datetime_range_are_shown_not_a_500(staff_client, signing_keys, claim, value):
    from .test_attacks import mint

    token = mint(signing_keys["RS256"], **{claim: value})
    response = staff_client.post(URL, {"token": token})
    assert response.status_code == 200
    times = dict(response.context["result"]["times"])
    assert "out of range" in times[claim]


@pytest.mark.parametrize("value", ["Infinity", "NaN", "1e400"])
def test_non_json_numbers_are_a_format_error(staff_client, signing_keys, value):
    from .test_attacks import b64

    header = b64({"alg": "RS256", "typ": "at+jwt", "kid": signing_keys["RS256"].kid})
    payload = b64(f'{{"sub":"1","exp":{value}}}'.encode())
    response = staff_client.post(URL, {"token": f"{header}.{payload}.c2ln"})
    assert response.status_code == 200
    result = response.context["result"]
    assert result["valid"] is False and result["checks"][0].name == "format"
