"""Local development: DEBUG on, a fixed insecure key, console email."""

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Tailored summaries: without SUMMARIES_ENCRYPTION_KEYS, a key is generated on first use into
# var/ (never committed: /var/ is git-ignored) and reused afterwards.
if not SUMMARIES_ENCRYPTION_KEYS and not SUMMARIES_ENCRYPTION_KEY_FILE:  # noqa: F405
    SUMMARIES_ENCRYPTION_KEY_FILE = str(VAR_DIR / "summaries-encryption.key")  # noqa: F405
    SUMMARIES_GENERATE_KEY_FILE = True
