"""OIDCValidator rules beyond DOT's: deactivated users, loopback redirect URIs, HS256 ID tokens."""

from urllib.parse import parse_qs, urlsplit

import pytest

from .factories import ApplicationFactory, SigningKeyFactory, UserFactory
from .oauth import authorize, basic, code_flow, exchange_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _key(db):
    SigningKeyFactory(algorithm="RS256")


def _deactivate(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


def test_refresh_for_a_deactivated_user_is_invalid_grant(client):
    user, app = UserFactory(), ApplicationFactory()
    tokens = code_flow(client, app, user, scope="openid read")
    _deactivate(user)
    response = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        **basic(app.client_id),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_code_issued_before_deactivation_is_invalid_grant(client):
    user, app = UserFactory(), ApplicationFactory()
    client.force_login(user)
    code, verifier = authorize(client, app)
    _deactivate(user)
    response = exchange_code(client, app, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_prompt_none_for_a_deactivated_user_is_login_required(client):
    user, app = UserFactory(), ApplicationFactory()
    client.force_login(user)
    _deactivate(user)
    response = client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uris,
            "scope": "openid",
            "prompt": "none",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["login_required"]
