"""python manage.py import_literature PATH... --topic SLUG [--skip-bad]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from evidencepress.evidence.models import Topic
from evidencepress.literature.importer import ImportRejected, ImportResult, import_path
from evidencepress.literature.records import LiteratureParseError


class Command(BaseCommand):
    help = (
        "Import PubMed/MEDLINE XML (.xml or .xml.gz), MEDLINE .nbib, RIS or BibTeX files into the "
        "evidence base. The format is detected from the content. By default the whole run is all "
        "or nothing; --skip-bad keeps the good records and lists the bad ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Files to import.")
        parser.add_argument(
            "--topic", required=True, help="Slug of the topic the publications belong to."
        )
        parser.add_argument(
            "--skip-bad",
            action="store_true",
            help="Skip unreadable records (and unreadable files) instead of importing nothing.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show a progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            topic = Topic.objects.get(slug=options["topic"])
        except Topic.DoesNotExist:
            raise CommandError(f"No topic with slug {options['topic']!r}.") from None
        skip_bad: bool = options["skip_bad"]
        show_progress = not options["no_progress"]
        totals = {"new": 0, "updated": 0, "duplicates": 0, "rejected": 0}
        failed_files: list[str] = []
        try:
            with transaction.atomic():
                for path in options["paths"]:
                    result = self._import_one(path, topic, skip_bad, show_progress, failed_files)
                    if result is None:
                        continue
                    for key in totals:
                        totals[key] += getattr(result, key)
                    for error in result.errors:
                        ident = f" ({error.identifier})" if error.identifier else ""
                        self.stderr.write(
                            f"{path.name}: record {error.position}{ident}: {error.message}"
                        )
                kept = totals["new"] + totals["updated"] + totals["duplicates"]
                if totals["rejected"] and not kept:
                    # --skip-bad keeps the good records; with none, the run failed (#17).
                    message = f"every record was rejected ({totals['rejected']})"
                    raise CommandError(f"{message}: nothing was imported.") from ImportRejected(
                        message
                    )
        except (ImportRejected, LiteratureParseError) as exc:
            raise CommandError(f"{exc}\nNothing was imported.") from exc
        self.stdout.write(
            f"new {totals['new']}, updated {totals['updated']}, "
            f"duplicates {totals['duplicates']}, rejected {totals['rejected']}"
        )
        if failed_files:
            raise CommandError(
                f"{len(failed_files)} file(s) could not be read and were skipped: "
                + ", ".join(failed_files)
            )

    def _import_one(
        self,
        path: Path,
        topic: Topic,
        skip_bad: bool,
        show_progress: bool,
        failed_files: list[str],
    ) -> ImportResult | None:
        bar = tqdm(
            desc=path.name,
            unit=" records",
            file=sys.stderr,
            disable=not show_progress,
            leave=False,
        )
        try:
            with transaction.atomic():
                return import_path(path, topic=topic, skip_bad=skip_bad, progress=bar.update)
        except LiteratureParseError as exc:
            if not skip_bad:
                raise
            self.stderr.write(f"Skipped {exc}")
            failed_files.append(path.name)
            return None
        finally:
            bar.close()
