"""Stamp the password login time in the session (for the absolute session lifetime)."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .middleware import AUTH_STARTED_SESSION_KEY


@receiver(user_logged_in, dispatch_uid="evidencepress-auth-started")
def stamp_login_time(sender: type, request: HttpRequest | None, **kwargs: Any) -> None:
    """Record when this session's login happened (StaffSessionMiddleware enforces the limit)."""
    if request is not None and hasattr(request, "session"):
        request.session[AUTH_STARTED_SESSION_KEY] = int(time.time())
