"""Settings shared by every environment. Secrets and the database come from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent
VAR_DIR = Path(os.environ.get("EVIDENCEPRESS_VAR_DIR", BASE_DIR / "var"))

INSTALLED_APPS = [
    "evidencepress.core",
    "evidencepress.literature",
    "evidencepress.evidence",
    "evidencepress.articles",
    "evidencepress.demo",
    "evidencepress.summaries",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.sites",
    "evidencepress.core.users_app.UsersConfig",  # wagtail.users with the privilege rules
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tasks",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",  # sitemap.xml templates for wagtail.contrib.sitemaps
    # Security: second factor for staff (TOTP), login lockout, Content-Security-Policy.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
]

MIDDLEWARE = [
    # First: serves stored public pages to anonymous readers (evidencepress/core/page_cache.py).
    "evidencepress.core.page_cache.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "evidencepress.core.middleware.PermissionsPolicyMiddleware",
    "evidencepress.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF: refuses multipart bodies to text-only forms before request.POST is parsed.
    "evidencepress.core.middleware.TextFieldsOnlyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "evidencepress.core.middleware.StaffSessionMiddleware",
    # Summary editors reach their queue and nothing else of the admin (core/confinement.py).
    "evidencepress.core.confinement.RoleConfinementMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Keep last: turns axes' lockout signal into a 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "evidencepress.urls"
WSGI_APPLICATION = "evidencepress.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

SQLITE_OPTIONS: dict[str, Any] = {
    # WAL lets readers work while one writer commits; IMMEDIATE takes the write lock at BEGIN,
    # so concurrent writers wait (up to `timeout` seconds) instead of failing mid-transaction.
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=FULL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=20000;"
        # Deleted rows (erased personal data) are zeroed in the page, not left as free space;
        # core/erasure.py then empties the WAL. Some SQLite builds default to 0.
        "PRAGMA secure_delete=ON;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def database_from_env(default_sqlite_path: Path) -> dict[str, Any]:
    """Return the default database: DATABASE_URL when set, else SQLite (WAL) at the given path."""
    url = os.environ.get("DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["OPTIONS"] = dict(SQLITE_OPTIONS)
            config["CONN_MAX_AGE"] = 0
        return config
    default_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(default_sqlite_path),
        "OPTIONS": dict(SQLITE_OPTIONS),
    }


DATABASES = {"default": database_from_env(VAR_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id first (OWASP/ASVS 11.4.2); the others still verify older hashes, which Django
# re-hashes with Argon2 at the next successful login. settings/test.py uses MD5 for speed only.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "EvidencePress"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "txt", "xml", "ris", "bib", "nbib"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
# Shared page passwords are stored in plain text: not for sensitive content.
WAGTAIL_PRIVATE_PAGE_OPTIONS = {"SHARED_PASSWORD": False}
# The clinical review workflow publishes on the last approval without a page publish permission
# (evidencepress/articles/workflow_actions.py).
WAGTAIL_FINISH_WORKFLOW_ACTION = "evidencepress.articles.workflow_actions.publish_approved"
# Any edit after an approval sends the page back to the first step (Clinical review): the
# revision that goes live is the one every step approved (docs/publishing.md, "Publish paths").
WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT = True
WAGTAILDOCS_PRIVATE_COLLECTION_OPTIONS = {"SHARED_PASSWORD": False}

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# NCBI E-utilities etiquette: identify the tool and a contact address; an API key raises the
# permitted rate from 3 to 10 requests per second.
NCBI_EUTILS = {
    "BASE_URL": os.environ.get(
        "NCBI_EUTILS_BASE_URL", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    ),
    "API_KEY": os.environ.get("NCBI_API_KEY", ""),
    "TOOL": os.environ.get("NCBI_TOOL", "evidencepress"),
    "EMAIL": os.environ.get("NCBI_EMAIL", ""),
}

# Largest import file accepted (bytes, after decompression for .gz).
LITERATURE_MAX_IMPORT_BYTES = int(os.environ.get("LITERATURE_MAX_IMPORT_BYTES", 512 * 1024 * 1024))
# MEDLINE XML files at least this large (bytes on disk) are read by forked reader processes, in
# parallel, while the importing process writes (literature/pipeline.py); "off" imports every file
# in one process.
_reader_min = os.environ.get("LITERATURE_READER_PROCESS_MIN_BYTES", str(4 * 1024 * 1024))
LITERATURE_READER_PROCESS_MIN_BYTES = None if _reader_min == "off" else int(_reader_min)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # JSON lines: user-supplied text (usernames, queries) cannot forge a log line.
    "formatters": {"json": {"()": "evidencepress.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"evidencepress": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# Tailored summaries (docs/summaries.md). Encryption keys: comma-separated Fernet keys, current
# first, or a file with one key per line. Without a key, submissions are refused (fail closed).
SUMMARIES_ENCRYPTION_KEYS = [
    key.strip() for key in os.environ.get("SUMMARIES_ENCRYPTION_KEYS", "").split(",") if key.strip()
]
SUMMARIES_ENCRYPTION_KEY_FILE = os.environ.get("SUMMARIES_ENCRYPTION_KEY_FILE", "")
SUMMARIES_GENERATE_KEY_FILE = False
SUMMARIES_RETENTION_DAYS = int(os.environ.get("SUMMARIES_RETENTION_DAYS", "30"))
SUMMARIES_RATE_LIMIT_PER_ADDRESS = (5, 60 * 60)  # submissions per client address per hour
SUMMARIES_RATE_LIMIT_PER_EMAIL = (3, 24 * 60 * 60)  # submissions per email address per day
# Proxies in front of the app that append the client's address to X-Forwarded-For (e.g. 1 for
# one nginx), 0 for none: REMOTE_ADDR is then the client. One rule (core/client.py) for the
# request form's per-address limit, the sign-in lockout and the audit log's source address, so
# they count clients, not the proxy. SUMMARIES_TRUSTED_PROXIES is this variable's former name.
TRUSTED_PROXIES = int(
    os.environ.get("TRUSTED_PROXIES", os.environ.get("SUMMARIES_TRUSTED_PROXIES", "0"))
)
# How long an erasure waits for older database readers before emptying SQLite's WAL
# (evidencepress/core/erasure.py); if one is still reading, the daily purge finishes the job.
ERASURE_CHECKPOINT_WAIT_SECONDS = 20.0
# Where the withdrawal link in emails points; empty means WAGTAILADMIN_BASE_URL.
SUMMARIES_PUBLIC_BASE_URL = os.environ.get("SUMMARIES_PUBLIC_BASE_URL", "")


# --- Security (docs/security.md; tests in tests/security/) -----------------------------------
# Staff sign-in: axes refuses a (username, address) pair after 5 failures for 30 minutes; it
# must come first so a locked-out pair never reaches the password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client's address by the TRUSTED_PROXIES rule: behind a proxy, REMOTE_ADDR is the proxy's
# for everyone, and five failures would lock the account out from every address.
AXES_CLIENT_IP_CALLABLE = "evidencepress.core.client.client_ip"
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/lockout.html"
# Second factor: a TOTP code is required before any /admin/ page (StaffSessionMiddleware) and
# any login- or group-restricted page or document (core/wagtail_hooks.py). Restricted pages
# send visitors to the admin's sign-in (lockout, second factor), never to Wagtail's
# password-only /_util/login/ (which evidencepress/urls.py redirects there too).
WAGTAIL_FRONTEND_LOGIN_URL = "wagtailadmin_login"
OTP_TOTP_ISSUER = "EvidencePress"
PASSWORD_RESET_TIMEOUT = 60 * 60

# Sessions end after 30 idle minutes (the cookie age is renewed on every request) and after
# 12 hours in any case.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Headers on every response (HSTS and secure cookies are added in production.py).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page of ours uses, refused for the page and anything it embeds
# (core/middleware.py PermissionsPolicyMiddleware). [] means "no origin".
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "browsing-topics": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
    # The admin's preview and a future security key sign-in stay possible on our own origin.
    "fullscreen": ["self"],
    "publickey-credentials-get": ["self"],
}
# Reader-facing error pages are the site's own (templates/400.html, 403.html, 404.html,
# 500.html); a failed CSRF check re-shows a text-only form with what the reader typed.
CSRF_FAILURE_VIEW = "evidencepress.core.views.csrf_failure"
# Strict policy for public pages; the admin relaxation is in core/middleware.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
# No third-party avatar requests from the admin (staff email hashes would leave the site).
WAGTAIL_GRAVATAR_PROVIDER_URL = None

# Uploads: size caps, documents always downloaded (never rendered in our origin), image
# renditions bounded and only through signed URLs (Wagtail's default for dynamic serve).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_BLOCK_EMBEDDED_CONTENT = True
WAGTAILDOCS_INLINE_CONTENT_TYPES: list[str] = []
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
# A damaged image file gets a form error on every upload screen, not a 500.
WAGTAILIMAGES_IMAGE_FORM_BASE = "evidencepress.core.image_forms.ImageForm"

# Whole-page cache for anonymous readers of public pages (evidencepress/core/page_cache.py);
# keyed on the content version, so any publish or evidence change is seen at once. Off unless
# EVIDENCEPRESS_PAGE_CACHE=1. The "pages" cache is a directory every app server on the host
# shares (use Redis across hosts).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache" / "pages"),
        "TIMEOUT": 600,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}
# Rate-limit counts (core/ratelimit.py) must be shared by every process: Redis when REDIS_URL is
# set (Django's RedisCache; needs the `redis` package), else a table in the default database
# (created by core's migration 0003). Never a per-process cache, and never culled: a culled
# counter would let a client start its window again.
RATELIMIT_CACHE: dict[str, Any] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
    if os.environ.get("REDIS_URL")
    else {
        "BACKEND": "evidencepress.core.cache.CounterDatabaseCache",
        "LOCATION": "core_ratelimit_cache",
        "OPTIONS": {"MAX_ENTRIES": 10**9},
    }
)
CACHES["ratelimit"] = RATELIMIT_CACHE
PAGE_CACHE = {
    "ENABLED": os.environ.get("EVIDENCEPRESS_PAGE_CACHE", "0") == "1",
    "ALIAS": "pages",
    "TIMEOUT": 600,
}

# Refused requests recorded in the audit log: at most this many per user (or per address for
# the anonymous) per window; the rest are counted into the next recorded one (core/audit.py).
AUDIT_DENIED_LIMIT = 10
AUDIT_DENIED_WINDOW = 60
