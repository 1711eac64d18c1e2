"""G1 (PR size): 20 readers and 4 writers for 10 s against the live server and the test DB file.

Readers fetch article pages and the archive (index, year, month) over HTTP from pytest-django's
live server (a threaded WSGI server in this process). Three writers submit the public summary
request form over HTTP, as a browser would (GET for the CSRF token, then POST), each with a new
email address; one writer imports a small MEDLINE XML file with new PMIDs through the
importer's `import_path`, the function `manage.py import_literature` calls. Every write that
was acknowledged (a redirect to the "sent" page, or a committed import) is noted.

Pass figures (plan G1): 0 responses with a 5xx status, 0 "database is locked" anywhere (in a
response, a log record or an exception), 0 lost writes (every acknowledged request and
imported PMID is in the database afterwards). The 95th percentile of the response times is in
the assertion message. The database settings are the project's own (SQLite: WAL, IMMEDIATE
transactions, a 20 s busy timeout); the test runs the same way on PostgreSQL.
"""

from __future__ import annotations

import datetime
import http.client
import logging
import re
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection, connections
from django.test import override_settings

from evidencepress.articles.models import ArchiveIndexPage, ArticlePage, HomePage, TopicPage
from evidencepress.demo.loader import ensure_home_page
from evidencepress.evidence.models import Publication, Topic
from evidencepress.literature.importer import import_path
from evidencepress.summaries.models import SummaryRequest

from ..conftest import ensure_wagtail_tree
from ..summaries.definitions import DEMO_DATA

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SECONDS = 10.0
READERS = 20
FORM_WRITERS = 3
IMPORT_WRITERS = 1
LOCKED = "database is locked"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")


@dataclass
class Results:
    lock = threading.Lock()
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    acknowledged_emails: list[str] = field(default_factory=list)
    imported_pmids: list[str] = field(default_factory=list)

    def response(self, status: int, seconds: float, body: bytes, what: str) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500:
                self.errors.append(f"{what}: HTTP {status}")
            if LOCKED.encode() in body:
                self.errors.append(f"{what}: {LOCKED} in the response")

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


class _LockedLogs(logging.Handler):
    """Catches any log record (e.g. django.request's 500 report) mentioning a locked database."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]}"
        if LOCKED in text:
            self.records.append(text[:300])


@pytest.fixture
def locked_logs() -> Iterator[_LockedLogs]:
    handler = _LockedLogs()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture
def site_pages(transactional_db: None) -> dict[str, Any]:
    """A home page, a topic page with three articles in two months, and the archive."""
    ensure_wagtail_tree()
    ensure_home_page()
    home = HomePage.objects.get()
    topic = Topic.objects.create(
        name="Soak topic",
        slug="soak-topic",
        treatment="Cream",
        condition="Condition",
        definition=DEMO_DATA,
    )
    topic_page = TopicPage(title="Soak topic", slug="soak-topic", topic=topic)
    home.add_child(instance=topic_page)
    topic_page.save_revision().publish()
    archive = ArchiveIndexPage(title="Archive", slug="archive")
    home.add_child(instance=archive)
    archive.save_revision().publish()
    articles = []
    for number, day in enumerate((datetime.date(2024, 9, 3), datetime.date(2024, 10, 7)) * 2):
        article = ArticlePage(
            title=f"Soak article {number}",
            slug=f"soak-article-{number}",
            topic=topic,
            summary="A short plain-language summary.",
            date=day,
            body=[
                {
                    "type": "takeaways",
                    "value": {"heading": "Key takeaways", "items": ["One."], "citations": []},
                }
            ],
        )
        topic_page.add_child(instance=article)
        article.save_revision().publish()
        articles.append(article)
    return {
        "topic": topic,
        "paths": [
            *(a.url for a in articles),
            archive.url,
            f"{archive.url}2024/",
            f"{archive.url}2024/09/",
            f"{archive.url}2024/10/",
        ],
    }


def _get(host: str, port: int, path: str, headers: dict[str, str] | None = None) -> Any:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def reader(base: str, paths: list[str], stop: float, results: Results, number: int) -> None:
    parts = urlsplit(base)
    index = number
    while time.monotonic() < stop:
        path = paths[index % len(paths)]
        index += 1
        started = time.monotonic()
        try:
            status, _, body = _get(parts.hostname or "", parts.port or 80, path)
        except OSError as exc:
            results.error(f"reader {number} {path}: {exc!r}")
            continue
        results.response(status, time.monotonic() - started, body, f"GET {path}")


def form_writer(base: str, topic_slug: str, stop: float, results: Results, number: int) -> None:
    parts = urlsplit(base)
    host, port = parts.hostname or "", parts.port or 80
    while time.monotonic() < stop:
        started = time.monotonic()
        try:
            status, headers, body = _get(host, port, "/summaries/request/")
            results.response(status, time.monotonic() - started, body, "GET request form")
            token = CSRF_INPUT.search(body.decode())
            cookie = next(
                (m.group(1) for k, v in headers if k.lower() == "set-cookie" and
                 (m := CSRF_COOKIE.search(v))),
                None,
            )  # fmt: skip
            if token is None or cookie is None:
                results.error(f"writer {number}: the form had no CSRF token")
                continue
            email = f"soak-{uuid.uuid4().hex}@example.org"
            fields = {
                "csrfmiddlewaretoken": token.group(1),
                "topic": topic_slug,
                "setting": "scalp_face",
                "site": "scalp",
                "lesion_size_mm": "15",
                "lesion_count": "1",
                "lesion_depth": "superficial",
                "surgery_possible": "no",
                "question": "Could this help me?",
                "detail": "short",
                "email": email,
                "consent": "on",
            }
            conn = http.client.HTTPConnection(host, port, timeout=60)
            started = time.monotonic()
            conn.request(
                "POST",
                "/summaries/request/",
                body=urlencode(fields),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={cookie}",
                },
            )
            response = conn.getresponse()
            body = response.read()
            conn.close()
        except OSError as exc:
            results.error(f"writer {number}: {exc!r}")
            continue
        results.response(response.status, time.monotonic() - started, body, "POST request form")
        if response.status == 302 and "sent" in (response.getheader("Location") or ""):
            with results.lock:
                results.acknowledged_emails.append(email)
        elif response.status < 500:
            results.error(f"writer {number}: not acknowledged, HTTP {response.status}")


MEDLINE = """<?xml version="1.0" encoding="UTF-8"?>
<PubmedArticleSet>{records}</PubmedArticleSet>"""
RECORD = """<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="1">{pmid}</PMID>
<DateRevised><Year>2024</Year><Month>01</Month><Day>02</Day></DateRevised>
<Article><Journal><JournalIssue><PubDate><Year>2023</Year></PubDate></JournalIssue>
<Title>Journal of Soak Tests</Title></Journal>
<ArticleTitle>Soak record {pmid}</ArticleTitle><Language>eng</Language></Article>
</MedlineCitation></PubmedArticle>"""


def import_writer(topic: Topic, folder: Path, stop: float, results: Results) -> None:
    batch = 0
    try:
        while time.monotonic() < stop:
            pmids = [str(39_000_000 + batch * 10 + i) for i in range(5)]
            path = folder / f"soak-{batch}.xml"
            path.write_text(MEDLINE.format(records="".join(RECORD.format(pmid=p) for p in pmids)))
            started = time.monotonic()
            try:
                result = import_path(path, topic=topic)
            except Exception as exc:  # counted, reported in the assertion
                results.error(f"import {batch}: {type(exc).__name__}: {exc}")
            else:
                with results.lock:
                    results.latencies.append(time.monotonic() - started)
                    if result.new == len(pmids):
                        results.imported_pmids.extend(pmids)
                    else:
                        results.errors.append(f"import {batch}: {result.summary_line()}")
            batch += 1
            time.sleep(0.2)
    finally:
        connection.close()  # this thread's own connection


def percentile(values: list[float], fraction: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


@override_settings(
    SUMMARIES_RATE_LIMIT_PER_ADDRESS=(10**9, 60),  # 3 writers share one address for 10 s
    SUMMARIES_RATE_LIMIT_PER_EMAIL=(10**9, 60),
)
def test_readers_and_writers_together_lose_nothing_and_never_fail(
    live_server: Any, site_pages: dict[str, Any], locked_logs: _LockedLogs, tmp_path: Path
) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
    results = Results()
    stop = time.monotonic() + SECONDS
    base = live_server.url
    threads = [
        threading.Thread(target=reader, args=(base, site_pages["paths"], stop, results, n))
        for n in range(READERS)
    ]
    threads += [
        threading.Thread(target=form_writer, args=(base, "soak-topic", stop, results, n))
        for n in range(FORM_WRITERS)
    ]
    threads += [
        threading.Thread(target=import_writer, args=(site_pages["topic"], tmp_path, stop, results))
        for _ in range(IMPORT_WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread never finished"
    for alias in connections:
        connections[alias].close()

    stored_emails = {r.email for r in SummaryRequest.objects.all()}
    lost_requests = sorted(set(results.acknowledged_emails) - stored_emails)
    stored_pmids = set(
        Publication.objects.filter(pmid__in=results.imported_pmids).values_list("pmid", flat=True)
    )
    lost_pmids = sorted(set(results.imported_pmids) - stored_pmids)
    server_errors = sum(count for status, count in results.statuses.items() if status >= 500)
    figures = (
        f"{sum(results.statuses.values())} HTTP responses {dict(sorted(results.statuses.items()))}"
        f" in {SECONDS:.0f} s; p95 {percentile(results.latencies, 0.95) * 1000:.0f} ms, median "
        f"{percentile(results.latencies, 0.5) * 1000:.0f} ms; {len(results.acknowledged_emails)} "
        f"requests acknowledged, {len(lost_requests)} lost; {len(results.imported_pmids)} PMIDs "
        f"imported, {len(lost_pmids)} lost; 5xx {server_errors}; "
        f"'{LOCKED}' in logs {len(locked_logs.records)}"
    )
    print(figures)
    assert results.errors == [], figures + "\n" + "\n".join(results.errors[:10])
    assert server_errors == 0, figures
    assert locked_logs.records == [], figures + "\n" + "\n".join(locked_logs.records[:5])
    assert lost_requests == [] and lost_pmids == [], figures
    # The run really wrote and read: the figures above are about something.
    assert len(results.acknowledged_emails) >= FORM_WRITERS, figures
    assert results.imported_pmids, figures
    assert results.statuses.get(200, 0) >= READERS, figures
