"""Per-client settings lookup, created on demand for clients that predate the app."""

from __future__ import annotations

from typing import Any

from .models import ClientProfile


def profile_for(application: Any) -> ClientProfile:
    """The ClientProfile of ``application``, cached on the instance for the request."""
    try:
        return application.oidc_profile
    except ClientProfile.DoesNotExist:
        profile, _ = ClientProfile.objects.get_or_create(application=application)
        application.oidc_profile = profile
        return profile
