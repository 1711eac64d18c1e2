"""An email backend whose server is down: every send raises, like SMTP on a refused connection."""

from __future__ import annotations

from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class FailingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("the mail server is down")
