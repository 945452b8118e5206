"""Remind owners of API tokens about to expire, once per token (run it daily from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from django_stepup import signals
from django_stepup.models import Token


class Command(BaseCommand):
    help = (
        "Email the owner of each API token that expires within --days days, once per token "
        "(sends the token_expiring signal)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="Default: %(default)s.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the reminders due; send nothing."
        )

    def handle(self, *args, days, dry_run, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        now = timezone.now()
        horizon = now + timedelta(days=days)
        due = (
            Token.objects.api_tokens()
            .unexpired(now)
            .filter(
                Q(max_age__isnull=False, _absolute_expiry__lte=horizon)
                | Q(max_unused_period__isnull=False, _idle_expiry__lte=horizon),
                expiry_reminded_at__isnull=True,
                user__is_active=True,
            )
            .select_related("user")
        )
        if dry_run:
            self.stdout.write(f"{due.count()} reminder(s) would be sent.")
            return
        sent = 0
        for token in due:
            # Claimed by one conditional UPDATE: parallel runs remind once.
            claimed = Token.objects.filter(pk=token.pk, expiry_reminded_at__isnull=True).update(
                expiry_reminded_at=now
            )
            if not claimed:
                continue
            signals.token_expiring.send(
                sender=Token,
                user=token.user,
                token=token,
                expires_at=token.expires_at,
                request=None,
            )
            sent += 1
        self.stdout.write(f"Sent {sent} reminder(s).")
