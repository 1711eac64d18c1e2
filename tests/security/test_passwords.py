"""C3: password storage. Argon2id hashes in base and production settings; no plaintext on disk.

settings/test.py swaps in a fast MD5 hasher to keep the suite quick, so these tests read the
hashers of settings/base.py and settings/production.py themselves and apply them explicitly.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
BASE_HASHERS: list[str] = importlib.import_module("evidencepress.settings.base").PASSWORD_HASHERS


def test_base_settings_hash_with_argon2_first() -> None:
    assert BASE_HASHERS[0] == ARGON2
    # Older hashes can still be checked (and are upgraded at login), nothing weaker than PBKDF2.
    assert not any("MD5" in name or "Unsalted" in name for name in BASE_HASHERS)


def test_production_settings_hash_with_argon2_first(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "prod-like-" + "s" * 60,
        "DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3",
        "ALLOWED_HOSTS": "testserver",
        "SUMMARIES_ENCRYPTION_KEYS": "ZXZpZGVuY2VwcmVzcy10ZXN0LWtleS1ub3QtcmVhbCE=",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    script = (
        "import json; from evidencepress.settings import production as p; "
        "print(json.dumps(p.PASSWORD_HASHERS))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    hashers = json.loads(done.stdout.strip().splitlines()[-1])
    assert hashers[0] == ARGON2


@override_settings(PASSWORD_HASHERS=BASE_HASHERS)
def test_new_passwords_are_argon2id_and_verify() -> None:
    encoded = make_password("a long staff passphrase 7")
    assert encoded.startswith("argon2$argon2id$")  # argon2-cffi is installed and used
    assert check_password("a long staff passphrase 7", encoded)
    assert not check_password("a long staff passphrase 8", encoded)


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=BASE_HASHERS)
def test_an_old_pbkdf2_hash_is_upgraded_to_argon2_at_login() -> None:
    user = get_user_model().objects.create_user("olda", "olda@example.org")
    user.password = make_password("an older passphrase 99", hasher="pbkdf2_sha256")
    user.save()
    assert user.password.startswith("pbkdf2_sha256$")
    assert user.check_password("an older passphrase 99")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="scans the SQLite database file")
@pytest.mark.django_db(transaction=True)
@override_settings(PASSWORD_HASHERS=BASE_HASHERS)
def test_no_plaintext_password_reaches_the_database_file() -> None:
    """Create users and make a failed login (django-axes records attempts), then grep the
    SQLite file and its write-ahead log for the passwords."""
    canaries = ["Canary-Passphrase-Alpha-4821", "Canary-Passphrase-Beta-7730"]
    users = get_user_model().objects
    users.create_user("cara", "cara@example.org", canaries[0])
    users.create_superuser("cyril", "cyril@example.org", canaries[1])
    wrong = "Canary-Wrong-Guess-5519"
    response = Client().post("/admin/login/", {"username": "cara", "password": wrong})
    assert response.status_code == 200 and "_auth_user_id" not in response.wsgi_request.session

    database = Path(connection.settings_dict["NAME"])
    stored = b"".join(
        path.read_bytes()
        for path in (database, database.with_name(database.name + "-wal"))
        if path.exists()
    )
    assert b"cara@example.org" in stored  # the grep does see what was written
    found = [c for c in [*canaries, wrong] if c.encode() in stored]
    assert found == []
