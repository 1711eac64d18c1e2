"""Submission limits hold across processes and under simultaneous submissions (plan I2), count
readers rather than the proxy in front of the app, and forget finished windows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django.test import RequestFactory, override_settings

from evidencepress.core import ratelimit as core_ratelimit
from evidencepress.summaries import ratelimit
from evidencepress.summaries.views import _client_address


@pytest.mark.django_db(transaction=True)
@override_settings(SUMMARIES_RATE_LIMIT_PER_ADDRESS=(5, 3600))
def test_simultaneous_submissions_cannot_all_slip_under_the_limit() -> None:
    """16 threads, each with its own database connection (as separate workers would have),
    submit at the same moment: exactly 5 are allowed."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] == ":memory:":
        pytest.skip("needs a database file shared by several connections")
    start = threading.Barrier(16)
    allowed: list[bool] = []
    lock = threading.Lock()

    def submit() -> None:
        from django.db import connections

        try:
            start.wait()
            result = ratelimit.take("address", "198.51.100.7")
            with lock:
                allowed.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(allowed) == 16
    assert allowed.count(True) == 5, allowed
    assert ratelimit.used("address", "198.51.100.7") == 16  # refused attempts are counted too
    assert ratelimit.is_limited("address", "198.51.100.7")
    assert not ratelimit.is_limited("address", "198.51.100.8")


@pytest.mark.django_db
@override_settings(SUMMARIES_RATE_LIMIT_PER_EMAIL=(3, 86400))
def test_the_email_limit_ignores_case_and_spaces_and_a_new_window_starts_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = 1_800_000_000.0
    monkeypatch.setattr(time, "time", lambda: now)
    results = [ratelimit.take("email", value) for value in ("A@x.org", " a@x.org", "a@X.org ")]
    assert results == [True, True, True]
    assert ratelimit.take("email", "a@x.org") is False
    now += 86400
    assert ratelimit.take("email", "a@x.org") is True


@pytest.mark.django_db
def test_finished_windows_are_purged(monkeypatch: pytest.MonkeyPatch) -> None:
    store = core_ratelimit.store()
    store.add("rl:old", 9, timeout=1)
    ratelimit.take("address", "203.0.113.9")
    later = time.time() + 5
    monkeypatch.setattr("django.core.cache.backends.db.tz_now", lambda: _aware(later))
    monkeypatch.setattr("evidencepress.core.cache.tz_now", lambda: _aware(later))
    assert core_ratelimit.purge_expired() == 1
    assert store.get("rl:old") is None
    assert ratelimit.used("address", "203.0.113.9") == 1


def _aware(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, tz=UTC)


@pytest.mark.django_db(transaction=True)
def test_the_count_is_shared_with_another_process() -> None:
    """Another Python process (as another gunicorn worker would be) sees and adds to the count."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] == ":memory:":
        pytest.skip("needs a database file shared by several processes")
    assert ratelimit.take("address", "192.0.2.77")
    probe = (
        "import django, json; django.setup();"
        "from evidencepress.summaries import ratelimit as r;"
        "print(json.dumps([r.used('address', '192.0.2.77'), r.take('address', '192.0.2.77')]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "evidencepress.settings.test"}
    env.update(_database_env(connection.settings_dict))
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [1, True]
    assert ratelimit.used("address", "192.0.2.77") == 2


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "192.0.2.1"),  # no trusted proxy: the header is ignored
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a forged first hop is not believed
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "192.0.2.1"),  # fewer hops than proxies: fall back
    ],
)
def test_the_reader_address_is_taken_from_trusted_proxies_only(
    proxies: int, forwarded: str, expected: str
) -> None:
    request = RequestFactory().post(
        "/summaries/request/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded
    )
    with override_settings(TRUSTED_PROXIES=proxies):
        assert _client_address(request) == expected


def _database_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """DATABASE_URL pointing a child process at the test database this test uses."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return {"DATABASE_URL": f"sqlite:///{settings_dict['NAME']}"}
    # The URL this run was given (its host may be a socket directory), naming the test database.
    url = urlsplit(os.environ["DATABASE_URL"])
    return {"DATABASE_URL": urlunsplit(url._replace(path=f"/{settings_dict['NAME']}"))}
