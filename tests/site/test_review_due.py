"""The "Review due" report and the evidence-changed warning on the page editor: both compare
the page's pinned (clinically reviewed) evidence with the current evidence, never dates."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from evidencepress.articles import wagtail_hooks
from evidencepress.articles.review_due import pages_due_for_review
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


def test_a_page_past_its_review_date_is_listed_as_overdue(settled_site: SmallSite) -> None:
    older = settled_site.older
    older.next_review_due = datetime.date(2025, 1, 31)
    older.save_revision().publish()
    (item,) = pages_due_for_review(TODAY)
    assert item.page.pk == older.pk
    assert item.overdue and not item.evidence_difference and not item.never_reviewed
    assert item.reasons == ["Review was due on 31 January 2025"]


def test_changed_evidence_lists_the_live_pages_of_the_topic_with_the_difference(
    settled_site: SmallSite,
) -> None:
    case = ReportedPatient.objects.get(label="Case A")
    case.age = 70
    case.save()
    listed = {item.page.pk: item for item in pages_due_for_review(TODAY)}
    assert settled_site.topic_page.pk in listed
    assert settled_site.article.pk in listed
    item = listed[settled_site.article.pk]
    assert not item.overdue
    # One reason, from the pin: no second, date-based "Evidence changed on DATE".
    assert item.reasons == [
        "Evidence changed since its clinical review: 1 new or corrected case is waiting for"
        " clinical review."
    ]


def test_a_save_that_changes_nothing_lists_nothing(settled_site: SmallSite) -> None:
    """The date-based check listed every page when a case was saved unchanged (its
    updated_at moved past the review date); the pinned evidence says nothing changed."""
    ReportedPatient.objects.get(label="Case A").save()
    settled_site.publication.journal = "J Example Dermatol (corrected)"
    settled_site.publication.save()
    assert pages_due_for_review(TODAY) == []


def test_evidence_changed_before_a_backdated_review_date_is_still_found(
    settled_site: SmallSite,
) -> None:
    """A page whose last_reviewed is later than the change (typed by hand) is still listed:
    the pin, not the date, says what the clinician saw."""
    article = settled_site.article
    article.last_reviewed = datetime.date(2099, 1, 1)
    article.next_review_due = datetime.date(2099, 6, 1)
    article.save_revision().publish()
    ReportedPatient.objects.filter(label="Case A").update(response="progression")
    listed = {item.page.pk: item for item in pages_due_for_review(TODAY)}
    assert "Evidence changed since its clinical review" in listed[article.pk].reasons_text


def test_the_report_lists_pages_and_reasons_for_editors(
    settled_site: SmallSite, admin_client: Client
) -> None:
    ReportedPatient.objects.filter(label="Case A").update(age=71)
    response = admin_client.get("/admin/reports/review-due/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Review due" in html
    assert "Imiquimod cream explained" in html
    assert "Evidence changed since its clinical review" in html
    assert "after the last review" not in html
    # It is in the Reports menu.
    assert "/admin/reports/review-due/" in admin_client.get("/admin/").content.decode()


def test_the_report_needs_the_admin(client: Client, settled_site: SmallSite) -> None:
    response = client.get("/admin/reports/review-due/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_editor_warns_once_from_the_pin_when_evidence_changed(
    settled_site: SmallSite, admin_client: Client
) -> None:
    url = f"/admin/pages/{settled_site.article.pk}/edit/"
    quiet = admin_client.get(url).content.decode()
    assert "Since then:" not in quiet
    ReportedPatient.objects.get(label="Case A").save()  # saved, nothing changed
    assert "Since then:" not in admin_client.get(url).content.decode()
    ReportedPatient.objects.filter(label="Case A").update(age=71)
    warned = admin_client.get(url).content.decode()
    assert warned.count("The published page shows the evidence reviewed by Dr Ada Lovelace") == 1
    assert "Since then: 1 new or corrected case is waiting for clinical review." in warned
    # The date-based warning is gone: one warning for one fact.
    assert "The evidence for this topic changed after the last clinical review" not in warned
    assert not hasattr(wagtail_hooks, "warn_when_evidence_changed_after_review")
