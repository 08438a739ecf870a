"""Provider sessions: one ``sid`` per browser sign-in, and ending sessions everywhere.

OpenID Connect Back-Channel Logout 1.0 §2.1: the OP keeps a session identifier per
user agent and relying parties learn it through the ``sid`` claim. A session starts at
``user_logged_in``; it ends at ``user_logged_out`` (the site's own sign-out and DOT's
RP-initiated logout alike), when an admin ends it, when the user is deactivated and, if the
site chooses, when the password changes. Ending a session revokes the tokens it produced
(§2.7) and sends a logout token to every relying party that received tokens in it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from .conf import oidc_settings
from .context import issuance
from .models import AuthenticationContext, ProviderSession

#: Django session key holding the sid of the sign-in.
SESSION_SID = "oidc_sid"
#: The attribute our authorization view sets on oauthlib's request (through ``credentials``);
#: read from ``request.__dict__`` only, since oauthlib answers any client parameter otherwise.
REQUEST_SID = "oidc_sid"
MAX_SESSION_KEY = 64  # longer keys (signed-cookie sessions) cannot be ended from here anyway


def new_sid() -> str:
    """256 random bits: unguessable, and meaningless outside this provider."""
    return secrets.token_urlsafe(32)


def _session_key(request: Any) -> str:
    key = getattr(request.session, "session_key", None) or ""
    return key if len(key) <= MAX_SESSION_KEY else ""


def start(request: Any, user: Any) -> ProviderSession:
    """A new provider session for ``user`` in the request's Django session."""
    row = ProviderSession.objects.create(sid=new_sid(), user=user, session_key=_session_key(request))
    request.session[SESSION_SID] = row.sid
    return row


@receiver(user_logged_in, dispatch_uid="oidc_provider.sessions.logged_in")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if getattr(request, "session", None) is not None:
        _live_sid(request, user)


def current_sid(request: Any) -> str:
    """The sid of the signed-in user's live session; a new one for sessions that predate it."""
    return _live_sid(request, request.user)


def _live_sid(request: Any, user: Any) -> str:
    """The session's sid while it is live and the same user's (signing in again, e.g. for
    prompt=login or max_age, stays in the same session); otherwise a new session."""
    sid = request.session.get(SESSION_SID)
    row = ProviderSession.objects.filter(sid=sid, ended_at=None).first() if sid else None
    if row is None or row.user_id != user.pk:
        return start(request, user).sid
    key = _session_key(request)
    if key and row.session_key != key:  # the key cycled (a password change keeps the session)
        ProviderSession.objects.filter(pk=row.pk).update(session_key=key)
    return row.sid


def sid_of_request(request: Any) -> str:
    """The sid an oauthlib request issues tokens in (kept in its IssuanceContext): set by our
    authorization view, or restored from the authorization's AuthenticationContext."""
    state = issuance(request)
    if state.sid is None:
        stored = state.authentication
        state.sid = (stored.sid if stored is not None else vars(request).get(REQUEST_SID)) or ""
    return state.sid


def id_token_sid(request: Any, profile: Any) -> str | None:
    """sid for an ID token: for clients that registered backchannel_logout_session_required,
    or for all with ``ID_TOKEN_ALWAYS_SID`` (Back-Channel Logout §2.2, §2.4)."""
    if not (profile.backchannel_logout_session_required or oidc_settings.ID_TOKEN_ALWAYS_SID):
        return None
    return sid_of_request(request) or None


def record_implicit(request: Any, jti: str) -> None:
    """An ID token issued at the authorization endpoint with no code: remember its client."""
    sid = sid_of_request(request)
    if sid:
        AuthenticationContext.objects.create(
            code_hash=f"id_token:{jti}"[:64], sid=sid, application=request.client
        )


# -- ending sessions ----------------------------------------------------------------------


@receiver(user_logged_out, dispatch_uid="oidc_provider.sessions.logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    sid = session.get(SESSION_SID) if session is not None else None
    if sid:
        end([sid], reason="logout")


def end(sids: Iterable[str], *, reason: str, delete_django_sessions: bool = False) -> list[str]:
    """End these sessions; returns the sids this call ended (each is ended, and notified, once)."""
    from . import backchannel, events, session_tokens

    now = timezone.now()
    ended: list[ProviderSession] = []
    with transaction.atomic():
        for row in ProviderSession.objects.filter(sid__in=list(sids), ended_at=None).select_related("user"):
            # A conditional update: of two concurrent sign-outs only one ends (and notifies) it.
            live = ProviderSession.objects.filter(pk=row.pk, ended_at=None)
            if live.update(ended_at=now, end_reason=reason):
                ended.append(row)
        if not ended:
            return []
        contexts = list(
            AuthenticationContext.objects.filter(
                sid__in=[row.sid for row in ended], application__isnull=False
            ).select_related("application")
        )
        for row in ended:
            clients = sorted({c.application.client_id for c in contexts if c.sid == row.sid})
            transaction.on_commit(
                lambda row=row, clients=clients: events.session_ended(row.user, row.sid, reason, clients)
            )
        session_tokens.revoke(contexts)
        backchannel.notify(contexts)
    if delete_django_sessions:
        _delete_django_sessions([row.session_key for row in ended if row.session_key])
    return [row.sid for row in ended]


def end_for_user(user: Any, *, reason: str, delete_django_sessions: bool = True) -> list[str]:
    """End every live session of ``user`` (admin action, deactivation, password change)."""
    sids = ProviderSession.objects.filter(user=user, ended_at=None).values_list("sid", flat=True)
    return end(list(sids), reason=reason, delete_django_sessions=delete_django_sessions)


def _delete_django_sessions(keys: list[str]) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()


# -- user changes (connected in apps.ready to the user model) ----------------------------

_WAS_ACTIVE = "_oidc_provider_was_active"


def user_pre_save(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Note whether a save deactivates the user (one query, only when saving an inactive user)."""
    if instance.pk is None or getattr(instance, "is_active", True):
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    was_active = sender._default_manager.filter(pk=instance.pk, is_active=True).exists()
    instance.__dict__[_WAS_ACTIVE] = was_active


def user_post_save(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    deactivated = instance.__dict__.pop(_WAS_ACTIVE, False)
    # AbstractBaseUser.set_password() keeps the new password in _password until save() ends.
    password_changed = not created and getattr(instance, "_password", None) is not None
    if deactivated:
        transaction.on_commit(lambda: end_for_user(instance, reason="deactivated"))
    elif password_changed and oidc_settings.END_SESSIONS_ON_PASSWORD_CHANGE:
        # Django keeps the session that changed the password signed in (update_session_auth_hash):
        # its next authorization starts a new sid.
        transaction.on_commit(
            lambda: end_for_user(instance, reason="password changed", delete_django_sessions=False)
        )
