"""K8: an erased request leaves no ciphertext in the SQLite files, even with a reader held open.

A second connection holds a read transaction (BEGIN; SELECT …) whose snapshot still contains
the request while an editor erases it. SQLite must keep the old page images for that reader;
the erasure waits for it, then empties the WAL. Afterwards neither the database file nor the
`-wal` file holds the request's Fernet tokens, and no token found anywhere in them decrypts to
one of its canaries, while the neighbours' canaries still do (so the scan itself works).
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from evidencepress.core.erasure import scrub_deleted_rows
from evidencepress.summaries import crypto
from evidencepress.summaries.crypto import EncryptionUnavailable
from evidencepress.summaries.models import SummaryRequest
from evidencepress.summaries.services import (
    summary_request_erase,
    summary_request_purge,
    summary_request_submit,
)

from ..summaries.conftest import editor, topic

__all__ = ["editor", "topic"]

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite WAL file"),
    pytest.mark.django_db(transaction=True),
]

FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]{40,}={0,2}")


def _db_path() -> Path:
    return Path(connection.settings_dict["NAME"])


def _files() -> dict[str, bytes]:
    path = _db_path()
    found = {"db": path.read_bytes()}
    wal = Path(f"{path}-wal")
    found["wal"] = wal.read_bytes() if wal.exists() else b""
    return found


def _decrypted_tokens(data: bytes) -> str:
    """Everything any Fernet token in `data` decrypts to with the configured keys."""
    plain = []
    for token in set(FERNET_TOKEN.findall(data)):
        try:
            plain.append(crypto.decrypt_text(token.decode("ascii")))
        except EncryptionUnavailable:
            continue  # a token cut by a page boundary, or not a token
    return "\n".join(plain)


def _submit(topic: Any, canary: str) -> SummaryRequest:
    return summary_request_submit(
        topic=topic,
        email=f"{canary.lower()}@example.com",
        situation={"setting": "scalp_face", "site": canary, "question": f"{canary} question"},
        detail="short",
        consent_version="test",
    )


def _raw_tokens(pk: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT email, situation FROM summaries_summaryrequest WHERE id = %s", [pk])
        return [value for value in cursor.fetchone() if value]


def _hold_reader() -> sqlite3.Connection:
    reader = sqlite3.connect(_db_path(), isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    (count,) = reader.execute("SELECT count(*) FROM summaries_summaryrequest").fetchone()
    assert count == 3  # the snapshot includes the request about to be erased
    return reader


def _three_requests(topic: Any) -> tuple[dict[str, str], SummaryRequest, list[str]]:
    canaries = {name: f"{name.upper()}-{secrets.token_hex(8)}" for name in ("a", "b", "c")}
    made = {name: _submit(topic, canary) for name, canary in canaries.items()}
    target = made["b"]  # in the middle: its space is not simply the end of the page
    tokens = _raw_tokens(target.pk)
    assert len(tokens) == 2 and all(token.startswith("gAAAAA") for token in tokens)
    return canaries, target, tokens


def _assert_gone(canaries: dict[str, str], tokens: list[str]) -> None:
    files = _files()
    for where, data in files.items():
        for token in tokens:
            assert token.encode() not in data, f"the erased ciphertext is still in {where}"
    decrypted = _decrypted_tokens(files["db"] + files["wal"])
    assert canaries["a"] in decrypted and canaries["c"] in decrypted  # the scan works
    assert canaries["b"] not in decrypted
    assert files["wal"] == b""


def test_sqlite_zeroes_deleted_rows() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_erasure_waits_for_a_reader_then_leaves_no_ciphertext(topic: Any, editor: Any) -> None:
    canaries, target, tokens = _three_requests(topic)
    reader = _hold_reader()
    released = threading.Event()

    def release_soon() -> None:
        time.sleep(1.0)
        reader.execute("COMMIT")
        released.set()

    # While the reader is open its snapshot needs the old pages: they are in the files now.
    before = _files()
    assert any(tokens[0].encode() in data for data in before.values())

    thread = threading.Thread(target=release_soon)
    thread.start()
    started = time.monotonic()
    summary_request_erase(summary_request=target, user=editor)
    waited = time.monotonic() - started
    thread.join()
    reader.close()

    assert released.is_set() and waited >= 0.9  # the erasure waited for the reader
    assert not SummaryRequest.objects.filter(pk=target.pk).exists()
    _assert_gone(canaries, tokens)


@override_settings(ERASURE_CHECKPOINT_WAIT_SECONDS=0.3)
def test_a_reader_that_outlasts_the_wait_is_cleaned_up_by_the_next_purge(
    topic: Any, editor: Any, caplog: pytest.LogCaptureFixture
) -> None:
    canaries, target, tokens = _three_requests(topic)
    reader = _hold_reader()
    summary_request_erase(summary_request=target, user=editor)  # returns after 0.3 s
    assert "deleted rows remain in the SQLite WAL" in caplog.text
    reader.execute("COMMIT")
    reader.close()

    summary_request_purge()  # nothing due, but it empties the WAL

    _assert_gone(canaries, tokens)


def test_scrub_refuses_to_run_inside_the_deleting_transaction(db: None) -> None:
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError):
        scrub_deleted_rows()
