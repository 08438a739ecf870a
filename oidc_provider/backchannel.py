"""Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5-§2.8).

Every relying party that received tokens in an ended session and registered a
``backchannel_logout_uri`` gets one ``LogoutDelivery`` row and one task (Django's Tasks
framework). 200 and 204 are success (§2.8); anything else is retried with a doubling
delay up to ``BACKCHANNEL_LOGOUT_MAX_ATTEMPTS`` times. With the immediate backend (the
default) the first attempt runs inside the sign-out, all RPs together bounded by
``BACKCHANNEL_LOGOUT_BUDGET``; retries then wait for ``manage.py oidc_backchannel retry``.
A backend that can defer tasks (a database backend and its worker) runs the retries itself.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import events, logout_http, logout_tokens
from .conf import oidc_settings
from .keys import NoActiveKey
from .models import LogoutDelivery
from .profiles import profile_for

logger = logging.getLogger(__name__)
SUCCESS = frozenset({200, 204})
Status = LogoutDelivery.Status


def notify(contexts: list[Any]) -> list[LogoutDelivery]:
    """One delivery per (client, session) among ``contexts`` whose client has a back-channel URI."""
    seen: set[tuple[Any, str]] = set()
    deliveries = []
    for context in contexts:
        application = context.application
        if (application.pk, context.sid) in seen:
            continue
        seen.add((application.pk, context.sid))
        uri = profile_for(application).backchannel_logout_uri
        if uri:
            deliveries.append(_create(application, uri, context.sid))
    pending = [d.pk for d in deliveries]
    if pending:
        transaction.on_commit(lambda: enqueue(pending))
    return deliveries


def _create(application: Any, uri: str, sid: str) -> LogoutDelivery:
    from .models import ProviderSession

    user = ProviderSession.objects.get(sid=sid).user
    subject = logout_tokens.subject_for(user, application)
    return LogoutDelivery.objects.create(application=application, uri=uri, sid=sid, subject=subject)


# -- tasks -----------------------------------------------------------------------------


def _task() -> Any:
    from .tasks import deliver_logout

    return deliver_logout.using(backend=oidc_settings.BACKCHANNEL_LOGOUT_TASK_BACKEND)


def runs_inline(task: Any) -> bool:
    """Whether enqueueing runs the task at once in this thread (the immediate backend)."""
    return type(task.get_backend()).__name__ == "ImmediateBackend"


def enqueue(delivery_ids: list[int]) -> None:
    """Start delivering; inline deliveries share one budget so a sign-out stays quick."""
    task = _task()
    not_after = time.time() + oidc_settings.BACKCHANNEL_LOGOUT_BUDGET if runs_inline(task) else None
    for pk in delivery_ids:
        try:
            task.enqueue(pk, not_after)
        except Exception:  # a task backend that is down must not break the user's sign-out
            logger.exception("Could not enqueue back-channel logout delivery %s", pk)


def _claim(pk: int, now: Any, lease: float) -> bool:
    """Take one due delivery for one attempt; the database decides between concurrent workers."""
    due = Q(next_attempt_at=None) | Q(next_attempt_at__lte=now)
    rows = LogoutDelivery.objects.filter(due, pk=pk, status=Status.PENDING)
    return bool(rows.update(next_attempt_at=now + timedelta(seconds=lease)))


def attempt(pk: int, not_after: float | None = None) -> str:
    """One POST of delivery ``pk``; returns its status afterwards ("skipped" if not due)."""
    timeout = float(oidc_settings.BACKCHANNEL_LOGOUT_TIMEOUT)
    if not_after is not None:
        timeout = min(timeout, not_after - time.time())
    now = timezone.now()
    if timeout < 0.2:
        return "deferred"  # out of the sign-out's budget: due now for the next retry
    if not _claim(pk, now, lease=timeout + 5):
        return "skipped"
    delivery = LogoutDelivery.objects.select_related("application").get(pk=pk)
    try:
        # A fresh token per attempt: a retry minutes later must not carry an expired one.
        # §2.4: sub and sid both, so RPs keyed by either can find their session.
        token = logout_tokens.build(delivery.application, subject=delivery.subject, sid=delivery.sid or None)
        status = logout_http.post_form(delivery.uri, {"logout_token": token}, timeout=timeout)
        error = "" if status in SUCCESS else f"HTTP {status}"
    except (NoActiveKey, ImproperlyConfigured) as exc:  # no key for the client's algorithm (yet)
        status, error = None, f"Not signed: {exc}"
    except logout_http.DeliveryError as exc:
        status, error = None, str(exc)
    _record(delivery, status, error)
    return delivery.status


def _record(delivery: LogoutDelivery, status: int | None, error: str) -> None:
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status, error[:255]
    if status in SUCCESS or delivery.attempts >= oidc_settings.BACKCHANNEL_LOGOUT_MAX_ATTEMPTS:
        delivery.status = Status.DELIVERED if status in SUCCESS else Status.FAILED
        delivery.finished_at, delivery.next_attempt_at = now, None
    else:
        delay = oidc_settings.BACKCHANNEL_LOGOUT_RETRY_DELAY * 2 ** (delivery.attempts - 1)
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.save()
    if delivery.status != Status.DELIVERED:
        gave_up = delivery.status == Status.FAILED
        events.logout_delivery_failed(delivery.application.client_id, delivery.uri, error, gave_up)
    if delivery.status == Status.PENDING:
        _schedule_retry(delivery)


def _schedule_retry(delivery: LogoutDelivery) -> None:
    task = _task()
    if task.get_backend().supports_defer:
        task.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk, None)


def retry_due(limit: int = 1000) -> dict[str, int]:
    """Attempt every pending delivery that is due (``manage.py oidc_backchannel retry``)."""
    due = Q(next_attempt_at=None) | Q(next_attempt_at__lte=timezone.now())
    pending = LogoutDelivery.objects.filter(due, status=Status.PENDING).order_by("pk")
    outcomes: dict[str, int] = {}
    for pk in list(pending.values_list("pk", flat=True)[:limit]):
        outcome = attempt(pk)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def prune(older_than: timedelta) -> int:
    """Delete finished deliveries older than ``older_than``."""
    cutoff = timezone.now() - older_than
    finished = LogoutDelivery.objects.filter(created_at__lt=cutoff).exclude(status=Status.PENDING)
    return finished.delete()[0]
