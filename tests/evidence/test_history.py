"""Every change to the evidence is recorded (who, when, from → to, why) and readable per topic;
changing or deleting evidence that published pages use lists those pages and asks for a reason."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from wagtail.models import ModelLogEntry
from wagtail.test.utils.form_data import querydict_from_html

from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import HomePage, TopicPage
from evidencepress.core.roles import ensure_roles
from evidencepress.demo.loader import ensure_home_page
from evidencepress.evidence.history import object_history, recorded_reason, topic_history
from evidencepress.evidence.models import (
    AdverseEvent,
    Appraisal,
    EvidenceFact,
    Publication,
    ReportedPatient,
    Topic,
    Treatment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(
        name="Cream X for Y", slug="x-y", treatment="Cream X", condition="Y"
    )


@pytest.fixture
def other_topic() -> Topic:
    return Topic.objects.create(name="Cream Z for W", slug="z-w", treatment="Z", condition="W")


@pytest.fixture
def publication(topic: Topic) -> Publication:
    publication = Publication.objects.create(title="Three cases", journal="J Test", year=2020)
    publication.topics.add(topic)
    for n, response in enumerate(("complete", "partial", "progression"), 1):
        ReportedPatient.objects.create(
            publication=publication, topic=topic, label=f"Case {n}", response=response
        )
    return publication


@pytest.fixture
def published_page(wagtail_tree: Any, topic: Topic, publication: Publication) -> TopicPage:
    ensure_home_page()
    page = TopicPage(title="Cream X for Y explained", slug="cream-x", topic=topic)
    HomePage.objects.get().add_child(instance=page)
    page.save_revision().publish()
    page_evidence_pin_live(page=page, reviewer_name="Dr R")
    return page


@pytest.fixture
def editor_client(client: Client, django_user_model: type[User]) -> Client:
    """A member of the Editors role as deployed (core/roles.py), not a superuser."""
    ensure_roles()
    user = django_user_model.objects.create_user("editor", password="x" * 12)
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    return client


def _changes(entry: ModelLogEntry) -> dict[str, list[Any]]:
    return entry.data["changes"]


def test_a_case_change_is_recorded_field_by_field_with_its_topic(
    topic: Topic, publication: Publication
) -> None:
    case = ReportedPatient.objects.get(label="Case 3")
    case.response = "partial"
    case.age = 64
    case.save()

    entry = object_history(case).first()
    assert entry.action == "evidence.change"
    assert _changes(entry) == {
        "age": [None, 64],
        "response": ["Progression", "Partial response"],
    }
    assert entry.data["topics"] == {str(topic.pk): topic.name}
    assert entry.timestamp is not None
    # Saving without a change records nothing.
    count = object_history(case).count()
    ReportedPatient.objects.get(pk=case.pk).save()
    assert object_history(case).count() == count


def test_creations_deletions_and_related_rows_are_recorded(
    topic: Topic, other_topic: Topic, publication: Publication
) -> None:
    case = ReportedPatient.objects.get(label="Case 1")
    event = AdverseEvent.objects.create(patient=case, kind="redness", severity="mild")
    surgery = Treatment.objects.create(name="Surgery", slug="surgery", category="surgery")
    case.prior_treatments.add(surgery)
    case.save()  # a parental relation is written on save
    fact = EvidenceFact.objects.create(
        topic=topic, publication=publication, key="how", kind="mechanism", statement="It works."
    )
    appraisal = Appraisal.objects.create(publication=publication, demographics="yes")
    publication.topics.add(other_topic)

    assert _changes(object_history(event).get())["kind"] == [None, "redness"]
    assert object_history(event).get().data["topics"] == {str(topic.pk): topic.name}
    assert _changes(object_history(case).first()) == {"prior treatments": [[], ["Surgery"]]}
    assert _changes(object_history(fact).get())["statement"] == [None, "It works."]
    assert object_history(appraisal).get().action == "evidence.create"
    assert _changes(object_history(publication).first()) == {
        "topics": [["Cream X for Y"], ["Cream X for Y", "Cream Z for W"]]
    }

    with recorded_reason("Duplicate of another report"):
        case.delete()
    entries = ModelLogEntry.objects.filter(action="evidence.delete")
    deleted = {entry.label: entry for entry in entries}
    assert {e.data["reason"] for e in entries} == {"Duplicate of another report"}
    assert any("Case 1" in label for label in deleted)  # the case ...
    assert any("redness" in label for label in deleted)  # ... and its adverse event
    case_entry = next(e for label, e in deleted.items() if "Case 1" in label)
    assert _changes(case_entry)["response"] == ["Complete response", None]
    # Still listed in the topic's history after the rows are gone.
    assert case_entry in topic_history(topic)


def test_the_admin_records_who_and_shows_the_topic_history(
    client: Client, django_user_model: type[User], topic: Topic, publication: Publication
) -> None:
    admin = django_user_model.objects.create_superuser("chief", "c@example.org", "x" * 12)
    client.force_login(admin)
    fact = EvidenceFact.objects.create(
        topic=topic, publication=publication, key="how", kind="mechanism", statement="It works."
    )
    url = reverse("evidencefact:edit", args=[fact.pk])
    data = querydict_from_html(client.get(url).content.decode(), form_id="w-editor-form")
    data["statement"] = "It wakes immune cells."
    data["change_reason"] = "Clearer wording"
    assert client.post(url, data).status_code == 302

    entry = object_history(fact).first()
    assert entry.user == admin
    assert _changes(entry)["statement"] == ["It works.", "It wakes immune cells."]
    assert entry.data["reason"] == "Clearer wording"

    html = client.get(reverse("topic:evidence_history", args=[topic.pk])).content.decode()
    assert "Evidence history" in html
    assert "chief" in html
    assert "It works. → It wakes immune cells." in html
    assert "Clearer wording" in html
    assert "Case 3" in html  # the cases created by the fixture, by "System"
    assert "No page about this topic has passed clinical review yet" in html


def test_the_topic_history_lists_reviews_and_imports(
    client: Client, django_user_model: type[User], published_page: TopicPage, topic: Topic
) -> None:
    from evidencepress.literature.models import ImportBatch

    batch = ImportBatch.objects.create(kind="file", source="pubmed-export.xml")
    imported = Publication.objects.create(title="Imported", year=2021, import_batch=batch)
    imported.topics.add(topic)
    ReportedPatient.objects.create(
        publication=imported, topic=topic, label="New", response="stable"
    )
    admin = django_user_model.objects.create_superuser("chief", "c@example.org", "x" * 12)
    client.force_login(admin)
    html = client.get(reverse("topic:evidence_history", args=[topic.pk])).content.decode()
    assert "Last reviewed by <strong>Dr R</strong>" in html
    assert "1 new or corrected case is waiting for clinical review." in html
    assert "patients 3 → 4" in html
    assert "any improvement 2 of 3" in html  # the numbers of the review, in its row
    assert f"import batch #{batch.pk}" in html and "pubmed-export.xml" in html


def test_editing_a_case_that_feeds_a_published_page_needs_a_reason(
    editor_client: Client, published_page: TopicPage, publication: Publication
) -> None:
    case = ReportedPatient.objects.get(label="Case 2")
    url = case.get_absolute_url()
    form = editor_client.get(url).content.decode()
    assert "Published pages use this evidence" in form
    assert "Cream X for Y explained" in form
    data = querydict_from_html(form, form_id="w-editor-form")
    data["response"] = "complete"

    refused = editor_client.post(url, data)
    assert refused.status_code == 200
    case.refresh_from_db()
    assert case.response == "partial"  # nothing saved without a reason

    data["change_reason"] = "The authors' erratum gives a complete response"
    assert editor_client.post(url, data).status_code == 302
    case.refresh_from_db()
    assert case.response == "complete"
    entry = object_history(case).first()
    assert entry.data["reason"] == "The authors' erratum gives a complete response"
    assert entry.user.username == "editor"
    # The public page keeps the reviewed numbers and says a change waits.
    html = Client().get(published_page.url).content.decode()
    assert "<td>2 of 3</td>" in html
    assert "1 new or corrected case is waiting for clinical review." in html


def test_deleting_a_publication_lists_the_pages_it_feeds_and_needs_a_reason(
    editor_client: Client, published_page: TopicPage, publication: Publication
) -> None:
    url = reverse("publication:delete", args=[publication.pk])
    page = editor_client.get(url)
    if page.status_code == 302:  # the Editors role may not delete publications at all
        pytest.skip("Editors cannot delete publications")
    html = page.content.decode()
    assert "referenced 0 times" not in html and "Referenced" not in html
    assert "Published pages use this evidence" in html
    assert "Cream X for Y explained" in html
    assert "Deleting it also deletes 3 reported patients" in html

    assert editor_client.post(url, {"reason": ""}).status_code == 200
    assert Publication.objects.filter(pk=publication.pk).exists()

    response = editor_client.post(url, {"reason": "Retracted by the journal"})
    assert response.status_code == 302
    assert not Publication.objects.filter(pk=publication.pk).exists()
    deleted = ModelLogEntry.objects.filter(action="evidence.delete")
    reasons = {entry.data.get("reason") for entry in deleted}
    assert reasons == {"Retracted by the journal"}
    assert ModelLogEntry.objects.filter(action="evidence.delete").count() == 4  # + 3 cases
    # The page still shows what the clinician reviewed, and says the cases are gone.
    html = Client().get(published_page.url).content.decode()
    assert "<td>2 of 3</td>" in html
    assert "3 cases were taken out of the evidence base since the review" in html


def test_a_publication_no_page_uses_is_deleted_without_a_reason(
    client: Client, django_user_model: type[User], topic: Topic
) -> None:
    admin = django_user_model.objects.create_superuser("chief", "c@example.org", "x" * 12)
    client.force_login(admin)
    lonely = Publication.objects.create(title="Unused", year=2020)
    url = reverse("publication:delete", args=[lonely.pk])
    assert "Published pages use this evidence" not in client.get(url).content.decode()
    assert client.post(url, {}).status_code == 302
    assert not Publication.objects.filter(pk=lonely.pk).exists()
