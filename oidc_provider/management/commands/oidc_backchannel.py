"""``manage.py oidc_backchannel retry|prune|end-expired`` - cron-friendly back-channel logout upkeep."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from oidc_provider import backchannel, sessions
from oidc_provider.models import ProviderSession


class Command(BaseCommand):
    help = "Back-channel logout: retry due deliveries, prune old ones, end expired provider sessions."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        retry = sub.add_parser("retry", help="Attempt every pending delivery that is due.")
        retry.add_argument("--limit", type=int, default=1000)
        prune = sub.add_parser("prune", help="Delete delivered and failed deliveries older than --days.")
        prune.add_argument("--days", type=int, default=30)
        expired = sub.add_parser(
            "end-expired", help="End provider sessions whose Django session is gone (after clearsessions)."
        )
        expired.add_argument("--limit", type=int, default=10000)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, "do_" + action.replace("-", "_"))(**options)

    def do_retry(self, limit: int, **_: Any) -> None:
        outcomes = backchannel.retry_due(limit=limit)
        summary = ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items())) or "nothing due"
        self.stdout.write(f"Retried: {summary}.")

    def do_prune(self, days: int, **_: Any) -> None:
        deleted = backchannel.prune(timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} finished delivery(ies) older than {days} day(s).")

    def do_end_expired(self, limit: int, **_: Any) -> None:
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        live = ProviderSession.objects.filter(ended_at=None).exclude(session_key="")
        gone = [row.sid for row in live[:limit] if not store.exists(row.session_key)]
        ended = sessions.end(gone, reason="expired")
        self.stdout.write(f"Ended {len(ended)} expired provider session(s).")
