"""Revoke the tokens whose secrets are listed in a file (one per line; "-" reads stdin)."""

import sys

from django.core.management.base import BaseCommand

from django_stepup import leaks


class Command(BaseCommand):
    help = (
        "Revoke every live token whose secret appears in FILE (one secret per line, '-' for "
        "standard input) and email its owner. Prints counts, never a secret."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--url", default="", help="Where the secrets were found.")

    def handle(self, *args, file, url, **options):
        if file == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(file, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        values = [line.strip() for line in lines if line.strip()]
        labels = [leaks.revoke_leaked(value, url=url, source="command") for value in values]
        revoked = labels.count(leaks.TRUE_POSITIVE)
        self.stdout.write(
            f"Revoked {revoked} token(s); {len(labels) - revoked} line(s) matched no live token."
        )
