"""Delete summary requests sent or declined at least the retention period ago."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evidencepress.summaries.services import summary_request_purge


class Command(BaseCommand):
    help = (
        "Delete summary requests (and all their personal data) sent or declined at least "
        "SUMMARIES_RETENTION_DAYS days ago. Safe to run repeatedly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Override the retention period in days (default: SUMMARIES_RETENTION_DAYS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and days < 0:
            self.stderr.write("--days must be 0 or more.")
            raise SystemExit(2)
        deleted = summary_request_purge(days=days)
        self.stdout.write(f"Deleted {deleted} summary request(s) past the retention period.")
