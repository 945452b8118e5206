"""List every token with its owner, scope and risk flags (see :mod:`django_stepup.inventory`)."""

import csv
import json

from django.core.management.base import BaseCommand

from django_stepup import inventory

COLUMNS = [
    "owner",
    "id",
    "name",
    "kind",
    "flags",
    "policies",
    "subnets",
    "networks",
    "created",
    "last_used",
    "expires_at",
    "risks",
]


def cell(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class Command(BaseCommand):
    help = "List every token: owner, kind, flags, policies, subnets, networks, dates and risks."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
        parser.add_argument(
            "--stale-days",
            type=int,
            default=inventory.DEFAULT_STALE_DAYS,
            help="Flag tokens unused for this many days (default %(default)s).",
        )
        parser.add_argument(
            "--max-networks",
            type=int,
            default=inventory.DEFAULT_MAX_NETWORKS,
            help="Flag tokens used from more networks than this (default %(default)s).",
        )

    def handle(self, *args, format, stale_days, max_networks, **options):
        thresholds = inventory.Thresholds(stale_days=stale_days, max_networks=max_networks)
        rows = inventory.rows(thresholds)
        if format == "json":
            self.stdout.write(json.dumps(rows, default=cell, indent=2))
            return
        table = [[cell(row[column]) for column in COLUMNS] for row in rows]
        if format == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(table)
            return
        widths = [
            max([len(column), *(len(line[i]) for line in table)])
            for i, column in enumerate(COLUMNS)
        ]
        for line in [COLUMNS, *table]:
            self.stdout.write(
                "  ".join(
                    text.ljust(width) for text, width in zip(line, widths, strict=True)
                ).rstrip()
            )
        counts = inventory.count_risks(rows)
        self.stdout.write(
            f"\n{len(rows)} token(s). "
            + ", ".join(f"{risk}: {counts.get(risk, 0)}" for risk in inventory.RISKS)
        )
