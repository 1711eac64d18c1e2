"""Restore a database from a file made by `manage.py backup` (refuses a non-empty target)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from evidencepress.core import backup


class Command(BaseCommand):
    help = (
        "Restore the database from a backup file. Refuses when the target database already "
        "holds tables, unless --force is given. See docs/security.md (restore drill)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Backup file made by `manage.py backup`.")
        parser.add_argument("--database", default="default", help="Database alias to restore into.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite a target database that already holds data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        alias: str = options["database"]
        if not path.is_file():
            raise CommandError(f"{path}: no such backup file")
        if alias not in settings.DATABASES:
            raise CommandError(f"--database: no database called {alias!r} in settings")
        connection = connections[alias]
        config = settings.DATABASES[alias]
        if connection.vendor == "sqlite":  # look at the file: it may not exist yet
            non_empty = backup.sqlite_has_tables(Path(config["NAME"]))
        else:
            non_empty = bool(connection.introspection.table_names())
        if non_empty and not options["force"]:
            raise CommandError(
                f"the {alias} database already holds tables; restoring would replace them. "
                "Re-run with --force if that is what you want."
            )
        connection.close()
        try:
            if connection.vendor == "sqlite":
                result = backup.sqlite_restore(backup=path, target=Path(config["NAME"]))
            elif connection.vendor == "postgresql":
                result = backup.postgres_restore(config=config, backup=path)
            else:
                raise CommandError(f"restores of {connection.vendor} databases are not supported")
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {alias} from {path}: check {result.check}"))
