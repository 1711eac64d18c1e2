"""The content version: triggers advance it on every kind of write to what pages show, and the
caches keyed on it never serve a page from before a change, however the change was made."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client

from evidencepress.articles import models as article_models
from evidencepress.articles import rendering
from evidencepress.articles.templatetags import article_tags, seo_tags
from evidencepress.core.content_version import (
    VersionedMemo,
    current_version,
    drop_statements,
    ensure_triggers,
    triggered_tables,
    watched_tables,
)
from evidencepress.core.models import ContentVersion
from evidencepress.evidence import topic_reports
from evidencepress.evidence.models import Publication, ReportedPatient, Topic

from ..site.conftest import SmallSite, build_small_site


def _version() -> int:
    """All tables' versions together: any write anywhere raises it."""
    return sum(ContentVersion.objects.values_list("version", flat=True))


def _empty_process_caches() -> None:
    topic_reports._report_cache.clear()
    rendering.rendered_bodies.clear()
    for memo in (
        article_models._publications_memo,
        article_models._archive_memo,
        article_models._month_memo,
        article_tags._reference_lists,
        seo_tags._json_ld_memo,
    ):
        memo.clear()


@pytest.mark.django_db
def test_every_table_of_the_evidence_and_the_articles_carries_a_trigger() -> None:
    watched = set(watched_tables(apps))
    expected = {
        model._meta.db_table
        for label in ("evidence", "articles")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }
    assert expected <= watched
    assert {"wagtailcore_page", "wagtailimages_image", "wagtaildocs_document"} <= watched
    missing = watched - triggered_tables()
    assert not missing, f"tables without a content-version trigger: {sorted(missing)}"


@pytest.mark.django_db
def test_every_kind_of_write_advances_the_version() -> None:
    topic = Topic.objects.create(name="T", slug="t", treatment="X", condition="Y")
    steps = [_version()]
    publication = Publication.objects.create(title="A report")  # ORM insert
    steps.append(_version())
    Publication.objects.bulk_create([Publication(title="Two"), Publication(title="Three")])
    steps.append(_version())
    Publication.objects.filter(pk=publication.pk).update(title="Renamed")  # no signals
    steps.append(_version())
    with connection.cursor() as cursor:  # as the importer writes
        cursor.execute(
            "UPDATE evidence_publication SET journal = %s WHERE id = %s", ["J", publication.pk]
        )
    steps.append(_version())
    publication.topics.add(topic)  # a many-to-many row
    steps.append(_version())
    Publication.objects.filter(title="Two").delete()
    steps.append(_version())
    assert all(a < b for a, b in itertools.pairwise(steps)), steps


@pytest.mark.django_db
def test_reading_the_version_inside_a_transaction_gives_none() -> None:
    # pytest-django runs this test inside a transaction: nothing read here may be cached.
    assert connection.in_atomic_block
    assert current_version() is None


@pytest.mark.django_db(transaction=True)
def test_a_table_without_its_version_row_is_never_cached_then_gets_a_new_epoch() -> None:
    table = Publication._meta.db_table
    Publication.objects.create(title="Before")
    before = current_version(tables=[table])
    ContentVersion.objects.filter(table_name=table).delete()  # as a flush would
    assert current_version(tables=[table]) is None
    assert current_version() is None
    Publication.objects.create(title="After")
    after = current_version(tables=[table])
    assert before is not None and after is not None
    assert after[0][1] != before[0][1]  # a new random epoch: no earlier key can come back


def test_versioned_memo_computes_once_per_version_and_never_without_one() -> None:
    memo: VersionedMemo = VersionedMemo(size=2)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert memo.get(("e", 1), "k", compute) == 1
    assert memo.get(("e", 1), "k", compute) == 1
    assert memo.get(("e", 2), "k", compute) == 2  # a new version recomputes
    assert memo.get(None, "k", compute) == 3
    assert memo.get(None, "k", compute) == 4  # without a version nothing is kept
    memo.get(("e", 3), "k", compute)
    memo.get(("e", 4), "k", compute)
    assert len(memo) == 2  # bounded


@pytest.fixture
def site_outside_transactions(transactional_db: None) -> Iterator[SmallSite]:
    _empty_process_caches()
    yield build_small_site()
    _empty_process_caches()


def test_a_change_made_without_signals_reaches_the_next_page_view(
    site_outside_transactions: SmallSite,
) -> None:
    """An importer-style raw SQL update of a cited publication and a bulk update of a case show
    on the very next request, although both skip Django's signals."""
    site = site_outside_transactions
    client = Client()
    first = client.get(site.article.url).content.decode()
    assert "Topical imiquimod in a scalp lesion" in first
    assert client.get(site.article.url).content.decode() == first  # served from the caches
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE evidence_publication SET title = %s WHERE id = %s",
            ["Imiquimod in a scalp lesion: a corrected title", site.publication.pk],
        )
    second = client.get(site.article.url).content.decode()
    assert "a corrected title" in second
    assert "Topical imiquimod in a scalp lesion" not in second


def test_the_topic_report_follows_a_bulk_update(site_outside_transactions: SmallSite) -> None:
    site = site_outside_transactions
    before = topic_reports.topic_report(site.topic)
    assert topic_reports.topic_report(site.topic).synthesis is before.synthesis  # reused
    ReportedPatient.objects.filter(topic=site.topic).update(response="complete")
    after = topic_reports.topic_report(site.topic)
    assert after.synthesis is not before.synthesis
    assert [case.response for case in after.cases] == ["complete"]


def test_a_report_computed_inside_a_transaction_is_not_kept(
    site_outside_transactions: SmallSite,
) -> None:
    site = site_outside_transactions
    with transaction.atomic():
        ReportedPatient.objects.filter(topic=site.topic).update(response="partial")
        inside = topic_reports.topic_report(site.topic)
        assert [case.response for case in inside.cases] == ["partial"]
        transaction.set_rollback(True)
    outside = topic_reports.topic_report(site.topic)
    assert [case.response for case in outside.cases] != ["partial"]


@pytest.mark.django_db
def test_triggers_lost_by_a_table_rebuild_are_put_back_after_migrate() -> None:
    """SQLite rebuilds a table for many schema changes and the new table has no triggers:
    the post_migrate receiver puts them back (and is a no-op when nothing is missing)."""
    table = Topic._meta.db_table
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor, [table], connection.ops.quote_name):
            if "FUNCTION" not in statement:  # PostgreSQL: keep the shared function
                cursor.execute(statement)
    assert table not in triggered_tables()
    assert ensure_triggers() == [table]
    assert table in triggered_tables()
    assert ensure_triggers() == []
    before = _version()
    Topic.objects.create(name="After", slug="after", treatment="X", condition="Y")
    assert _version() > before
