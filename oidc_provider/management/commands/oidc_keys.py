"""``manage.py oidc_keys create|rotate|retire|revoke|list|prune|reencrypt`` - cron-friendly key lifecycle."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from oidc_provider import keys
from oidc_provider.conf import oidc_settings
from oidc_provider.encryption import KeyDecryptionError
from oidc_provider.models import SigningKey

ALGS = [alg for alg, _ in SigningKey.ALGORITHM_CHOICES]


class Command(BaseCommand):
    help = "Manage OIDC signing keys: create, rotate, retire, revoke, list, prune, reencrypt."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create",
            help="Create keys: an active and a pre-published next key when none exist, else the missing one.",
        )
        create.add_argument("--alg", default="RS256", choices=ALGS)
        create.add_argument("--state", choices=["next", "active"], default=None)
        create.add_argument("--from-pem", metavar="FILE", help="Import a PEM private key instead.")
        rotate = sub.add_parser("rotate", help="next -> active, active -> retired, new next.")
        rotate.add_argument("--alg", action="append", choices=ALGS, help="Repeatable; default: all in use.")
        rotate.add_argument(
            "--if-due", action="store_true", help="Only when older than KEY_ROTATION_PERIOD (for cron)."
        )
        for action, what in (
            ("retire", "Stop signing (an active key is replaced by the next one); stays published."),
            ("revoke", "Compromised: unpublish now (an active key is replaced by the next one)."),
        ):
            sub.add_parser(action, help=what).add_argument("kid")
        sub.add_parser("list", help="Show keys as a table.")
        sub.add_parser("prune", help="Delete expired retired keys and revoked keys.")
        sub.add_parser("reencrypt", help="Re-encrypt private keys under the first ENCRYPTION_KEYS entry.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"do_{action}")(**options)
        except (keys.KeyOperationError, KeyDecryptionError, OSError) as exc:
            raise CommandError(str(exc)) from None
        keys.invalidate()

    def do_create(self, alg: str, state: str | None, from_pem: str | None, **_: Any) -> None:
        existing = set(
            SigningKey.objects.filter(
                algorithm=alg, state__in=[SigningKey.State.ACTIVE, SigningKey.State.NEXT]
            ).values_list("state", flat=True)
        )
        if state is None:
            state = SigningKey.State.NEXT if SigningKey.State.ACTIVE in existing else SigningKey.State.ACTIVE
        if state in existing:
            raise CommandError(f"The {state} {alg} key exists already; use `oidc_keys rotate --alg {alg}`.")
        private_key = None
        if from_pem:
            with open(from_pem, "rb") as f:
                private_key = keys.load_private_pem(f.read(), alg)
        with transaction.atomic():
            created = [keys.create_key(alg, state=state, private_key=private_key)]
            if state == SigningKey.State.ACTIVE and SigningKey.State.NEXT not in existing:
                # Publish the successor now, so the first rotation needs no cache wait (README).
                created.append(keys.create_key(alg, state=SigningKey.State.NEXT))
        for key in created:
            self.stdout.write(self.style.SUCCESS(f"Created {alg} key {key.kid} ({key.state})."))

    def do_rotate(self, alg: list[str] | None, if_due: bool, **_: Any) -> None:
        algs = alg or sorted(
            set(
                SigningKey.objects.filter(
                    state__in=[SigningKey.State.ACTIVE, SigningKey.State.NEXT]
                ).values_list("algorithm", flat=True)
            )
        )
        if not algs:
            raise CommandError("No keys to rotate. Create one with `oidc_keys create --alg RS256`.")
        if if_due and not oidc_settings.KEY_ROTATION_PERIOD:
            raise CommandError(
                "--if-due needs OIDC_PROVIDER['KEY_ROTATION_PERIOD'] (seconds between rotations, "
                "e.g. 7776000 for 90 days); without it no rotation is ever due."
            )
        for name in algs:
            result = keys.rotate_if_due(name) if if_due else keys.rotate(name)
            if result is None:
                self.stdout.write(f"{name}: not due.")
            elif not result.performed:
                self.stdout.write(f"{name}: another process rotated first; nothing done.")
            else:
                retired = result.retired.kid if result.retired else "-"
                summary = f"active {result.activated.kid}, retired {retired}, next {result.created.kid}"
                self.stdout.write(self.style.SUCCESS(f"{name}: {summary}."))

    def do_retire(self, kid: str, **_: Any) -> None:
        keys.retire(self._key(kid))
        self.stdout.write(self.style.SUCCESS(f"Retired {kid}.{self._signing()}"))

    def do_revoke(self, kid: str, **_: Any) -> None:
        key = self._key(kid)
        if key.state == SigningKey.State.REVOKED:
            raise CommandError(f"Key {kid} is already revoked.")
        keys.revoke(key)
        self.stdout.write(self.style.SUCCESS(f"Revoked {kid}: it is unpublished.{self._signing()}"))

    def _key(self, kid: str) -> SigningKey:
        try:
            return SigningKey.objects.get(kid=kid)
        except SigningKey.DoesNotExist:
            raise CommandError(f"No signing key {kid!r}; `oidc_keys list` shows them.") from None

    def _signing(self) -> str:
        active = SigningKey.objects.filter(state=SigningKey.State.ACTIVE).order_by("algorithm")
        return "".join(f" {key.algorithm} signs with {key.kid}." for key in active)

    def do_list(self, **_: Any) -> None:
        rows = [("KID", "ALG", "STATE", "CREATED", "PUBLISHED UNTIL")]
        for key in SigningKey.objects.order_by("algorithm", "state", "-created_at"):
            until = key.expires_at.isoformat(timespec="seconds") if key.expires_at else "-"
            if key.state == SigningKey.State.REVOKED:
                until = "unpublished"
            rows.append(
                (key.kid, key.algorithm, key.state, key.created_at.isoformat(timespec="seconds"), until)
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())

    def do_prune(self, **_: Any) -> None:
        count = keys.prune()
        self.stdout.write(self.style.SUCCESS(f"Pruned {count} key(s) at {timezone.now():%Y-%m-%d %H:%M}."))

    def do_reencrypt(self, **_: Any) -> None:
        count = keys.reencrypt_all()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} key(s)."))
