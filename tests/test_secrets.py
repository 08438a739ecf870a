"""No response of the site and no log line ever carries private key material or client secrets."""

import logging
import re

import pytest
from django.contrib.auth import get_user_model

from oidc_provider import encryption, keys
from oidc_provider.models import SigningKey

from .factories import ApplicationFactory, ClientProfileFactory, IntrospectorFactory
from .oauth import basic, client_credentials, code_flow

pytestmark = pytest.mark.django_db
SECRET = "s3cret-client-secret"
UNHASHED = "an-unhashed-client-secret-for-hs256-0123456789"


def private_material() -> list[str]:
    """Every private key as PEM lines, base64url private JWK members and the encrypted blobs."""
    found = []
    for key in SigningKey.objects.all():
        pem = encryption.decrypt(key.private_key_encrypted, key.kid).decode()
        found += [line for line in pem.splitlines() if "-----" not in line and len(line) > 20]
        found.append(key.private_key_encrypted)
        private = keys.keyring().keys.get(key.kid)
        if private is not None:
            from jwcrypto import jwk

            exported = jwk.JWK.from_pyca(private.private_key).export_private(as_dict=True)
            found += [exported[m] for m in ("d", "p", "q", "dp", "dq", "qi") if m in exported]
    return found


def test_no_page_or_log_leaks_a_secret(client, caplog):
    caplog.set_level(logging.DEBUG)
    for alg in ("RS256", "ES256", "EdDSA"):
        keys.rotate(alg)
        keys.rotate(alg)  # one key of each state: next, active, retired
    revoked = keys.create_key("PS256", state="active")
    keys.revoke(revoked)
    app = ApplicationFactory()
    hs = ApplicationFactory(hash_client_secret=False, client_secret=UNHASHED)
    ClientProfileFactory(application=hs, id_token_algorithm="HS256")
    service = IntrospectorFactory()
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")

    bodies = []
    body = code_flow(client, app, user, scope="openid profile email")
    bodies.append(str(body))
    bodies.append(str(client_credentials(client, service)))
    for path in (
        "/o/.well-known/jwks.json",
        "/o/.well-known/openid-configuration",
        "/o/.well-known/oauth-authorization-server",
        "/o/token/",  # GET: method not allowed
        "/o/authorize/?client_id=nope&response_type=code",  # error page
        "/api/me",  # 401 without a token
    ):
        bodies.append(client.get(path).content.decode())
    bodies.append(
        client.post(
            "/o/token/", {"grant_type": "client_credentials"}, **basic(service.client_id, "wrong")
        ).content.decode()
    )
    bodies.append(
        client.post(
            "/o/introspect/", {"token": body["access_token"]}, **basic(service.client_id)
        ).content.decode()
    )
    client.force_login(user)
    for path in ["/admin/oidc_provider/signingkey/", "/admin/oauth2_provider/application/"]:
        bodies.append(client.get(path).content.decode())
    for key in SigningKey.objects.all():
        bodies.append(client.get(f"/admin/oidc_provider/signingkey/{key.pk}/change/").content.decode())
    for application in (app, hs, service):
        bodies.append(
            client.get(f"/admin/oauth2_provider/application/{application.pk}/change/").content.decode()
        )
    bodies.append(client.get("/admin/oidc_provider/signingkey/inspect/").content.decode())
    bodies.append(
        client.post("/admin/oidc_provider/signingkey/inspect/", {"token": body["id_token"]}).content.decode()
    )

    haystack = "\n".join(bodies) + "\n".join(r.getMessage() for r in caplog.records)
    assert "BEGIN PRIVATE KEY" not in haystack and "BEGIN RSA PRIVATE KEY" not in haystack
    for material in private_material():
        assert material not in haystack
    assert UNHASHED not in haystack
    assert SECRET not in haystack
    assert not re.search(r'"(d|p|q|dp|dq|qi|k)"\s*:', haystack)
