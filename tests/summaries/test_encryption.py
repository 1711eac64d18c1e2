"""Personal data is encrypted at rest; keys rotate; no key means no submission (fail closed)."""

from __future__ import annotations

import io
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from evidencepress.evidence.models import Topic
from evidencepress.summaries import crypto
from evidencepress.summaries.models import SummaryRequest
from evidencepress.summaries.services import summary_request_submit

ROOT = Path(__file__).resolve().parents[2]


def raw_database_bytes() -> bytes:
    """The SQLite file and its WAL, after a checkpoint, exactly as they sit on disk."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(connection.settings_dict["NAME"])
    data = path.read_bytes()
    for suffix in ("-wal", "-shm"):
        extra = Path(str(path) + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data


def hits(data: bytes, canary: str) -> int:
    return sum(
        data.count(canary.encode(encoding)) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="scans the SQLite database file")
@pytest.mark.django_db(transaction=True)
def test_no_submitted_string_is_readable_in_the_database_file() -> None:
    control = f"CONTROL-{secrets.token_hex(6)}"
    topic = Topic.objects.create(
        name=f"Topic {control}", slug="canary-topic", treatment="Imiquimod", condition="Test"
    )
    canaries: list[str] = []
    for _ in range(10):
        tokens = {name: f"{name.upper()}-{secrets.token_hex(8)}" for name in (
            "email", "site", "diagnosis", "question", "prior", "current", "draft", "reason",
        )}  # fmt: skip
        canaries += tokens.values()
        summary_request = summary_request_submit(
            topic=topic,
            email=f"{tokens['email'].lower()}@example.com",
            situation={
                "setting": "scalp_face",
                "site": tokens["site"],
                "lesion_depth": "superficial",
                "prior_treatments": ["radiotherapy"],
                "prior_treatments_other": tokens["prior"],
                "current_treatments_other": tokens["current"],
                "question": f"{tokens['question']} and {tokens['diagnosis']} ñ é 汉字",
            },
            detail="short",
            consent_version="test",
        )
        summary_request.drafted_text = tokens["draft"]
        summary_request.decline_reason = tokens["reason"]
        summary_request.save()
    data = raw_database_bytes()
    assert hits(data, control) > 0, "the scan must find a plain (unencrypted) string"
    found = {canary: hits(data, canary) for canary in canaries if hits(data, canary)}
    assert found == {}
    assert hits(data, "example.com") == 0
    # Still readable through the application.
    assert SummaryRequest.objects.count() == 10
    assert SummaryRequest.objects.first().email.endswith("@example.com")


def test_encryption_is_authenticated_and_randomised(db: None) -> None:
    first, second = crypto.encrypt_text("same text"), crypto.encrypt_text("same text")
    assert first != second
    assert crypto.decrypt_text(first) == "same text"
    tampered = first[:-4] + ("AAAA" if not first.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.EncryptionUnavailable):
        crypto.decrypt_text(tampered)


def test_rotation_reencrypts_every_row_with_the_new_key(topic: Topic) -> None:
    old_key = "ZXZpZGVuY2VwcmVzcy10ZXN0LWtleS1ub3QtcmVhbCE="
    new_key = Fernet.generate_key().decode()
    ids = [
        summary_request_submit(
            topic=topic,
            email=f"reader{n}@example.com",
            situation={"question": f"question {n}"},
            detail="short",
            consent_version="test",
        ).pk
        for n in range(3)
    ]

    def raw_emails() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT email FROM summaries_summaryrequest ORDER BY id")
            return [row[0] for row in cursor.fetchall()]

    before = raw_emails()
    with override_settings(SUMMARIES_ENCRYPTION_KEYS=[new_key, old_key]):
        output = io.StringIO()
        call_command("rotate_summary_keys", stdout=output)
    assert "Re-encrypted 3 summary request(s)" in output.getvalue()
    after = raw_emails()
    assert all(a != b for a, b in zip(before, after, strict=True))
    with override_settings(SUMMARIES_ENCRYPTION_KEYS=[new_key]):
        emails = [SummaryRequest.objects.get(pk=pk).email for pk in ids]
        assert emails == ["reader0@example.com", "reader1@example.com", "reader2@example.com"]
        assert SummaryRequest.objects.get(pk=ids[0]).situation["question"] == "question 0"
    with pytest.raises(crypto.EncryptionUnavailable):
        SummaryRequest.objects.get(pk=ids[0])  # the old key alone no longer reads them


def test_rotation_with_a_missing_old_key_changes_nothing_and_says_why(topic: Topic) -> None:
    summary_request_submit(
        topic=topic, email="a@example.com", situation={}, detail="short", consent_version="t"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM summaries_summaryrequest")
        before = cursor.fetchall()
    with (
        override_settings(SUMMARIES_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(CommandError, match=r"Nothing was changed.*column email"),
    ):
        call_command("rotate_summary_keys")
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM summaries_summaryrequest")
        assert cursor.fetchall() == before


@override_settings(SUMMARIES_ENCRYPTION_KEYS=["not-a-fernet-key"])
def test_a_malformed_key_fails_closed(topic: Topic) -> None:
    assert crypto.keys_available() is False
    with pytest.raises(crypto.EncryptionUnavailable, match="malformed"):
        summary_request_submit(
            topic=topic, email="a@example.com", situation={}, detail="short", consent_version="t"
        )
    assert SummaryRequest.objects.count() == 0


def test_development_generates_a_private_key_file_once(tmp_path: Path, topic: Topic) -> None:
    key_file = tmp_path / "var" / "summaries.key"
    with override_settings(
        SUMMARIES_ENCRYPTION_KEYS=[],
        SUMMARIES_ENCRYPTION_KEY_FILE=str(key_file),
        SUMMARIES_GENERATE_KEY_FILE=True,
    ):
        token = crypto.encrypt_text("hello")
        first = key_file.read_text()
        assert crypto.decrypt_text(token) == "hello"
        assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with override_settings(
        SUMMARIES_ENCRYPTION_KEYS=[], SUMMARIES_ENCRYPTION_KEY_FILE=str(tmp_path / "missing.key")
    ):
        assert crypto.keys_available() is False


def _production_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "evidencepress.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DATABASE_URL": "sqlite:////tmp/never-created.sqlite3",
        "ALLOWED_HOSTS": "example.org",
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_an_encryption_key() -> None:
    refused = _production_settings({})
    assert refused.returncode != 0
    assert "SUMMARIES_ENCRYPTION_KEYS" in refused.stderr
    started = _production_settings({"SUMMARIES_ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    assert started.returncode == 0, started.stderr
    assert "started" in started.stdout


def test_the_test_key_is_not_the_one_any_other_settings_use() -> None:
    dev = (ROOT / "evidencepress" / "settings" / "dev.py").read_text()
    production = (ROOT / "evidencepress" / "settings" / "production.py").read_text()
    assert "ZXZpZGVuY2VwcmVzcy10ZXN0LWtleS1ub3QtcmVhbCE=" not in dev + production
