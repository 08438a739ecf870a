"""Per-client settings (ClientProfile), created on demand for clients that predate the app.

Every token request needs its client's profile, so each process keeps the profiles it has read,
each tagged with the version stamp (in Django's cache, read once per request) it was read under:
a change saved anywhere bumps the stamp after commit, the saving process forgets its copies at
once, and no copy is used for longer than ``MAX_AGE`` seconds, which bounds what a change made
around the signals (``QuerySet.update()``, a data migration) can leave behind. After such a
change, call ``invalidate()``.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import stamps
from .models import ClientProfile

VERSION_CACHE_KEY = "oidc_provider:client-profiles:version"
MAX_AGE = 60
_ON_INSTANCE = "_oidc_provider_profile"  # the profile for this request's Application instance

# (application pk, client_id) -> (stamp it was read under, monotonic time, profile). The
# client_id guards against a pk reused after a rolled-back insert (SQLite reuses rowids).
_profiles: dict[tuple[Any, str], tuple[str, float, ClientProfile]] = {}


def profile_for(application: Any) -> ClientProfile:
    """The ClientProfile of ``application``; read from the database once per process and change."""
    profile = application.__dict__.get(_ON_INSTANCE)
    if profile is not None:
        return profile
    key = (application.pk, application.client_id)
    version = stamps.current(VERSION_CACHE_KEY)
    now = time.monotonic()
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
    _profiles.clear()
    stamps.bump(VERSION_CACHE_KEY)


@receiver(post_save, sender=ClientProfile)
@receiver(post_delete, sender=ClientProfile)
def _profile_changed(**kwargs: Any) -> None:
    _profiles.clear()
    transaction.on_commit(lambda: stamps.bump(VERSION_CACHE_KEY))
