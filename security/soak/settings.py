"""Settings for the loopback soak (make security-full): production settings, but plain HTTP
on 127.0.0.1 (no TLS terminator in front) and rate limits lifted so that ten writers from one
address can submit for a minute. Never use these settings anywhere else."""

from evidencepress.settings.production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8765"]
SUMMARIES_RATE_LIMIT_PER_ADDRESS = (10**9, 60)
SUMMARIES_RATE_LIMIT_PER_EMAIL = (10**9, 60)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PAGE_CACHE = {"ENABLED": False}
