"""Delete old audit events, outside the request path (run it from cron)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from django_stepup.conf import stepup_settings
from django_stepup.models import AuditEvent


class Command(BaseCommand):
    help = "Delete audit events older than STEPUP['AUDIT_LOG_MAX_AGE']."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, dry_run, **options):
        cutoff = timezone.now() - stepup_settings.AUDIT_LOG_MAX_AGE
        old = AuditEvent.objects.filter(created__lt=cutoff)
        if dry_run:
            self.stdout.write(f"{old.count()} audit event(s) would be deleted.")
            return
        count, _deleted = old.delete()
        self.stdout.write(f"Deleted {count} audit event(s).")
