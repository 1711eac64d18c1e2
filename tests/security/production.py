"""Read the security-relevant values of settings/production.py (in a subprocess, with dummy
secrets), so tests can run the test client with exactly what production would send."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_KEYS = (
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_AGE",
    "SESSION_SAVE_EVERY_REQUEST",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_NAME",
    "X_FRAME_OPTIONS",
    "DEBUG",
)

_SCRIPT = """
import json, sys
from evidencepress.settings import production as p
keys = sys.argv[1:]
print(json.dumps({k: getattr(p, k) for k in keys}))
"""


@cache
def production_settings(tmp_dir: str) -> dict[str, object]:
    """The production values of PRODUCTION_KEYS (tuples come back as lists)."""
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "prod-like-" + "s" * 60,
        "DATABASE_URL": f"sqlite:///{tmp_dir}/prod.sqlite3",
        "ALLOWED_HOSTS": "testserver",
        "SUMMARIES_ENCRYPTION_KEYS": "ZXZpZGVuY2VwcmVzcy10ZXN0LWtleS1ub3QtcmVhbCE=",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *PRODUCTION_KEYS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    values: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    if isinstance(values.get("SECURE_PROXY_SSL_HEADER"), list):
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])  # type: ignore[arg-type]
    return values
