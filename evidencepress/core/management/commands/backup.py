"""Online backup of a database: SQLite backup API or pg_dump -Fc; file mode 0600; checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from evidencepress.core import backup


class Command(BaseCommand):
    help = (
        "Back up the database while the site runs (SQLite: online backup API, never a file "
        "copy; PostgreSQL: pg_dump -Fc). The file is private (0600) and checked after writing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="Backup file to create (default: var/backups/<database>-<UTC time>.sqlite3).",
        )
        parser.add_argument(
            "--database", default="default", help="Database alias to back up (default: default)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        alias: str = options["database"]
        if alias not in settings.DATABASES:
            raise CommandError(f"--database: no database called {alias!r} in settings")
        config = settings.DATABASES[alias]
        vendor = connections[alias].vendor
        output: Path = options["output"] or backup.default_backup_path(
            Path(settings.VAR_DIR), alias, vendor
        )
        try:
            if vendor == "sqlite":
                result = backup.sqlite_backup(source=Path(config["NAME"]), output=output)
            elif vendor == "postgresql":
                result = backup.postgres_backup(config=config, output=output)
            else:
                raise CommandError(f"backups of {vendor} databases are not supported")
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {alias} ({result.engine}) to {result.path}: "
                f"{result.size_bytes} bytes, check {result.check}, mode 0600"
            )
        )
