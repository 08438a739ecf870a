"""Authentication context: when the user last actively authenticated (OIDC Core §2 auth_time).

A ``user_logged_in`` receiver stamps the session; the authorization endpoint copies the
stamp onto the grant (``AuthenticationContext``), the token endpoint reads it back, and
the context follows the refresh token family so refreshed ID tokens keep the same
``auth_time`` (OIDC Core §12.2).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from .context import issuance
from .models import AuthenticationContext

#: Session key holding the NumericDate of the last active login.
SESSION_AUTH_TIME = "oidc_auth_time"


@receiver(user_logged_in, dispatch_uid="oidc_provider.authn.record_login")
def record_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Stamp the session when the user actively authenticates."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_AUTH_TIME] = int(time.time())


def session_auth_time(request: Any) -> int | None:
    """auth_time of the logged-in user of a Django request; ``last_login`` for older sessions."""
    stamp = request.session.get(SESSION_AUTH_TIME)
    if stamp is not None:
        return int(stamp)
    last_login = getattr(request.user, "last_login", None)
    return int(last_login.timestamp()) if last_login else None


#: Longest max_age taken as a number (~317 years); longer strings are refused before int().
MAX_AGE_DIGITS = 10


def parse_max_age(value: str | None) -> int | None:
    """OIDC Core §3.1.2.1 max_age: non-negative seconds; ValueError with a safe message otherwise."""
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > MAX_AGE_DIGITS:
        raise ValueError("max_age must be a non-negative integer of seconds")
    return int(value)


def is_stale(auth_time: int | None, max_age: int) -> bool:
    """True when the last authentication is older than ``max_age`` seconds."""
    return auth_time is None or time.time() - auth_time > max_age


# -- persistence: grant -> tokens -> refresh token family --------------------------------


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _as_datetime(auth_time: int | None) -> datetime | None:
    return datetime.fromtimestamp(auth_time, tz=UTC) if auth_time is not None else None


def remember_grant(code: str, request: Any) -> None:
    """Store the authorization's auth_time beside the new authorization code."""
    AuthenticationContext.objects.create(
        # The auth_time credential views.AuthorizationView gives DOT (set on the request).
        code_hash=_code_hash(code),
        auth_time=_as_datetime(vars(request).get("auth_time")),
    )


def _apply(context: AuthenticationContext | None, request: Any) -> None:
    state = issuance(request)
    state.authentication = context
    if context is not None and context.auth_time is not None:
        state.auth_time = int(context.auth_time.timestamp())


def context_for_code(code: str) -> AuthenticationContext | None:
    return AuthenticationContext.objects.filter(code_hash=_code_hash(code)).first()


def load_for_code(code: str, request: Any) -> None:
    """Token endpoint, authorization_code grant: restore auth_time of the authorization."""
    _apply(context_for_code(code), request)


def load_for_refresh(refresh_token: Any, request: Any) -> None:
    """Token endpoint, refresh_token grant: restore auth_time and claims of the family."""
    family = getattr(refresh_token, "token_family", None)
    context = (
        AuthenticationContext.objects.filter(token_family=family).order_by("-pk").first() if family else None
    )
    _apply(context, request)
    if context is not None:
        request.claims = context.claims or None


def bind_tokens(request: Any) -> None:
    """Attach the context to the access token and refresh token family just issued."""
    state = issuance(request)
    context = state.authentication
    if context is None:
        return
    if state.access_token is not None:
        context.access_token = state.access_token
    if state.token_family is not None:
        context.token_family = state.token_family
    if request.grant_type == "authorization_code":
        context.claims = request.claims if isinstance(request.claims, dict) else {}
    context.save(update_fields=["access_token", "token_family", "claims"])


def claims_request_for(access_token: Any) -> dict[str, Any]:
    """The ``claims`` request parameter of the authorization that produced ``access_token``."""
    if access_token is None or not getattr(access_token, "pk", None):
        return {}
    rows = AuthenticationContext.objects.filter(access_token=access_token)
    return rows.values_list("claims", flat=True).first() or {}


def clear_expired() -> int:
    """Delete contexts no live token uses (codes never exchanged, tokens deleted)."""
    cutoff = timezone.now() - timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
    unused = AuthenticationContext.objects.filter(access_token__isnull=True, created_at__lt=cutoff)
    deleted, _ = unused.delete()
    return deleted
