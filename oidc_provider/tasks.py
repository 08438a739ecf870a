"""Tasks of this app, for Django's Tasks framework (``django.tasks`` on Django 6, else the
``django-tasks`` backport). Imported on first use, so settings are read at run time."""

from __future__ import annotations

try:
    from django.tasks import task
except ImportError:  # Django < 6.0
    from django_tasks import task


@task
def deliver_logout(delivery_id: int, not_after: float | None = None) -> str:
    """One attempt of a back-channel logout delivery (``backchannel.attempt``)."""
    from .backchannel import attempt

    return attempt(delivery_id, not_after)
