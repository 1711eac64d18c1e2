"""python manage.py import_cases FILE.csv|FILE.xlsx --topic SLUG [--dry-run]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidencepress.evidence.case_import import MAX_FILE_BYTES, CasePlan, plan_case_import
from evidencepress.evidence.models import Topic
from evidencepress.evidence.services import CaseImportRefused, import_cases


class Command(BaseCommand):
    help = (
        "Import cases from a spreadsheet with the columns of export_cases, all or nothing "
        "(docs/cases-spreadsheet.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A .csv or .xlsx file.")
        parser.add_argument("--topic", required=True, help="Topic slug.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            topic = Topic.objects.get(slug=options["topic"])
        except Topic.DoesNotExist:
            raise CommandError(f"No topic with slug {options['topic']!r}.") from None
        path: Path = options["file"]
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(
                    f"{path.name}: larger than the {MAX_FILE_BYTES:,} bytes allowed; "
                    "split the file."
                )
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}.") from None
        if options["dry_run"]:
            plan = plan_case_import(topic=topic, data=data, name=path.name)
            self._report(plan, "would be")
            if plan.errors:
                raise CommandError(self._errors(plan))
            return
        try:
            result = import_cases(topic=topic, data=data, name=path.name)
        except CaseImportRefused as exc:
            raise CommandError(f"{self._errors(exc.plan)}\n{exc}") from None
        self._report(result.plan, "")

    def _report(self, plan: CasePlan, verb: str) -> None:
        for case in plan.cases:
            if case.action == "changed":
                changed = ", ".join(change.column for change in case.changes)
                self.stdout.write(f"row {case.row}: {case.label}: {changed}")
        counts = plan.counts
        prefix = f"{verb} " if verb else ""
        self.stdout.write(
            f"{plan.file}: {counts['new']} new, {counts['changed']} changed, "
            f"{counts['unchanged']} unchanged {prefix}".rstrip()
        )

    @staticmethod
    def _errors(plan: CasePlan) -> str:
        return "\n".join(str(error) for error in plan.errors)
