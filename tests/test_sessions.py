"""Provider sessions: sid per sign-in, sid in ID tokens, and every way a session ends."""

from __future__ import annotations

import jwt
import pytest
from django.core.management import call_command
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from oidc_provider import sessions
from oidc_provider.models import AuthenticationContext, ClientProfile, LogoutDelivery, ProviderSession

from .factories import ApplicationFactory, UserFactory
from .oauth import authorize, basic, code_flow, exchange_code, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def oidc(settings):
    def update(**values):
        settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, **values}

    return update


def _client_app(session_required=False, uri=""):
    app = ApplicationFactory()
    ClientProfile.objects.update_or_create(
        application=app,
        defaults={"backchannel_logout_session_required": session_required, "backchannel_logout_uri": uri},
    )
    return app


def _tokens(client, app, scope="openid"):
    """Another authorization in the browser's current sign-in."""
    code, verifier = authorize(client, app, scope)
    response = exchange_code(client, app, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_login_starts_a_session_with_an_unguessable_sid(client, rsa_key):
    user = UserFactory()
    client.force_login(user)
    sid = client.session[sessions.SESSION_SID]
    assert len(sid) >= 43
    row = ProviderSession.objects.get(sid=sid)
    assert row.user == user and row.ended_at is None
    assert row.session_key == client.session.session_key
    client.force_login(user)  # signing in again in the same browser session keeps it
    assert client.session[sessions.SESSION_SID] == sid
    assert ProviderSession.objects.get(sid=sid).session_key == client.session.session_key
    client.force_login(UserFactory())  # another user: Django starts a new session, so do we
    assert client.session[sessions.SESSION_SID] != sid


def test_id_token_carries_sid_only_for_clients_that_asked(client, rsa_key, jwks):
    user = UserFactory()
    wants, other = _client_app(session_required=True), _client_app()
    with_sid = code_flow(client, wants, user)["id_token"]
    sid = client.session[sessions.SESSION_SID]
    assert verify(with_sid, jwks(), audience=wants.client_id)["sid"] == sid
    without = _tokens(client, other)["id_token"]
    assert "sid" not in verify(without, jwks(), audience=other.client_id)


def test_id_token_always_sid_setting(client, rsa_key, oidc):
    oidc(ID_TOKEN_ALWAYS_SID=True)
    body = code_flow(client, _client_app(), UserFactory())
    assert _claims(body["id_token"])["sid"] == client.session[sessions.SESSION_SID]


def test_refreshed_id_token_keeps_the_sid_and_a_client_sid_parameter_is_ignored(client, rsa_key):
    app = _client_app(session_required=True)
    body = code_flow(client, app, UserFactory())
    sid = _claims(body["id_token"])["sid"]
    response = client.post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "oidc_sid": "forged",
            "oidc_context": "x",
        },
        **basic(app.client_id),
    )
    assert response.status_code == 200, response.content
    assert _claims(response.json()["id_token"])["sid"] == sid


def test_authorizations_record_their_session_and_client(client, rsa_key):
    app = _client_app()
    code_flow(client, app, UserFactory())
    context = AuthenticationContext.objects.get()
    assert context.sid == client.session[sessions.SESSION_SID]
    assert context.application == app


def test_a_session_that_predates_sids_gets_one_at_authorization(client, rsa_key):
    user = UserFactory()
    client.force_login(user)
    session = client.session
    del session[sessions.SESSION_SID]
    session.save()
    ProviderSession.objects.all().delete()
    authorize(client, _client_app(), "openid")
    assert ProviderSession.objects.get(user=user).sid == client.session[sessions.SESSION_SID]


# -- ending sessions ----------------------------------------------------------------------


def test_signing_out_ends_the_session(client, rsa_key):
    code_flow(client, _client_app(), UserFactory())
    sid = client.session[sessions.SESSION_SID]
    client.logout()
    row = ProviderSession.objects.get(sid=sid)
    assert row.ended_at is not None and row.end_reason == "logout"


def test_ending_twice_notifies_once(client, rsa_key, django_capture_on_commit_callbacks):
    code_flow(client, _client_app(uri="https://rp.example.com/bc"), UserFactory())
    sid = client.session[sessions.SESSION_SID]
    with django_capture_on_commit_callbacks(execute=False):
        assert sessions.end([sid], reason="logout") == [sid]
        assert sessions.end([sid], reason="admin") == []
    assert LogoutDelivery.objects.count() == 1


def test_refresh_tokens_without_offline_access_are_revoked_with_the_session(client, rsa_key):
    user = UserFactory()
    online = code_flow(client, _client_app(), user, scope="openid")
    offline = _tokens(client, _client_app(), scope="openid offline_access")
    client.logout()
    RefreshToken = get_refresh_token_model()
    assert RefreshToken.objects.get(token=online["refresh_token"]).revoked is not None
    assert RefreshToken.objects.get(token=offline["refresh_token"]).revoked is None
    # SESSION_END_ACCESS_TOKENS = "revoke" (the default): both access tokens are gone.
    assert (
        not get_access_token_model()
        .objects.filter(token__in=[online["access_token"], offline["access_token"]])
        .exists()
    )


def test_access_tokens_outlive_the_session_with_keep(client, rsa_key, oidc):
    oidc(SESSION_END_ACCESS_TOKENS="keep")
    body = code_flow(client, _client_app(), UserFactory())
    client.logout()
    assert get_refresh_token_model().objects.get(token=body["refresh_token"]).revoked is not None
    assert get_access_token_model().objects.filter(token=body["access_token"]).exists()


def test_other_sessions_keep_their_tokens(client, rsa_key):
    from django.test import Client

    user = UserFactory()
    app = _client_app()
    other_browser = Client()
    kept = code_flow(other_browser, app, user)
    code_flow(client, app, user)
    client.logout()
    assert get_refresh_token_model().objects.get(token=kept["refresh_token"]).revoked is None


def test_deactivating_a_user_ends_all_their_sessions(client, rsa_key, django_capture_on_commit_callbacks):
    user = UserFactory()
    code_flow(client, _client_app(), user)
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    assert not ProviderSession.objects.filter(user=user, ended_at=None).exists()
    assert ProviderSession.objects.get(user=user).end_reason == "deactivated"
    assert client.get("/admin/").status_code == 302  # the Django session is gone too


def test_saving_an_active_user_ends_nothing(client, rsa_key, django_capture_on_commit_callbacks):
    user = UserFactory()
    code_flow(client, _client_app(), user)
    with django_capture_on_commit_callbacks(execute=True):
        user.first_name = "Grace"
        user.save()
        user.set_password("another-password-1")
        user.save()  # END_SESSIONS_ON_PASSWORD_CHANGE is off by default
    assert ProviderSession.objects.filter(user=user, ended_at=None).exists()


def test_password_change_ends_sessions_when_the_site_chooses(
    client, rsa_key, oidc, django_capture_on_commit_callbacks
):
    oidc(END_SESSIONS_ON_PASSWORD_CHANGE=True)
    user = UserFactory()
    code_flow(client, _client_app(), user)
    with django_capture_on_commit_callbacks(execute=True):
        user.set_password("another-password-1")
        user.save()
    assert ProviderSession.objects.get(user=user).end_reason == "password changed"


def test_admin_ends_a_users_sessions(client, admin_client, rsa_key, django_capture_on_commit_callbacks):
    user = UserFactory()
    code_flow(client, _client_app(), user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/auth/user/",
            {"action": "end_user_sessions", "_selected_action": [user.pk]},
            follow=True,
        )
    assert "1 provider session(s) ended." in response.content.decode()
    assert ProviderSession.objects.get(user=user).end_reason == "admin"
    assert client.get("/admin/").status_code == 302


def test_admin_ends_selected_sessions(client, admin_client, rsa_key):
    user = UserFactory()
    code_flow(client, _client_app(), user)
    row = ProviderSession.objects.get(user=user)
    response = admin_client.post(
        "/admin/oidc_provider/providersession/",
        {"action": "end_sessions", "_selected_action": [row.pk]},
        follow=True,
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.end_reason == "admin"
    page = admin_client.get(f"/admin/oidc_provider/providersession/{row.pk}/change/").content.decode()
    assert row.session_key not in page


def test_end_expired_ends_sessions_whose_django_session_is_gone(client, rsa_key):
    user = UserFactory()
    code_flow(client, _client_app(), user)
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()  # what clearsessions does to expired ones
    call_command("oidc_backchannel", "end-expired")
    assert ProviderSession.objects.get(user=user).end_reason == "expired"


def test_clearing_contexts_keeps_those_of_live_sessions(client, rsa_key, settings):
    from oidc_provider import authn
    from oidc_provider.models import AuthenticationContext

    code_flow(client, _client_app(), UserFactory())
    AuthenticationContext.objects.update(access_token=None, created_at="2000-01-01T00:00:00Z")
    assert authn.clear_expired() == 0
    client.logout()
    assert authn.clear_expired() == 1
