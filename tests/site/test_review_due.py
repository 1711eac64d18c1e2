"""The "Review due" report and the evidence-changed warning on the page editor."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from evidencepress.articles.review_due import (
    evidence_changed_after_review,
    pages_due_for_review,
    topic_evidence_date,
)
from evidencepress.evidence.models import Publication, ReportedPatient

from .conftest import SmallSite

pytestmark = pytest.mark.django_db

OLD = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
TODAY = datetime.date(2025, 6, 1)


@pytest.fixture
def settled_site(small_site: SmallSite) -> SmallSite:
    """All evidence last changed on 1 January 2024, before every review in the small site."""
    ReportedPatient.objects.update(updated_at=OLD)
    Publication.objects.update(updated_at=OLD)
    return small_site


@pytest.fixture
def admin_client(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("editor", "e@example.org", "a-long-pass-1")
    client.force_login(user)
    return client


def test_nothing_is_due_when_reviews_are_current_and_evidence_is_older(
    settled_site: SmallSite,
) -> None:
    assert pages_due_for_review(TODAY) == []
    assert evidence_changed_after_review(settled_site.article) is None


def test_a_page_past_its_review_date_is_listed_as_overdue(settled_site: SmallSite) -> None:
    older = settled_site.older
    older.next_review_due = datetime.date(2025, 1, 31)
    older.save_revision().publish()
    (item,) = pages_due_for_review(TODAY)
    assert item.page.pk == older.pk
    assert item.overdue and item.evidence_changed_at is None
    assert item.reasons == ["Review was due on 31 January 2025"]


def test_new_evidence_after_the_review_flags_every_page_of_the_topic(
    settled_site: SmallSite,
) -> None:
    case = ReportedPatient.objects.get(label="Case A")
    case.age = 70
    case.save()  # updated_at: now, after every review date in the small site
    assert topic_evidence_date(settled_site.topic.pk) == case.updated_at
    listed = {item.page.pk: item for item in pages_due_for_review(TODAY)}
    # The topic page and every article with a last review date (published or not).
    assert settled_site.topic_page.pk in listed
    assert settled_site.article.pk in listed
    item = listed[settled_site.article.pk]
    assert not item.overdue
    assert item.evidence_changed_at == case.updated_at
    changed_day = timezone.localdate(case.updated_at)
    assert item.reasons == [
        f"Evidence changed on {changed_day:%-d %B %Y}, after the last review",
        # The pinned evidence (articles.evidence_pins): the case now says something else.
        "Evidence changed since its clinical review: 1 new or corrected case is waiting for"
        " clinical review.",
    ]
    assert evidence_changed_after_review(settled_site.article) == case.updated_at


def test_a_changed_publication_counts_as_changed_evidence(settled_site: SmallSite) -> None:
    settled_site.publication.journal = "J Example Dermatol (corrected)"
    settled_site.publication.save()
    assert evidence_changed_after_review(settled_site.topic_page) is not None


def test_the_report_lists_pages_and_reasons_for_editors(
    settled_site: SmallSite, admin_client: Client
) -> None:
    ReportedPatient.objects.get(label="Case A").save()
    response = admin_client.get("/admin/reports/review-due/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Review due" in html
    assert "Imiquimod cream explained" in html
    assert "after the last review" in html
    # It is in the Reports menu.
    assert "/admin/reports/review-due/" in admin_client.get("/admin/").content.decode()


def test_the_report_needs_the_admin(client: Client, settled_site: SmallSite) -> None:
    response = client.get("/admin/reports/review-due/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_editor_warns_when_evidence_changed_after_the_review(
    settled_site: SmallSite, admin_client: Client
) -> None:
    url = f"/admin/pages/{settled_site.article.pk}/edit/"
    quiet = admin_client.get(url).content.decode()
    assert "The evidence for this topic changed" not in quiet
    ReportedPatient.objects.get(label="Case A").save()
    warned = admin_client.get(url).content.decode()
    assert (
        "The evidence for this topic changed after the last clinical review on 12 September 2024"
        in warned
    )
