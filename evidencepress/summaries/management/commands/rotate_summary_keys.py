"""Re-encrypt every summary request with the current (first) encryption key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evidencepress.summaries.crypto import EncryptionUnavailable
from evidencepress.summaries.keys import summary_requests_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt all summary requests with the first key in SUMMARIES_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = summary_requests_rotate()
        except EncryptionUnavailable as error:
            raise CommandError(f"Nothing was changed: {error}") from error
        self.stdout.write(f"Re-encrypted {count} summary request(s) with the current key.")
