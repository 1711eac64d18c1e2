"""Settings: production refuses to start without its secrets; SQLite runs in WAL mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def run_check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests in the same worker; a real
        # deployment never has it, and check --deploy rightly reports it (async.E001).
        if k
        not in ("DJANGO_SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="evidencepress.settings.production")
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_environment(missing: str, tmp_path: Path) -> None:
    env = {
        "DJANGO_SECRET_KEY": "x" * 60,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "example.org",
    }
    del env[missing]
    result = run_check(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_deploy_check_is_clean(tmp_path: Path) -> None:
    env = {
        "DJANGO_SECRET_KEY": "a-long-random-production-secret-" + "k" * 40 + "-9f8e7d",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "evidence.example.org",
        "SUMMARIES_ENCRYPTION_KEYS": "ZXZpZGVuY2VwcmVzcy10ZXN0LWtleS1ub3QtcmVhbCE=",
    }
    result = run_check(env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_sqlite_runs_with_wal_foreign_keys_and_full_sync() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragmas only apply to SQLite")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2  # FULL


@pytest.mark.django_db
def test_ensure_admin_creates_one_account_and_prints_its_login(
    tmp_path: Path, settings: object, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.VAR_DIR = tmp_path  # type: ignore[attr-defined]
    call_command("ensure_admin")
    first = capsys.readouterr().out
    assert "user: admin" in first and "password: " in first
    password = first.split("password: ")[1].split()[0]
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    login_request = RequestFactory().post("/admin/login/")  # django-axes needs the request
    assert authenticate(login_request, username="admin", password=password) is not None
    assert oct((tmp_path / "admin-login.txt").stat().st_mode & 0o777) == "0o600"
    call_command("ensure_admin")
    assert f"password: {password}" in capsys.readouterr().out  # same account, same password
