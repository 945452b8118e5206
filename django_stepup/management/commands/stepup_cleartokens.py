"""Delete expired tokens, outside the request path (run it from cron)."""

from django.core.management.base import BaseCommand

from django_stepup.models import Token


class Command(BaseCommand):
    help = "Delete tokens past their absolute or idle expiry."

    def add_arguments(self, parser):
        parser.add_argument(
            "--login-only",
            action="store_true",
            help="Delete only expired login tokens; keep expired API tokens for review.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, login_only, dry_run, **options):
        expired = Token.objects.expired()
        if login_only:
            expired = expired.login_tokens()
        pks = Token.objects.filter(pk__in=expired.values("pk"))
        if dry_run:
            self.stdout.write(f"{pks.count()} expired token(s) would be deleted.")
            return
        # delete() counts the cascaded policy rows too: report the tokens only.
        _total, per_model = pks.delete()
        count = per_model.get(Token._meta.label, 0)
        self.stdout.write(f"Deleted {count} expired token(s).")
