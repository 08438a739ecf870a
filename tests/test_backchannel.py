"""Back-channel logout delivery against a relying party on loopback (tests/loopback.py)."""

from __future__ import annotations

import jwt
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from oidc_provider import backchannel, keys, logout_http, logout_tokens, sessions
from oidc_provider.models import ClientProfile, LogoutDelivery

from .factories import ApplicationFactory, SigningKeyFactory, UserFactory
from .oauth import authorize, exchange_code, verify
from .test_admin import APP_URL, _application_form

pytestmark = pytest.mark.django_db
Status = LogoutDelivery.Status


def _app(uri="", session_required=False):
    app = ApplicationFactory()
    ClientProfile.objects.update_or_create(
        application=app,
        defaults={"backchannel_logout_uri": uri, "backchannel_logout_session_required": session_required},
    )
    return app


def _sign_in(client, *apps):
    """One browser sign-in that authorizes each client."""
    client.force_login(UserFactory())
    for app in apps:
        code, verifier = authorize(client, app, "openid")
        assert exchange_code(client, app, code, verifier).status_code == 200
    return client.session[sessions.SESSION_SID]


def _logout(client, capture):
    with capture(execute=True):
        client.logout()


def test_signing_out_notifies_each_client_of_the_session_once(
    client, rsa_key, jwks, rp, django_capture_on_commit_callbacks
):
    first, second, silent = _app(rp.url), _app(rp.url + "?rp=2"), _app()
    sid = _sign_in(client, first, second, silent, first)
    _logout(client, django_capture_on_commit_callbacks)
    assert sorted(r["path"] for r in rp.received) == ["/backchannel-logout", "/backchannel-logout?rp=2"]
    for request in rp.received:
        assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    audiences = set()
    for token in rp.tokens():
        claims = verify(token, jwks(), audience=[first.client_id, second.client_id])
        audiences.add(claims["aud"])
        assert claims["sid"] == sid and claims["events"] and "nonce" not in claims
    assert audiences == {first.client_id, second.client_id}
    deliveries = LogoutDelivery.objects.all()
    assert {d.status for d in deliveries} == {Status.DELIVERED}
    assert all(d.attempts == 1 and d.last_status_code == 200 for d in deliveries)


def test_no_delivery_without_a_uri(client, rsa_key, rp, django_capture_on_commit_callbacks):
    _sign_in(client, _app())
    _logout(client, django_capture_on_commit_callbacks)
    assert rp.received == [] and not LogoutDelivery.objects.exists()


def test_other_browsers_are_not_notified(client, rsa_key, rp, django_capture_on_commit_callbacks):
    _sign_in(Client(), _app(rp.url))
    _sign_in(client, _app())
    _logout(client, django_capture_on_commit_callbacks)
    assert rp.received == []


@pytest.mark.parametrize("status", [200, 204])
def test_200_and_204_are_success(client, rsa_key, rp, status, django_capture_on_commit_callbacks):
    rp.behaviour = status
    _sign_in(client, _app(rp.url))
    _logout(client, django_capture_on_commit_callbacks)
    assert LogoutDelivery.objects.get().status == Status.DELIVERED


@pytest.mark.parametrize("behaviour", [400, 500, "redirect"])
def test_failures_are_retried_then_given_up(
    client, rsa_key, rp, behaviour, settings, django_capture_on_commit_callbacks
):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "BACKCHANNEL_LOGOUT_MAX_ATTEMPTS": 2}
    rp.behaviour = behaviour
    _sign_in(client, _app(rp.url))
    _logout(client, django_capture_on_commit_callbacks)
    delivery = LogoutDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at is not None
    assert len(rp.received) == 1  # a redirect is not followed
    assert backchannel.retry_due() == {}  # not due yet (RETRY_DELAY)
    LogoutDelivery.objects.update(next_attempt_at=None)
    call_command("oidc_backchannel", "retry")
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 2
    assert delivery.last_error and delivery.finished_at is not None


def test_a_retry_delivers_once_the_rp_is_back(client, rsa_key, rp, django_capture_on_commit_callbacks):
    rp.behaviour = 503
    _sign_in(client, _app(rp.url))
    _logout(client, django_capture_on_commit_callbacks)
    rp.behaviour = 200
    LogoutDelivery.objects.update(next_attempt_at=None)
    assert backchannel.retry_due() == {Status.DELIVERED: 1}
    delivery = LogoutDelivery.objects.get()
    assert delivery.attempts == 2 and delivery.last_status_code == 200
    first, retry = (jwt.decode(t, options={"verify_signature": False}) for t in rp.tokens())
    assert first["sid"] == retry["sid"] and first["aud"] == retry["aud"]
    assert first["jti"] != retry["jti"]  # built afresh: a late retry never carries an expired token


@pytest.mark.parametrize("behaviour", ["slow", "drip"])
def test_slow_and_dripping_rps_are_cut_off_at_the_deadline(rsa_key, rp, behaviour):
    rp.behaviour, rp.delay = behaviour, 3  # the drip sends one byte every 3 s; the deadline is 0.5 s
    with pytest.raises(logout_http.DeliveryError, match="No complete answer"):
        logout_http.post_form(rp.url, {"logout_token": "x"}, timeout=0.5)


def test_the_sign_out_budget_leaves_the_rest_for_a_retry(
    client, rsa_key, rp, settings, django_capture_on_commit_callbacks
):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "BACKCHANNEL_LOGOUT_BUDGET": 0}
    _sign_in(client, _app(rp.url))
    _logout(client, django_capture_on_commit_callbacks)
    delivery = LogoutDelivery.objects.get()
    assert rp.received == [] and delivery.status == Status.PENDING and delivery.attempts == 0
    assert backchannel.retry_due() == {Status.DELIVERED: 1}


def test_concurrent_attempts_send_once(client, rsa_key, rp, settings, django_capture_on_commit_callbacks):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "BACKCHANNEL_LOGOUT_BUDGET": 0}
    _sign_in(client, _app(rp.url))
    _logout(client, django_capture_on_commit_callbacks)
    pk = LogoutDelivery.objects.get().pk
    assert backchannel._claim(pk, timezone.now(), lease=60)
    assert backchannel.attempt(pk) == "skipped"  # another worker holds it
    assert rp.received == []


def test_private_addresses_are_refused_unless_allowed(rp, settings):
    settings.OIDC_PROVIDER = {**settings.OIDC_PROVIDER, "BACKCHANNEL_LOGOUT_ALLOW_PRIVATE_ADDRESSES": False}
    with pytest.raises(logout_http.DeliveryError, match="private"):
        logout_http.post_form(rp.url, {"logout_token": "x"}, timeout=1)
    assert rp.received == []


@pytest.mark.parametrize(
    ("uri", "debug", "ok"),
    [
        ("https://rp.example.com/bc?x=1", False, True),
        ("http://rp.example.com/bc", False, False),
        ("http://127.0.0.1:8000/bc", True, True),
        ("https://rp.example.com/bc#frag", False, False),
        ("https://user:pw@rp.example.com/bc", False, False),
        ("ftp://rp.example.com/bc", True, False),
    ],
)
def test_uri_rules(settings, uri, debug, ok):
    settings.DEBUG = debug
    assert logout_http.uri_allowed(uri) is ok


def test_a_client_without_a_usable_key_is_retried(client, django_capture_on_commit_callbacks, rp):
    # No signing key at all: the session still ends, the delivery says why it was not sent,
    # and a retry once a key exists delivers it.
    app = _app(rp.url)
    client.force_login(UserFactory())
    from oidc_provider.models import AuthenticationContext

    sid = client.session[sessions.SESSION_SID]
    AuthenticationContext.objects.create(code_hash="x" * 64, sid=sid, application=app)
    _logout(client, django_capture_on_commit_callbacks)
    delivery = LogoutDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert "key" in delivery.last_error.lower() and rp.received == []
    SigningKeyFactory(algorithm="RS256")
    keys.clear_local_cache()  # other processes see it after KEY_CACHE_CHECK_INTERVAL
    LogoutDelivery.objects.update(next_attempt_at=None)
    assert backchannel.retry_due() == {Status.DELIVERED: 1}


def test_the_admin_lists_deliveries_and_retries_them(admin_client, rsa_key, rp):
    app = _app(rp.url)
    delivery = LogoutDelivery.objects.create(application=app, uri=rp.url, sid="s", subject="1")
    listing = admin_client.get("/admin/oidc_provider/logoutdelivery/").content.decode()
    assert "pending" in listing
    detail = admin_client.get(f"/admin/oidc_provider/logoutdelivery/{delivery.pk}/change/").content.decode()
    assert rp.url in detail and "eyJ" not in detail  # no token is kept, none is shown
    response = admin_client.post(
        "/admin/oidc_provider/logoutdelivery/",
        {"action": "retry_now", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 of 1 pending delivery(ies) delivered." in response.content.decode()
    assert logout_tokens.validate(rp.tokens()[0], app.client_id)["sid"] == "s"


@pytest.mark.parametrize(
    ("uri", "saved"),
    [
        ("https://rp.example.com/backchannel", True),
        ("http://rp.example.com/bc", False),
        ("https://rp.example.com/bc#x", False),
    ],
)
def test_the_client_admin_takes_the_back_channel_settings(admin_client, uri, saved):
    app = ApplicationFactory()
    data = _application_form(app, backchannel_logout_uri=uri, backchannel_logout_session_required="on")
    response = admin_client.post(f"{APP_URL}{app.pk}/change/", data)
    assert (response.status_code == 302) is saved
    if saved:
        profile = ClientProfile.objects.get(application=app)
        assert profile.backchannel_logout_uri == uri and profile.backchannel_logout_session_required
    else:
        assert "must be an https URL without a fragment" in response.content.decode()


def test_discovery_advertises_back_channel_logout(client, rsa_key, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RP_INITIATED_LOGOUT_ENABLED": True}
    data = client.get("/o/.well-known/openid-configuration").json()
    assert data["backchannel_logout_supported"] is True
    assert data["backchannel_logout_session_supported"] is True
    assert data["end_session_endpoint"] == "https://testserver/o/logout/"
    assert "sid" in data["claims_supported"]


def test_a_queueing_backend_gets_the_delivery_and_its_deferred_retry(
    client, rsa_key, rp, settings, django_capture_on_commit_callbacks
):
    """With a backend that queues and defers (the database backend in production), the sign-out
    only enqueues; the worker's failed attempt enqueues the retry with run_after."""
    # The framework oidc_provider.tasks uses: django.tasks on Django 6, else the backport.
    try:
        import django.tasks as framework
    except ImportError:
        import django_tasks as framework
    settings.TASKS = {"default": {"BACKEND": f"{framework.__name__}.backends.dummy.DummyBackend"}}
    task_backends = framework.task_backends

    rp.behaviour = 500
    _sign_in(client, _app(rp.url))
    _logout(client, django_capture_on_commit_callbacks)
    backend = task_backends["default"]
    assert rp.received == []  # nothing ran during the sign-out
    (queued,) = backend.results
    assert queued.args[1] is None  # no sign-out budget: the worker's own deadline applies
    assert backchannel.attempt(*queued.args) == Status.PENDING  # what the worker does
    retry = backend.results[-1]
    delivery = LogoutDelivery.objects.get()
    assert len(backend.results) == 2 and retry.task.run_after == delivery.next_attempt_at


def test_ending_and_failing_send_signals(client, rsa_key, rp, django_capture_on_commit_callbacks):
    from oidc_provider import signals

    seen = []
    signals.session_ended.connect(
        lambda **kw: seen.append(("ended", kw["reason"], kw["client_ids"])), weak=False, dispatch_uid="t1"
    )
    signals.logout_delivery_failed.connect(
        lambda **kw: seen.append(("failed", kw["gave_up"])), weak=False, dispatch_uid="t2"
    )
    try:
        rp.behaviour = 500
        app = _app(rp.url)
        _sign_in(client, app)
        _logout(client, django_capture_on_commit_callbacks)
    finally:
        signals.session_ended.disconnect(dispatch_uid="t1")
        signals.logout_delivery_failed.disconnect(dispatch_uid="t2")
    assert seen == [("ended", "logout", [app.client_id]), ("failed", False)]
