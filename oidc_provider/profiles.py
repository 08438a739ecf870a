"""Per-client settings (ClientProfile), created on demand for clients that predate the app, and
the clients' Application rows.

Every token request needs its client's profile, so each process keeps the profiles it has read,
each tagged with the version (``versions``: a database counter and a cache stamp) it was read
under. Like the key ring, a process reads the version at most every ``KEY_CACHE_CHECK_INTERVAL``
seconds (a read per request would cost more than the query it saves). A change saved anywhere
bumps the version in its transaction and the saving process forgets its copies at once; no copy
is used for longer than ``MAX_AGE`` seconds, which bounds what a change made around the signals
(``QuerySet.update()``, a data migration) can leave behind. After such a change, call
``invalidate()``. The Application rows DOT reads to authenticate a client are kept the same
way (a changed secret or a deleted client applies within the same interval in other processes).
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from oauth2_provider.settings import oauth2_settings

from . import versions
from .models import ClientProfile

VERSION_NAME = "client-profiles"
MAX_AGE = 60
_ON_INSTANCE = "_oidc_provider_profile"  # the profile for this request's Application instance

# (application pk, client_id) -> (version it was read under, monotonic time, profile). The
# client_id guards against a pk reused after a rolled-back insert (SQLite reuses rowids).
_profiles: dict[tuple[Any, str], tuple[str, float, ClientProfile]] = {}
_watch = versions.Watch(VERSION_NAME)


def profile_for(application: Any) -> ClientProfile:
    """The ClientProfile of ``application``; read from the database once per process and change."""
    profile = application.__dict__.get(_ON_INSTANCE)
    if profile is not None:
        return profile
    key = (application.pk, application.client_id)
    now = time.monotonic()
    version = _watch.current()
    cached = _profiles.get(key)
    if cached is not None and cached[0] == version and now - cached[1] < MAX_AGE:
        profile = cached[2]
    else:
        profile, created = ClientProfile.objects.get_or_create(application_id=application.pk)
        if not created:  # a row created now may still be rolled back with this request
            _profiles[key] = (version, now, profile)
    application.__dict__[_ON_INSTANCE] = profile
    return profile


# client_id -> (stamp, monotonic time, Application): the row behind every client authentication,
# kept under the same stamp and MAX_AGE as the profiles (an Application save or delete bumps it).
_applications: dict[str, tuple[str, float, Any]] = {}


def cached_application(client_id: Any) -> Any | None:
    """A fresh copy of the Application read earlier for ``client_id``, or None (read it)."""
    cached = _applications.get(client_id) if isinstance(client_id, str) else None
    if cached is None:
        return None
    now = time.monotonic()
    if cached[0] != _watch.current() or now - cached[1] >= MAX_AGE:
        return None
    return _copy(cached[2])


def remember_application(application: Any) -> None:
    """Keep ``application`` (just read from the database) for later requests of this process."""
    client_id = application.client_id
    # DOT refreshes Client ID Metadata Document clients (URL ids) itself: never kept here.
    if "://" not in client_id and application.pk is not None:
        _applications[client_id] = (_watch.current(), time.monotonic(), _copy(application))


# The client_ids that exist (read once per stamp), so an unknown client_id costs no query either
# and response times do not tell which clients exist. Sites with more clients skip it.
MAX_KNOWN_IDS = 10_000
_known_ids: tuple[str, float, frozenset[str] | None] = ("", 0.0, None)


def may_exist(client_id: str) -> bool:
    """False when no Application has ``client_id`` (as of this process's stamp)."""
    global _known_ids
    now = time.monotonic()
    version = _watch.current()
    stamp, read_at, ids = _known_ids
    if stamp != version or now - read_at >= MAX_AGE:
        from oauth2_provider.models import get_application_model

        rows = get_application_model().objects.values_list("client_id", flat=True)[: MAX_KNOWN_IDS + 1]
        ids = frozenset(rows)
        _known_ids = (version, now, ids if len(ids) <= MAX_KNOWN_IDS else None)
        ids = _known_ids[2]
    return ids is None or client_id in ids


def _copy(application: Any) -> Any:
    """A separate instance with the same field values: requests never share one object."""
    copy = type(application).__new__(type(application))
    copy.__dict__.update({k: v for k, v in application.__dict__.items() if k not in ("_state", _ON_INSTANCE)})
    copy._state = ModelState()
    copy._state.adding, copy._state.db = False, application._state.db
    return copy


def invalidate() -> None:
    """Make every process read client profiles again (after changes that send no signals)."""
    versions.bump(VERSION_NAME)
    clear_local_cache()


def clear_local_cache() -> None:
    """Forget this process's copies and its reading of the version (tests; after a local change)."""
    global _known_ids
    _profiles.clear()
    _applications.clear()
    _known_ids = ("", 0.0, None)
    _watch.forget()


@receiver(post_save, sender=ClientProfile)
@receiver(post_delete, sender=ClientProfile)
def _profile_changed(created: bool = False, **kwargs: Any) -> None:
    clear_local_cache()
    if not created:  # no process holds a copy of a new row
        versions.bump(VERSION_NAME)
    transaction.on_commit(clear_local_cache)


@receiver(post_save, sender=oauth2_settings.APPLICATION_MODEL)
@receiver(post_delete, sender=oauth2_settings.APPLICATION_MODEL)
def _application_changed(**kwargs: Any) -> None:
    # Also when created: every process's set of known client_ids (may_exist) must learn it.
    clear_local_cache()
    versions.bump(VERSION_NAME)
    transaction.on_commit(clear_local_cache)
