"""The platform layer's exceptions, all in one place.

    CoreError                anything core refuses or cannot do
    ├── BackupError          a backup or restore could not be made or failed its check (backup.py)
    └── RateLimitUnavailable the shared rate-limit store could not count a request (ratelimit.py):
                             callers decide whether to fail closed (the request form) or open

Permission refusals use Django's PermissionDenied, so that every refusal is audited the same
way (core.audit). `BackupError` stays importable from `core.backup`.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base of core's exceptions."""


class BackupError(CoreError):
    """A backup or restore could not be made or failed its check; the message says why."""


class RateLimitUnavailable(CoreError):
    """The rate-limit store could not count a request (a read-only or full database, Redis down)."""
