"""`manage.py export_static`: write the public site as static files (articles/static_export.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidencepress.articles.static_export import site_export


class Command(BaseCommand):
    help = (
        "Render every live public page, the archive routes, feeds, sitemap.xml, robots.txt, "
        "publication entries, static files and used media into a directory for a static host."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="Directory to write (replaced at the end of a successful run). "
            "Default: var/static-site/.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        destination = options["output"] or Path(settings.VAR_DIR) / "static-site"
        try:
            result = site_export(destination=destination)
        except RuntimeError as error:
            raise CommandError(f"export to {destination} failed: {error}") from error
        for path, status in result.broken:
            self.stderr.write(f"skipped {path}: HTTP {status}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {len(result.pages)} URLs, {result.static_files} static files and "
                f"{result.media_files} media files to {result.destination}"
            )
        )
