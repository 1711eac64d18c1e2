"""Test settings: fast hasher, memory cache, immediate tasks, a throwaway database."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import RATELIMIT_CACHE, database_from_env

DEBUG = False
SECRET_KEY = "test-only-insecure-key"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": RATELIMIT_CACHE,  # shared by processes, as in production (core/ratelimit.py)
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = Path(tempfile.gettempdir()) / f"evidencepress-test-media-{os.getpid()}"

# A file-backed SQLite test database (not :memory:) so that subprocess tests (kill -9 during an
# import) and WAL behaviour are real. pytest-django appends the xdist worker id to the name;
# EVIDENCEPRESS_TEST_DB_TAG keeps two checkouts (or two people) on one machine apart.
_tag = os.environ.get("EVIDENCEPRESS_TEST_DB_TAG", "")
_tmp = Path(tempfile.gettempdir())
_db = database_from_env(_tmp / f"evidencepress-test-default{_tag}.sqlite3")
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["TEST"] = {"NAME": str(_tmp / f"evidencepress-test{_tag}.sqlite3")}
DATABASES = {"default": _db}
NCBI_EUTILS = {
    "BASE_URL": "https://eutils.test.invalid/entrez/eutils/",
    "API_KEY": "",
    "TOOL": "evidencepress-tests",
    "EMAIL": "tests@example.org",
}
# A fixed, public test key (32 bytes, url-safe base64): never used outside the tests.
SUMMARIES_ENCRYPTION_KEYS = ["ZXZpZGVuY2VwcmVzcy10ZXN0LWtleS1ub3QtcmVhbCE="]
SUMMARIES_ENCRYPTION_KEY_FILE = ""
