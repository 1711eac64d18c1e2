"""The one rate limiter (core.ratelimit): fixed windows in the shared `ratelimit` store."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from evidencepress.core import ratelimit
from evidencepress.core.cache import CounterDatabaseCache
from evidencepress.core.checks import check_shared_rate_limit_store
from evidencepress.core.exceptions import RateLimitUnavailable

pytestmark = pytest.mark.django_db


def test_the_store_is_the_shared_database_cache_without_redis() -> None:
    assert isinstance(ratelimit.store(), CounterDatabaseCache)
    assert check_shared_rate_limit_store() == []


def test_a_window_allows_its_limit_then_says_how_long_to_wait() -> None:
    start = 1_800_000_000.0  # a window boundary for 60-second windows
    decisions = [
        ratelimit.hit("test", "192.0.2.1", limit=2, seconds=60, now=start + 15) for _ in range(3)
    ]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert [d.count for d in decisions] == [1, 2, 3]
    assert decisions[2].retry_after == 45
    assert ratelimit.used("test", "192.0.2.1", seconds=60, now=start + 59) == 3
    # The next window starts afresh; other values and scopes are counted apart.
    assert ratelimit.hit("test", "192.0.2.1", limit=2, seconds=60, now=start + 60).count == 1
    assert ratelimit.hit("test", "192.0.2.2", limit=2, seconds=60, now=start + 15).count == 1
    assert ratelimit.hit("other", "192.0.2.1", limit=2, seconds=60, now=start + 15).count == 1


def test_incr_of_a_missing_key_fails_as_djangos_caches_do() -> None:
    with pytest.raises(ValueError, match="not found"):
        caches["ratelimit"].incr("rl:absent")


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    ],
)
def test_a_per_process_store_is_warned_about(backend: str) -> None:
    with override_settings(
        CACHES={"default": {"BACKEND": backend}, "ratelimit": {"BACKEND": backend}}
    ):
        [warning] = check_shared_rate_limit_store()
    assert warning.id == "evidencepress.S030"
    with override_settings(CACHES={"default": {"BACKEND": backend}}):
        assert check_shared_rate_limit_store()[0].id == "evidencepress.S030"


class _BrokenStore:
    def incr(self, key: str) -> int:
        raise ConnectionError("store down")

    def get(self, key: str, default: int = 0) -> int:
        raise ConnectionError("store down")


def test_a_store_that_cannot_count_raises_and_reads_as_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ratelimit, "store", lambda: _BrokenStore())
    with pytest.raises(RateLimitUnavailable, match="store down"):
        ratelimit.hit("test", "192.0.2.9", limit=1, seconds=60)
    assert ratelimit.used("test", "192.0.2.9", seconds=60) == 0


def test_the_api_serves_public_data_uncounted_while_the_store_is_down(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ratelimit, "store", lambda: _BrokenStore())
    with caplog.at_level(logging.ERROR):
        response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert any("not counted" in record.getMessage() for record in caplog.records)
