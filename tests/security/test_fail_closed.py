"""I5: when something underneath fails, EvidencePress fails closed and says so.

- PubMed's E-utilities unreachable: `fetch_pubmed` stops with a clear error and imports nothing.
  (A failure after some batches, which keeps the finished batches and resumes, is
  tests/literature/test_fetch_pubmed.py::test_a_failed_batch_is_rolled_back_...)
- The database read-only, or the disk full (SQLite `PRAGMA query_only`, `PRAGMA
  max_page_count`): public pages are still served; a reader's summary request is refused with a
  message that says nothing was saved; no row of it is written; the error is logged.
- The mail server down: tests/summaries/test_delivery.py (the request stays approved and
  unsent, the failure is audited and shown to the summary editor in plain words).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction
from django.test import Client

from evidencepress.core.models import AuditEvent
from evidencepress.evidence.models import Publication, Topic, Treatment
from evidencepress.literature.management.commands.fetch_pubmed import Command as FetchPubmed
from evidencepress.literature.models import ImportBatch, PubmedFetch
from evidencepress.summaries.models import SummaryRequest

from ..literature.eutils_fake import FakeClock, FakeNcbi
from ..site.conftest import SmallSite, build_small_site
from ..summaries.definitions import DEMO_DATA
from ..summaries.test_request_form import valid_post

pytestmark = pytest.mark.django_db

FORM = "/summaries/request/"


def valid_request(**overrides: Any) -> dict[str, Any]:
    # A long question in Cyrillic (two bytes a letter): its encrypted row is larger than a
    # database page, so it needs a new page even if a half-empty one is left.
    canary = ("CANARY-i5 " + "Может ли этот крем помочь при ангиосаркоме? " * 60)[:2000]
    defaults = {"current_treatments": [], "question": canary, "email": "canary-i5@example.com"}
    return valid_post(**{**defaults, **overrides})


@pytest.fixture
def site() -> SmallSite:
    small = build_small_site()
    for slug, name, category in (
        ("radiotherapy", "Radiotherapy", "radiotherapy"),
        ("imiquimod", "Imiquimod", "topical"),
    ):
        Treatment.objects.get_or_create(slug=slug, defaults={"name": name, "category": category})
    return small


def sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("simulates the failure with SQLite pragmas")


@contextmanager
def read_only_database() -> Iterator[None]:
    """Every write on the connection fails, as on a read-only file or mount."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")


@contextmanager
def full_disk() -> Iterator[None]:
    """The database file may not grow: cap it at its current size, then use up the free room
    left inside its pages, so the next row that needs space gets SQLITE_FULL."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA max_page_count")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_count")
        cursor.execute(f"PRAGMA max_page_count = {int(cursor.fetchone()[0])}")
        # Filler rows go into the session table (deleted afterwards).
        size, n, refusals = 4096, 0, []
        while size >= 1:
            n += 1
            try:
                with transaction.atomic():
                    cursor.execute(
                        "INSERT INTO django_session (session_key, session_data, expire_date)"
                        " VALUES (%s, hex(zeroblob(%s)), '2099-01-01')",
                        [f"i5-filler-{n}", size],
                    )
            except OperationalError as exc:
                refusals.append(str(exc))
                size //= 2
        assert refusals and all("full" in r for r in refusals), refusals
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA max_page_count = {int(previous)}")
            cursor.execute("DELETE FROM django_session WHERE session_key LIKE 'i5-filler-%%'")


def private_rows() -> dict[str, int]:
    return {
        "summary requests": SummaryRequest.objects.count(),
        # A honeypot event holds nothing of a reader's (and may fit into a nearly full disk).
        "request audit events": AuditEvent.objects.filter(action__startswith="summary_request.")
        .exclude(action="summary_request.honeypot")
        .count(),
    }


def check_public_pages_and_refused_request(
    failure: str, broken: Any, small: SmallSite, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    pages = ["/", small.article.url, small.topic_page.url, "/search/?q=imiquimod", FORM]
    for url in pages:  # warm up: sessions, caches and lazily created rows exist before
        client.get(url)
    before = private_rows()
    with broken, caplog.at_level(logging.ERROR):
        served = {url: client.get(url).status_code for url in pages}
        response = client.post(FORM, valid_request())
        # A bot filling in the hidden field is still shown "sent", never an error page.
        bot = client.post(FORM, valid_request(website="http://spam.example"))
    html = response.content.decode()
    after = private_rows()

    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    summary = (
        f"{failure}: public pages {sum(s == 200 for s in served.values())}/{len(pages)} "
        f"served; request answered {response.status_code}; rows written "
        f"{sum(after.values()) - sum(before.values())}; errors logged {len(logged)}"
    )
    assert bot.status_code == 302 and bot["Location"].endswith("/sent/"), summary
    assert all(status == 200 for status in served.values()), (summary, served)
    assert response.status_code == 503, summary
    assert "Nothing you typed was saved" in html, summary
    assert after == before, summary
    assert any(r.name == "evidencepress.summaries.views" for r in logged), summary
    assert not any("canary-i5" in r.getMessage().lower() for r in logged), summary
    print(f"I5: {summary}")  # the measured figure, for the test log
    # Once the database can be written again, the same request goes through.
    assert client.post(FORM, valid_request()).status_code == 302
    assert SummaryRequest.objects.count() == before["summary requests"] + 1


def test_a_read_only_database_keeps_public_pages_and_refuses_requests_cleanly(
    site: SmallSite, caplog: pytest.LogCaptureFixture
) -> None:
    sqlite_only()
    check_public_pages_and_refused_request("read-only database", read_only_database(), site, caplog)


@pytest.mark.django_db(transaction=True)
def test_a_full_disk_keeps_public_pages_and_refuses_requests_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Transactional: SQLite may roll back the whole transaction on SQLITE_FULL, so this runs
    without the test's wrapping transaction, as the site does."""
    sqlite_only()
    small = build_small_site()
    for slug, name, category in (
        ("radiotherapy", "Radiotherapy", "radiotherapy"),
        ("imiquimod", "Imiquimod", "topical"),
    ):
        Treatment.objects.get_or_create(slug=slug, defaults={"name": name, "category": category})
    check_public_pages_and_refused_request("disk full", full_disk(), small, caplog)


def test_pubmed_down_stops_the_fetch_with_a_clear_error_and_imports_nothing() -> None:
    Topic.objects.create(
        name="Imiquimod for angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Angiosarcoma",
        definition=DEMO_DATA,
    )
    fake = FakeNcbi(FakeClock(), override=lambda seen: httpx.ConnectError("connection refused"))
    command = FetchPubmed(transport=fake.transport(), clock=fake.clock)
    with pytest.raises(CommandError) as caught:
        call_command(
            command, "imiquimod AND angiosarcoma", "--topic", "imiquimod-angiosarcoma",
            "--no-progress", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    message = str(caught.value)
    assert "PubMed search failed" in message and "Nothing was imported" in message
    assert "ConnectError" in message and "try again later" in message
    assert len(fake.seen) == 6  # the first try and five retries, then it gave up
    assert (Publication.objects.count(), ImportBatch.objects.count()) == (0, 0)
    assert PubmedFetch.objects.count() == 0
