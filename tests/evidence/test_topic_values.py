"""Topic-defined case fields take their values from the case's topic, on every way in."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from wagtail.test.utils.form_data import querydict_from_html

from evidencepress.evidence.case_import import plan_case_import
from evidencepress.evidence.export import COLUMNS
from evidencepress.evidence.models import AdverseEvent, ReportedPatient, Topic
from evidencepress.evidence.topic_definition import parse_definition
from evidencepress.evidence.topics import apply_definition
from tests.factories import PublicationFactory

pytestmark = pytest.mark.django_db

DEMO = Path("evidencepress/demo/data/topics/imiquimod-angiosarcoma.json")


@pytest.fixture
def sirolimus() -> Topic:
    """A topic of another condition, whose settings are its own (invented for the tests)."""
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data.update(slug="sirolimus-test", name="Sirolimus for a test tumour", condition="Test tumour")
    data["vocabulary"]["settings"] = [
        {"value": "kasabach_merritt", "label": "With Kasabach–Merritt phenomenon"},
        {"value": "without_phenomenon", "label": "Without the phenomenon"},
        {"value": "unknown", "label": "Not reported"},
    ]
    data["vocabulary"]["severities"].insert(0, {"value": "grade_1", "label": "Grade 1"})
    data["questionnaire"] = []
    topic, _ = apply_definition(definition=parse_definition(data))
    return topic


def test_a_value_of_another_topic_is_refused_by_the_model(sirolimus: Topic) -> None:
    case = ReportedPatient(
        topic=sirolimus, publication=PublicationFactory(), label="Case 1", setting="scalp_face"
    )
    with pytest.raises(ValidationError) as raised:
        case.full_clean()
    message = raised.value.message_dict["setting"][0]
    assert "'scalp_face' is not a value of Kind of angiosarcoma" in message
    assert "kasabach_merritt, without_phenomenon, unknown" in message
    case.setting = "kasabach_merritt"
    case.full_clean()
    case.save()
    assert case.get_topic_field_display("setting") == "With Kasabach–Merritt phenomenon"


def test_values_up_to_30_characters_are_stored(sirolimus: Topic) -> None:
    field = ReportedPatient._meta.get_field("setting")
    assert field.max_length == 30 and not field.choices
    assert not AdverseEvent._meta.get_field("severity").choices


def test_an_adverse_event_severity_follows_its_patients_topic(sirolimus: Topic) -> None:
    case = ReportedPatient.objects.create(
        topic=sirolimus, publication=PublicationFactory(), label="Case 1"
    )
    event = AdverseEvent(patient=case, kind="Mucositis", severity="grade_1")
    event.full_clean()
    assert event.get_severity_display() == "Grade 1"
    event.severity = "catastrophic"
    with pytest.raises(ValidationError, match="'catastrophic' is not a value of severity"):
        event.full_clean()


def test_the_admin_offers_the_cases_topic_values_and_refuses_others(
    client: Any, django_user_model: Any, sirolimus: Topic
) -> None:
    editor = django_user_model.objects.create_superuser("ed", "ed@example.org", "a-long-pass-1")
    client.force_login(editor)
    case = ReportedPatient.objects.create(
        topic=sirolimus, publication=PublicationFactory(), label="Case 1"
    )
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'value="kasabach_merritt"' in page and "With Kasabach–Merritt phenomenon" in page
    assert 'value="scalp_face"' not in page
    data = querydict_from_html(page, form_id="w-editor-form")
    data["setting"] = "scalp_face"
    response = client.post(case.get_absolute_url(), data)
    assert response.status_code == 200
    assert "is not a value of Kind of angiosarcoma" in response.content.decode()
    case.refresh_from_db()
    assert case.setting == "unknown"
    data["setting"] = "without_phenomenon"
    assert client.post(case.get_absolute_url(), data).status_code == 302
    case.refresh_from_db()
    assert case.setting == "without_phenomenon"


def test_the_spreadsheet_import_checks_the_topics_values(sirolimus: Topic) -> None:
    PublicationFactory(title="A test series").topics.add(sirolimus)
    row = {name: "" for name, _ in COLUMNS}
    row.update(
        label="Case 1",
        publication_title="A test series",
        publication_year="2024",
        setting="scalp_face",
        demonstration_data="false",
        verified="false",
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[name for name, _ in COLUMNS])
    writer.writeheader()
    writer.writerow(row)
    plan = plan_case_import(topic=sirolimus, data=buffer.getvalue().encode(), name="cases.csv")
    problems = " ".join(str(error) for error in plan.errors)
    assert "scalp_face" in problems and "kasabach_merritt" in problems
    row["setting"] = "kasabach_merritt"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[name for name, _ in COLUMNS])
    writer.writeheader()
    writer.writerow(row)
    plan = plan_case_import(topic=sirolimus, data=buffer.getvalue().encode(), name="cases.csv")
    assert not plan.errors, plan.errors
