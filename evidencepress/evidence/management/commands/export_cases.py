"""python manage.py export_cases --topic SLUG --format csv|json|xlsx [--no-demo] [--output FILE]"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidencepress.evidence.export import COLUMNS, case_rows, csv_cell, xlsx_bytes
from evidencepress.evidence.models import Topic

DEMO_NOTE = (
    "Rows with demonstration_data=true are invented, illustrative cases: not medical evidence."
)


class Command(BaseCommand):
    help = "Export one row per reported patient of a topic (columns: docs/data-dictionary.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", required=True, help="Topic slug.")
        parser.add_argument(
            "--format",
            choices=("csv", "json", "xlsx"),
            default="csv",
            help="Output format (csv, json or xlsx; xlsx needs --output).",
        )
        parser.add_argument("--no-demo", action="store_true", help="Leave out demonstration cases.")
        parser.add_argument("--output", type=Path, help="Write to this file instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            topic = Topic.objects.get(slug=options["topic"])
        except Topic.DoesNotExist:
            raise CommandError(f"No topic with slug {options['topic']!r}.") from None
        rows = list(case_rows(topic, include_demo=not options["no_demo"]))
        has_demo = any(row["demonstration_data"] for row in rows)
        if options["format"] == "xlsx":
            if not options["output"]:
                raise CommandError("--format xlsx writes a workbook: give --output FILE.xlsx.")
            options["output"].write_bytes(xlsx_bytes(rows, note=DEMO_NOTE if has_demo else ""))
            self.stderr.write(f"{len(rows)} cases written to {options['output']}")
            return
        if options["format"] == "json":
            document: dict[str, Any] = {"topic": topic.slug, "cases": rows}
            if has_demo:
                document["warning"] = DEMO_NOTE
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        else:
            buffer = io.StringIO()
            if has_demo:
                buffer.write(f"# {DEMO_NOTE}\n")
            writer = csv.DictWriter(buffer, fieldnames=[name for name, _ in COLUMNS])
            writer.writeheader()
            for row in rows:
                # Text cells starting with = + - @ are prefixed with ' (docs/data-dictionary.md).
                writer.writerow({key: csv_cell(value) for key, value in row.items()})
            text = buffer.getvalue()
        if options["output"]:
            options["output"].write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(rows)} cases written to {options['output']}")
        else:
            self.stdout.write(text, ending="")
