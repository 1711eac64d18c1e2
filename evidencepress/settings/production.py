"""Production settings: every secret from the environment; refuse to start without them."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

REQUIRED_ENVIRONMENT = ("DJANGO_SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS")
_missing = [name for name in REQUIRED_ENVIRONMENT if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        "EvidencePress production settings need these environment variables: "
        + ", ".join(_missing)
        + ". See docs/deployment.md."
    )

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = [h.strip() for h in os.environ["ALLOWED_HOSTS"].split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if not h.startswith(".")]

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "true").lower() != "false"
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
# "__Host-" cookies are only accepted by browsers when Secure, host-only and for path "/".
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
X_FRAME_OPTIONS = "DENY"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", f"https://{ALLOWED_HOSTS[0]}")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    },
}
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "false").lower() == "true"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "evidencepress@localhost")

# Summary requests hold health data encrypted at rest: no key, no start (docs/summaries.md).
if not (SUMMARIES_ENCRYPTION_KEYS or SUMMARIES_ENCRYPTION_KEY_FILE):  # noqa: F405
    raise ImproperlyConfigured(
        "EvidencePress production settings need SUMMARIES_ENCRYPTION_KEYS (comma-separated "
        "Fernet keys, current first) or SUMMARIES_ENCRYPTION_KEY_FILE. See docs/summaries.md."
    )
