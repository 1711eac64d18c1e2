"""Erasure: delete every summary request made with one email address, at once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evidencepress.summaries.services import summary_requests_erase_for_email


class Command(BaseCommand):
    help = (
        "Delete every summary request (answers, email, summary) made with EMAIL, whatever its "
        "status (an erasure request). Each deletion is audited without personal data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The email address the reader used on the form.")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = summary_requests_erase_for_email(email=options["email"])
        self.stdout.write(f"Deleted {deleted} summary request(s) made with that email address.")
