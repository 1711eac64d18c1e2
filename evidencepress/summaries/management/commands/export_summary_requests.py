"""Subject access: print, as JSON, everything stored about the requests made with one email."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evidencepress.core.audit import audit_record
from evidencepress.summaries.selectors import request_export, requests_for_email


class Command(BaseCommand):
    help = (
        "Print as JSON everything stored about the summary requests made with EMAIL (a subject "
        "access request). Each exported request is audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The email address the reader used on the form.")

    def handle(self, *args: Any, **options: Any) -> None:
        found = requests_for_email(options["email"])
        for summary_request in found:
            audit_record(
                action="summary_request.exported",
                object_type="summary_request",
                object_id=str(summary_request.public_id),
                detail={"format": "json", "via": "command", "status": summary_request.status},
            )
        exported = [request_export(summary_request) for summary_request in found]
        self.stdout.write(json.dumps({"requests": exported}, indent=2, ensure_ascii=False))
