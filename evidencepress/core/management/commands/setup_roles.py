"""Create or update the staff groups (Editors, Clinician reviewers, Summary editors, Admins)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evidencepress.core.roles import ensure_roles


class Command(BaseCommand):
    help = (
        "Create or update the four staff groups and their Wagtail permissions "
        "(see docs/roles.yaml). Permissions added by hand are removed. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        changed = ensure_roles()
        for name, count in changed.items():
            self.stdout.write(f"{name}: {count} permission(s) added or removed")
        self.stdout.write(self.style.SUCCESS("Staff groups are up to date."))
