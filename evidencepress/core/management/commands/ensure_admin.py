"""Create the local admin account once, and print its login (used by `make run`)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from evidencepress.core.roles import ensure_roles


class Command(BaseCommand):
    help = (
        "Create a superuser for local use with a random password, store the password in "
        "var/admin-login.txt (mode 0600) and print the login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin", help="Account name (default: admin).")
        parser.add_argument(
            "--reset", action="store_true", help="Give the account a new random password."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        ensure_roles()
        login_file = Path(settings.VAR_DIR) / "admin-login.txt"
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None or options["reset"]:
            password = secrets.token_urlsafe(12)
            if user is None:
                user = user_model.objects.create_superuser(
                    username=username, email=f"{username}@localhost", password=password
                )
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            login_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(login_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{username}\n{password}\n")
        elif login_file.exists():
            password = login_file.read_text().splitlines()[1]
        else:
            self.stdout.write(
                f"Admin account {username!r} exists; its password was changed by hand. "
                "Run `python manage.py ensure_admin --reset` for a new one."
            )
            return
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin login: {base}/admin/  user: {username}  password: {password}"
            )
        )
