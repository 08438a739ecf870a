"""``manage.py oidc_prune`` - delete records nothing needs any more (run it from cron, like DOT's
``cleartokens``): used jtis and revocation entries past their expiry, authentication contexts of
codes never exchanged or tokens since deleted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from oidc_provider import authn, revocation, single_use


class Command(BaseCommand):
    help = "Delete expired single-use records (jtis), revocation entries and unused authentication contexts."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {
            "used jtis": single_use.prune(),
            "revoked-token entries": revocation.prune(),
            "authentication contexts": authn.clear_expired(),
        }
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Deleted {summary}."))
