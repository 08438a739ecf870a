"""Per-client settings (ClientProfile), created on demand for clients that predate the app.

Every token request needs its client's profile, so each process keeps the profiles it has read.
A version stamp in Django's cache (one read per request) tells every process when any profile
changed; the process that saved it forgets its copies at once.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import stamps
from .models import ClientProfile

VERSION_CACHE_KEY = "oidc_provider:client-profiles:version"
_ON_INSTANCE = "_oidc_provider_profile"  # the profile for this request's Application instance

_profiles: dict[Any, ClientProfile] = {}
_version: str | None = None


def profile_for(application: Any) -> ClientProfile:
    """The ClientProfile of ``application``; read from the database once per process and change."""
    profile = application.__dict__.get(_ON_INSTANCE)
    if profile is not None:
        return profile
    global _version
    version = stamps.current(VERSION_CACHE_KEY)
    if version != _version:
        _profiles.clear()
        _version = version
    profile = _profiles.get(application.pk)
    if profile is None:
        profile, _ = ClientProfile.objects.get_or_create(application_id=application.pk)
        _profiles[application.pk] = profile
    application.__dict__[_ON_INSTANCE] = profile
    return profile


def clear_local_cache() -> None:
    _profiles.clear()


@receiver(post_save, sender=ClientProfile)
@receiver(post_delete, sender=ClientProfile)
def _profile_changed(**kwargs: Any) -> None:
    _profiles.clear()
    transaction.on_commit(lambda: stamps.bump(VERSION_CACHE_KEY))
