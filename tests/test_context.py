"""The issuance context (``oidc_provider.context``): the one object a token request carries.

oauthlib's request answers any attribute a client sent as a body parameter, so state kept as
ad-hoc request attributes could be supplied by the client itself.
"""

import pytest
from oauthlib.common import Request

from oidc_provider.context import IssuanceContext, issuance

from .factories import ApplicationFactory, UserFactory
from .oauth import authorize, basic, verify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keys(signing_keys):
    return signing_keys


def test_issuance_is_attached_once_and_never_read_from_client_parameters():
    request = Request("https://testserver/o/token/", "POST", body="_oidc_issuance=x&auth_time=1")
    context = issuance(request)
    assert isinstance(context, IssuanceContext)
    assert issuance(request) is context
    assert context.auth_time is None and context.grant is None


@pytest.mark.parametrize(
    "param",
    [
        "oidc_grant",
        "oidc_context",
        "oidc_access_token",
        "oidc_token_family",
        "oidc_access_token_exp",
        "auth_time",
    ],
)
def test_state_names_sent_by_the_client_change_nothing(client, jwks, settings, param):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "REQUIRE_OFFLINE_ACCESS_FOR_REFRESH": True}
    app, user = ApplicationFactory(), UserFactory()
    client.force_login(user)
    code, verifier = authorize(client, app)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://rp.example.com/callback",
        "code_verifier": verifier,
        param: "1",
    }
    response = client.post("/o/token/", data, **basic(app.client_id))
    assert response.status_code == 200, response.content
    claims = verify(response.json()["access_token"], jwks(), audience="https://api.example.com")
    assert claims["auth_time"] != 1
    assert claims["exp"] > claims["iat"] + 60
