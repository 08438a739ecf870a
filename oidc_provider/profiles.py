"""Per-client settings (ClientProfile), created on demand for clients that predate the app.

Every token request needs its client's profile, so each process keeps the profiles it has read,
each tagged with the version (``versions``: a database counter and a cache stamp) it was read
under. Like the key ring, a process reads the version at most every ``KEY_CACHE_CHECK_INTERVAL``
seconds (a read per request would cost more than the query it saves). A change saved anywhere
bumps the version in its transaction and the saving process forgets its copies at once; no copy
is used for longer than ``MAX_AGE`` seconds, which bounds what a change made around the signals
(``QuerySet.update()``, a data migration) can leave behind. After such a change, call
``invalidate()``.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

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


def invalidate() -> None:
    """Make every process read client profiles again (after changes that send no signals)."""
    versions.bump(VERSION_NAME)
    clear_local_cache()


def clear_local_cache() -> None:
    """Forget this process's copies and its reading of the version (tests; after a local change)."""
    _profiles.clear()
    _watch.forget()


@receiver(post_save, sender=ClientProfile)
@receiver(post_delete, sender=ClientProfile)
def _profile_changed(created: bool = False, **kwargs: Any) -> None:
    clear_local_cache()
    if not created:  # no process holds a copy of a new row
        versions.bump(VERSION_NAME)
    transaction.on_commit(clear_local_cache)
