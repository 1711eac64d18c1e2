"""A page shows the evidence its clinician reviewed; newer evidence waits, visibly, for review."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from wagtail.models import WorkflowState

from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import ArticlePage, PageEvidencePin, TopicPage
from evidencepress.articles.review_due import pages_due_for_review
from evidencepress.articles.services import review_workflow_ensure
from evidencepress.core.roles import ensure_roles
from evidencepress.evidence.models import (
    EvidenceSnapshot,
    Passage,
    Publication,
    ReportedPatient,
    Topic,
)

from .conftest import author, complete_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten_cases(topic: Topic) -> Publication:
    """Ten real cases: five improved (complete or partial), five did not."""
    series = Publication.objects.create(
        title="A series of ten", journal="J Cases", year=2022, authors=[author("Delta", "D")]
    )
    series.topics.add(topic)
    for n, response in enumerate(["complete"] * 3 + ["partial"] * 2 + ["progression"] * 5):
        ReportedPatient.objects.create(
            publication=series, topic=topic, label=f"Case {n + 1:02d}", response=response
        )
    # What was read in it: the claim audit wants each cited publication to hold passages.
    Passage.objects.create(
        publication=series, key="cases", text="Ten cases are described.", location="abstract"
    )
    return series


@pytest.fixture
def staff(django_user_model: type[User]) -> dict[str, User]:
    ensure_roles()
    clinician = django_user_model.objects.create_user(
        "clinician", password="x" * 12, first_name="Jane", last_name="Clinic"
    )
    clinician.groups.add(Group.objects.get(name="Clinician reviewers"))
    editor = django_user_model.objects.create_user("editor", password="x" * 12)
    editor.groups.add(Group.objects.get(name="Editors"))
    # Editorial sign-off is given by an editor who neither wrote nor submitted the revision.
    signer = django_user_model.objects.create_user("signer", password="x" * 12)
    signer.groups.add(Group.objects.get(name="Editors"))
    return {"clinician": clinician, "editor": editor, "signer": signer}


def _review(page: Any, staff: dict[str, User]) -> None:
    """Both steps of the review workflow: the clinician, then an editor who did not submit."""
    page.save_revision(user=staff["editor"])
    state = page.get_workflow().start(page, staff["editor"])
    first = state.current_task_state
    assert first.task.name == "Clinical review"
    first.task.specific.on_action(first, staff["clinician"], "approve")
    state.refresh_from_db()
    second = state.current_task_state
    second.task.specific.on_action(second, staff["signer"], "approve")
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED


def test_approved_at_5_of_10_stays_until_re_approval(
    client: Client,
    topic_page: TopicPage,
    make_article: Callable[..., ArticlePage],
    ten_cases: Publication,
    staff: dict[str, User],
) -> None:
    review_workflow_ensure()
    body = complete_body({"mechanism": ten_cases, "safety": ten_cases})
    body.append({"type": "case_table", "value": {"heading": "Every case", "caption": ""}})
    article = make_article(title="Reviewed", body=body, publish=False)
    _review(article, staff)
    article.refresh_from_db()
    assert article.live
    pin = PageEvidencePin.objects.get(page_id=article.pk)
    assert pin.task_state is not None and pin.task_state.task.name == "Clinical review"
    assert pin.snapshot.reviewer_name == "Jane Clinic"

    html = client.get(article.url).content.decode()
    assert "<td>5 of 10</td>" in html
    assert 'reviewed by <span class="reviewer">Jane Clinic</span> on' in html
    assert "Evidence as of" in html
    assert "waiting for clinical review" not in html

    # An editor adds a case that improved: current evidence 6 of 11.
    ReportedPatient.objects.create(
        publication=ten_cases, topic=article.topic, label="Case 11", response="complete"
    )

    html = client.get(article.url).content.decode()
    assert "<td>5 of 10</td>" in html and "6 of 11" not in html
    assert "1 new or corrected case is waiting for clinical review." in html
    assert "Case 10" in html and "Case 11" not in html  # the case table is the reviewed one

    # The API gives both, each labelled.
    data = client.get(f"/api/v1/topics/{article.topic.slug}/").json()
    assert data["reviewed_evidence"]["synthesis"]["any_response"]["count"] == 5
    assert data["reviewed_evidence"]["synthesis"]["patients"] == 10
    assert data["reviewed_evidence"]["reviewed_by"] == "Jane Clinic"
    assert data["current_evidence"]["synthesis"]["patients"] == 11
    assert data["current_evidence"]["differs_from_reviewed"] is True
    assert "not yet clinically reviewed" in data["current_evidence"]["label"]

    # Review due lists the page with the difference.
    listed = {item.page.pk: item for item in pages_due_for_review()}
    reasons = listed[article.pk].reasons_text
    assert "patients 10 → 11" in reasons
    assert "any improvement 5 of 10 → 6 of 11" in reasons

    # Re-approval publishes the new numbers.
    _review(ArticlePage.objects.get(pk=article.pk), staff)
    html = client.get(article.url).content.decode()
    assert "<td>6 of 11</td>" in html and "5 of 10" not in html
    assert "waiting for clinical review" not in html
    assert article.pk not in {item.page.pk for item in pages_due_for_review()}
    assert EvidenceSnapshot.objects.filter(topic=article.topic).count() == 2


def test_the_scenario_of_the_issue_in_real_numbers_only(
    client: Client,
    topic_page: TopicPage,
    ten_cases: Publication,
    staff: dict[str, User],
) -> None:
    """The topic page approved at 5/10 keeps 5 of 10 while a case is added (6 of 11)."""
    review_workflow_ensure()
    _review(TopicPage.objects.get(pk=topic_page.pk), staff)
    assert "<td>5 of 10</td>" in client.get(topic_page.url).content.decode()

    ReportedPatient.objects.create(
        publication=ten_cases, topic=topic_page.topic, label="Case 11", response="partial"
    )
    html = client.get(topic_page.url).content.decode()
    assert "<td>5 of 10</td>" in html
    assert "1 new or corrected case is waiting for clinical review." in html
    (item,) = [i for i in pages_due_for_review() if i.page.pk == topic_page.pk]
    assert "patients 10 → 11; publications 1 → 1" not in item.reasons_text
    assert "patients 10 → 11" in item.reasons_text
    assert "any improvement 5 of 10 → 6 of 11" in item.reasons_text

    _review(TopicPage.objects.get(pk=topic_page.pk), staff)
    html = client.get(topic_page.url).content.decode()
    assert "<td>6 of 11</td>" in html
    assert "waiting for clinical review" not in html


def test_a_page_never_reviewed_shows_no_numbers(
    client: Client, topic_page: TopicPage, ten_cases: Publication
) -> None:
    html = client.get(topic_page.url).content.decode()
    assert "5 of 10" not in html
    assert "The numbers for this topic are waiting for clinical review." in html
    assert any(
        item.page.pk == topic_page.pk and item.never_reviewed for item in pages_due_for_review()
    )
    page_evidence_pin_live(page=topic_page, reviewer_name="Dr Demo Reviewer")
    html = client.get(topic_page.url).content.decode()
    assert "<td>5 of 10</td>" in html
    assert 'reviewed by <span class="reviewer">Dr Demo Reviewer</span>' in html


def test_a_correction_and_a_deletion_are_named_in_plain_words(
    client: Client, topic_page: TopicPage, ten_cases: Publication
) -> None:
    page_evidence_pin_live(page=topic_page, reviewer_name="Dr R")
    first, second, third = ReportedPatient.objects.filter(topic=topic_page.topic)[:3]
    first.response = "progression"
    first.save()
    second.age = 70
    second.save()
    third.delete()
    html = client.get(topic_page.url).content.decode()
    assert "2 new or corrected cases are waiting for clinical review." in html
    assert "1 case was taken out of the evidence base since the review" in html
    assert "<td>5 of 10</td>" in html


def test_saving_a_case_unchanged_does_not_ask_for_review(
    client: Client, topic_page: TopicPage, ten_cases: Publication
) -> None:
    page_evidence_pin_live(page=topic_page, reviewer_name="Dr R")
    for case in ReportedPatient.objects.filter(topic=topic_page.topic):
        case.save()
    html = client.get(topic_page.url).content.decode()
    assert "waiting for clinical review" not in html
    assert topic_page.pk not in {i.page.pk for i in pages_due_for_review() if i.reasons}


def test_a_snapshot_cannot_be_rewritten(topic_page: TopicPage, ten_cases: Publication) -> None:
    pin = page_evidence_pin_live(page=topic_page, reviewer_name="Dr R")
    snapshot = EvidenceSnapshot.objects.get(pk=pin.snapshot_id)
    snapshot.reviewer_name = "Someone else"
    with pytest.raises(Exception, match="cannot be changed"):
        snapshot.save()


def test_the_preview_shows_current_evidence_to_the_reviewer(
    client: Client, topic_page: TopicPage, ten_cases: Publication, django_user_model: type[User]
) -> None:
    page_evidence_pin_live(page=topic_page, reviewer_name="Dr R")
    ReportedPatient.objects.create(
        publication=ten_cases, topic=topic_page.topic, label="Case 11", response="partial"
    )
    admin = django_user_model.objects.create_superuser("admin", "a@example.org", "x" * 12)
    client.force_login(admin)
    html = client.get(f"/admin/pages/{topic_page.pk}/view_draft/").content.decode()
    assert "<td>6 of 11</td>" in html
    assert "Preview:" in html and "patients 10 → 11" in html


def test_the_page_editor_names_the_reviewed_evidence_and_the_difference(
    client: Client, topic_page: TopicPage, ten_cases: Publication, django_user_model: type[User]
) -> None:
    admin = django_user_model.objects.create_superuser("admin", "a@example.org", "x" * 12)
    client.force_login(admin)
    url = f"/admin/pages/{topic_page.pk}/edit/"
    assert "has not passed Clinical review" in client.get(url).content.decode()
    page_evidence_pin_live(page=topic_page, reviewer_name="Dr R")
    assert "Since then" not in client.get(url).content.decode()
    ReportedPatient.objects.create(
        publication=ten_cases, topic=topic_page.topic, label="Case 11", response="partial"
    )
    html = client.get(url).content.decode()
    assert "The published page shows the evidence reviewed by Dr R" in html
    assert "patients 10 → 11; any improvement 5 of 10 → 6 of 11" in html


def test_a_page_moved_to_another_topic_without_review_shows_no_numbers(
    client: Client, topic_page: TopicPage, ten_cases: Publication
) -> None:
    """A pin is the evidence of the topic it was taken for: a revision that names another topic
    (however it got published) shows no numbers until that topic's evidence is reviewed."""
    page_evidence_pin_live(page=topic_page, reviewer_name="Dr R")
    other = Topic.objects.create(name="Other", slug="other", treatment="T", condition="C")
    other_series = Publication.objects.create(title="Other series", year=2021)
    for n in range(4):
        ReportedPatient.objects.create(
            publication=other_series, topic=other, label=f"O{n}", response="complete"
        )
    page = TopicPage.objects.get(pk=topic_page.pk)
    page.topic = other
    page.save_revision().publish()

    html = client.get(topic_page.url).content.decode()
    assert "4 of 4" not in html and "5 of 10" not in html
    assert "The numbers for this topic are waiting for clinical review." in html


def test_an_editor_adding_a_case_in_the_admin_changes_no_public_number(
    client: Client, topic_page: TopicPage, ten_cases: Publication, staff: dict[str, User]
) -> None:
    """The Editors role, through the admin's own add form: the page and the API's reviewed
    evidence keep the reviewed numbers; only the labelled current evidence moves."""
    from django.urls import reverse
    from wagtail.test.utils.form_data import querydict_from_html

    page_evidence_pin_live(page=topic_page, reviewer_name="Dr R")
    editor = Client()
    editor.force_login(staff["editor"])
    url = reverse("reportedpatient:add")
    data = querydict_from_html(editor.get(url).content.decode(), form_id="w-editor-form")
    data.update(
        {
            "publication": str(ten_cases.pk),
            "topic": str(topic_page.topic_id),
            "label": "Case 11",
            "response": "complete",
        }
    )
    assert editor.post(url, data).status_code == 302
    assert ReportedPatient.objects.filter(label="Case 11").exists()

    html = client.get(topic_page.url).content.decode()
    assert "<td>5 of 10</td>" in html and "6 of 11" not in html
    api = client.get(f"/api/v1/topics/{topic_page.topic.slug}/").json()
    assert api["reviewed_evidence"]["synthesis"]["any_response"]["count"] == 5
    assert api["current_evidence"]["synthesis"]["any_response"]["count"] == 6
    assert api["current_evidence"]["changes"].startswith("patients 10 → 11")


def test_a_clinical_approval_of_the_live_revision_waits_for_the_editorial_sign_off(
    client: Client, topic_page: TopicPage, ten_cases: Publication, staff: dict[str, User]
) -> None:
    """Re-review started on the revision that is already live: the new numbers appear with the
    publish after Editorial sign-off, not at the clinician's approval."""
    review_workflow_ensure()
    _review(TopicPage.objects.get(pk=topic_page.pk), staff)
    ReportedPatient.objects.create(
        publication=ten_cases, topic=topic_page.topic, label="Case 11", response="complete"
    )
    page = TopicPage.objects.get(pk=topic_page.pk)
    state = page.get_workflow().start(page, staff["editor"])  # no new revision
    first = state.current_task_state
    assert first.revision_id == page.live_revision_id
    first.task.specific.on_action(first, staff["clinician"], "approve")
    assert "<td>5 of 10</td>" in client.get(topic_page.url).content.decode()

    state.refresh_from_db()
    second = state.current_task_state
    second.task.specific.on_action(second, staff["signer"], "approve")
    assert "<td>6 of 11</td>" in client.get(topic_page.url).content.decode()


def test_the_public_source_entry_counts_reviewed_cases_only(
    client: Client, topic_page: TopicPage, ten_cases: Publication
) -> None:
    url = f"/evidence/publications/{ten_cases.pk}/"
    assert "Changes to the cases from this source are waiting" in client.get(url).content.decode()
    page_evidence_pin_live(page=topic_page, reviewer_name="Dr R")
    html = client.get(url).content.decode()
    assert "10 reported cases from this source are counted in the clinically reviewed" in html
    assert "waiting for clinical review" not in html
    ReportedPatient.objects.create(
        publication=ten_cases, topic=topic_page.topic, label="Case 11", response="complete"
    )
    html = client.get(url).content.decode()
    assert "10 reported cases from this source are counted" in html and "11 reported" not in html
    assert "Changes to the cases from this source are waiting for clinical review." in html
