"""RP-initiated logout (DOT's /o/logout/ through views.LogoutView) with provider sessions."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client

from oidc_provider import id_tokens, sessions
from oidc_provider.models import ClientProfile, LogoutDelivery, ProviderSession

from .factories import ApplicationFactory, UserFactory
from .oauth import authorize, code_flow, exchange_code

pytestmark = pytest.mark.django_db
AFTER = "https://rp.example.com/signed-out"


@pytest.fixture(autouse=True)
def _enabled(settings):
    # DOT asks every time by default; without that, only the rules of RP-Initiated Logout §2 ask.
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    }


def _app(uri=""):
    app = ApplicationFactory(post_logout_redirect_uris=AFTER)
    ClientProfile.objects.update_or_create(
        application=app,
        defaults={"backchannel_logout_uri": uri, "backchannel_logout_session_required": True},
    )
    return app


def _logout_url(app, id_token):
    query = {"id_token_hint": id_token, "client_id": app.client_id, "post_logout_redirect_uri": AFTER}
    return f"/o/logout/?{urlencode(query)}"


def test_rp_initiated_logout_ends_the_session_and_notifies_every_rp(
    client, rsa_key, rp, django_capture_on_commit_callbacks
):
    user = UserFactory()
    initiator, other = _app(rp.url + "?rp=initiator"), _app(rp.url + "?rp=other")
    id_token = code_flow(client, initiator, user)["id_token"]
    code, verifier = authorize(client, other, "openid")
    assert exchange_code(client, other, code, verifier).status_code == 200
    sid = client.session[sessions.SESSION_SID]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(_logout_url(initiator, id_token))
    assert response.status_code == 302 and response["Location"] == AFTER
    assert ProviderSession.objects.get(sid=sid).end_reason == "logout"
    # The initiating RP is told too: the spec does not exempt it.
    assert sorted(r["path"] for r in rp.received) == [
        "/backchannel-logout?rp=initiator",
        "/backchannel-logout?rp=other",
    ]
    assert LogoutDelivery.objects.filter(status=LogoutDelivery.Status.DELIVERED).count() == 2


def test_a_hint_from_another_session_of_the_same_user_asks_first(client, rsa_key):
    user = UserFactory()
    app = _app()
    old_token = code_flow(Client(), app, user)["id_token"]  # another browser, another sid
    code_flow(client, app, user)
    response = client.get(_logout_url(app, old_token))
    assert response.status_code == 200  # DOT's confirmation form
    assert ProviderSession.objects.filter(user=user, ended_at=None).count() == 2


def test_a_hint_of_this_session_signs_out_without_asking(client, rsa_key):
    user = UserFactory()
    app = _app()
    id_token = code_flow(client, app, user)["id_token"]
    assert client.get(_logout_url(app, id_token)).status_code == 302


@pytest.mark.parametrize("hint", [None, "", "not-a-jwt", "e30.e30.e30"])
def test_hint_sid_of_anything_else_is_none(hint, rsa_key):
    assert id_tokens.hint_sid(hint) is None
