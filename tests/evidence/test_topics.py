"""Topic definitions stored and versioned: apply_definition, load_topic, export_topic, signal."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from evidencepress.evidence.exceptions import DefinitionRejected
from evidencepress.evidence.models import AdverseEvent, ReportedPatient, Topic, TopicVersion
from evidencepress.evidence.signals import topic_definition_applied
from evidencepress.evidence.topic_definition import TopicDefinitionError, parse_definition
from evidencepress.evidence.topics import apply_definition, export_definition, load_definition_text
from tests.factories import AdverseEventFactory, PublicationFactory, UserFactory

pytestmark = pytest.mark.django_db

DEMO = Path("evidencepress/demo/data/topics/imiquimod-angiosarcoma.json")


def demo_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def write(tmp_path: Path, data: dict[str, Any], name: str = "topic.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def load(path: Path) -> str:
    out = io.StringIO()
    call_command("load_topic", str(path), stdout=out)
    return out.getvalue()


@pytest.fixture
def applied() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append({"sender": sender, **kwargs})

    topic_definition_applied.connect(receiver, dispatch_uid="test-topics")
    yield seen
    topic_definition_applied.disconnect(dispatch_uid="test-topics")


def case(topic: Topic, label: str, **values: Any) -> ReportedPatient:
    patient = ReportedPatient(topic=topic, publication=PublicationFactory(), label=label, **values)
    patient.save()
    return patient


def test_load_creates_the_topic_with_version_1_and_signals(tmp_path, applied):
    output = load(write(tmp_path, demo_data()))
    topic = Topic.objects.get(slug="imiquimod-angiosarcoma")
    assert "version 1 recorded" in output
    assert topic.name == "Imiquimod for cutaneous angiosarcoma"
    assert topic.treatment == "Imiquimod" and topic.condition == "Cutaneous angiosarcoma"
    assert topic.definition == demo_data()
    version = topic.versions.get()
    assert (version.number, version.data, version.created_by) == (1, demo_data(), None)
    assert version.note == "Loaded from topic.json"
    assert len(applied) == 1
    assert applied[0]["sender"] is Topic and applied[0]["topic"] == topic
    assert applied[0]["version"] == version
    assert applied[0]["definition"].slug == topic.slug


def test_loading_again_changes_nothing(tmp_path, applied):
    path = write(tmp_path, demo_data())
    load(path)
    before = Topic.objects.get(slug="imiquimod-angiosarcoma").updated_at
    assert "unchanged (still version 1)" in load(path)
    assert TopicVersion.objects.count() == 1
    assert Topic.objects.get(slug="imiquimod-angiosarcoma").updated_at == before
    assert len(applied) == 1


def test_a_change_records_the_next_version_with_who_and_why(tmp_path, applied):
    load(write(tmp_path, demo_data()))
    editor = UserFactory()
    data = demo_data(name="Imiquimod cream for angiosarcoma of the skin")
    topic, version = apply_definition(
        definition=parse_definition(data), user=editor, note="Clearer name"
    )
    assert version is not None
    assert (version.number, version.created_by, version.note) == (2, editor, "Clearer name")
    assert topic.name == "Imiquimod cream for angiosarcoma of the skin"
    assert [v.number for v in topic.versions.all()] == [2, 1]
    assert TopicVersion.objects.get(topic=topic, number=1).data == demo_data()
    assert len(applied) == 2


def test_load_export_load_changes_nothing(tmp_path):
    load(write(tmp_path, demo_data()))
    exported = tmp_path / "out.json"
    call_command(
        "export_topic", "imiquimod-angiosarcoma", "-o", str(exported), stderr=io.StringIO()
    )
    assert "unchanged" in load(exported)
    assert TopicVersion.objects.count() == 1
    topic = Topic.objects.get(slug="imiquimod-angiosarcoma")
    assert export_definition(topic) == exported.read_text(encoding="utf-8")
    assert json.loads(exported.read_text(encoding="utf-8")) == demo_data()
    # To stdout as well, the same text.
    out = io.StringIO()
    call_command("export_topic", "imiquimod-angiosarcoma", stdout=out)
    assert out.getvalue() == exported.read_text(encoding="utf-8")


def test_yaml_files_load(tmp_path):
    import yaml

    path = tmp_path / "topic.yaml"
    path.write_text(yaml.safe_dump(demo_data(), allow_unicode=True), encoding="utf-8")
    load(path)
    assert Topic.objects.get(slug="imiquimod-angiosarcoma").definition == demo_data()


def test_errors_name_file_key_and_line_and_change_nothing(tmp_path):
    data = demo_data()
    data["vocabulary"]["settings"][2]["value"] = "Lymph Oedema"
    path = write(tmp_path, data)
    line = next(
        n for n, row in enumerate(path.read_text().splitlines(), 1) if "Lymph Oedema" in row
    )
    with pytest.raises(CommandError) as raised:
        load(path)
    assert f"{path}:{line}: vocabulary.settings[2].value:" in str(raised.value)
    assert "nothing was changed" in str(raised.value)
    assert not Topic.objects.exists() and not TopicVersion.objects.exists()


def test_a_missing_file_and_an_unknown_slug_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match=r"nowhere\.json: no such file"):
        load(tmp_path / "nowhere.json")
    with pytest.raises(CommandError, match="No topic with slug 'nobody'"):
        call_command("export_topic", "nobody", stdout=io.StringIO())


def test_a_vocabulary_that_orphans_cases_is_refused_with_the_cases_listed(tmp_path, applied):
    path = write(tmp_path, demo_data())
    load(path)
    topic = Topic.objects.get(slug="imiquimod-angiosarcoma")
    first = case(topic, "Case 1", setting="lymphoedema", response="partial")
    second = case(topic, "Case 2", setting="lymphoedema")
    case(topic, "Case 3", setting="radiation")
    event_case = case(topic, "Case 4")
    AdverseEventFactory(patient=event_case, severity="life_threatening")

    data = demo_data()
    data["vocabulary"]["settings"] = [
        t for t in data["vocabulary"]["settings"] if t["value"] != "lymphoedema"
    ]
    data["questionnaire"][0]["options"] = [
        o for o in data["questionnaire"][0]["options"] if o["value"] != "lymphoedema"
    ]
    data["vocabulary"]["severities"] = [
        t for t in data["vocabulary"]["severities"] if t["value"] != "life_threatening"
    ]
    changed = write(tmp_path, data, "changed.json")
    with pytest.raises(CommandError) as raised:
        load(changed)
    message = str(raised.value)
    settings_line = next(
        n for n, row in enumerate(changed.read_text().splitlines(), 1) if '"settings"' in row
    )
    assert f"{changed}:{settings_line}: vocabulary.settings: setting 'lymphoedema'" in message
    assert f"'Case 1' (case #{first.pk}, publication #{first.publication_id})" in message
    assert f"'Case 2' (case #{second.pk}" in message
    assert "'Case 3'" not in message
    assert "vocabulary.severities: severity 'life_threatening' is stored for adverse events" in (
        message
    )
    assert f"'Case 4' (case #{event_case.pk}" in message
    # Nothing changed: the same definition, one version, no signal, the cases as they were.
    topic.refresh_from_db()
    assert topic.definition == demo_data() and topic.versions.count() == 1
    assert len(applied) == 1
    assert ReportedPatient.objects.filter(setting="lymphoedema").count() == 2


def test_value_map_renames_the_cases_in_the_same_transaction(tmp_path):
    load(write(tmp_path, demo_data()))
    topic = Topic.objects.get(slug="imiquimod-angiosarcoma")
    first = case(topic, "Case 1", setting="lymphoedema", response="partial")
    other_topic = Topic.objects.create(name="Other", slug="other", treatment="T", condition="C")
    untouched = case(other_topic, "Case 9", setting="lymphoedema")
    AdverseEventFactory(patient=first, severity="life_threatening")

    data = demo_data()
    for term in data["vocabulary"]["settings"]:
        if term["value"] == "lymphoedema":
            term["value"] = "lymphoedema_associated"
    for option in data["questionnaire"][0]["options"]:
        if option["value"] == "lymphoedema":
            option["value"] = "lymphoedema_associated"
    data["vocabulary"]["severities"] = [
        t for t in data["vocabulary"]["severities"] if t["value"] != "life_threatening"
    ]
    data["value_map"] = {
        "settings": {"lymphoedema": "lymphoedema_associated"},
        "severities": {"life_threatening": "severe"},
    }
    output = load(write(tmp_path, data, "renamed.json"))
    assert "version 2 recorded" in output
    first.refresh_from_db()
    assert first.setting == "lymphoedema_associated" and first.response == "partial"
    assert AdverseEvent.objects.get(patient=first).severity == "severe"
    untouched.refresh_from_db()
    assert untouched.setting == "lymphoedema"  # another topic's cases are not this file's
    topic.refresh_from_db()
    assert "value_map" not in topic.definition  # used while loading, never stored
    assert "value_map" not in topic.versions.get(number=2).data


def test_value_map_to_an_undefined_value_is_refused(tmp_path):
    load(write(tmp_path, demo_data()))
    data = demo_data(value_map={"settings": {"lymphoedema": "nowhere"}})
    path = write(tmp_path, data, "bad-map.json")
    line = next(n for n, row in enumerate(path.read_text().splitlines(), 1) if "nowhere" in row)
    with pytest.raises(CommandError) as raised:
        load(path)
    assert (
        f"{path}:{line}: value_map.settings.lymphoedema: 'nowhere' is not a value of "
        "vocabulary.settings" in str(raised.value)
    )
    assert TopicVersion.objects.count() == 1


def test_a_failing_receiver_undoes_the_whole_application(tmp_path):
    topic_definition_applied.connect(_fail, dispatch_uid="test-topics-fail")
    try:
        with pytest.raises(RuntimeError, match="receiver failed"):
            load_definition_text(json.dumps(demo_data()), source="x.json")
    finally:
        topic_definition_applied.disconnect(dispatch_uid="test-topics-fail")
    assert not Topic.objects.exists() and not TopicVersion.objects.exists()


def _fail(sender: Any, **kwargs: Any) -> None:
    raise RuntimeError("receiver failed")


def test_a_name_used_by_another_topic_is_refused():
    Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma", slug="older", treatment="T", condition="C"
    )
    with pytest.raises(DefinitionRejected) as raised:
        load_definition_text(json.dumps(demo_data(), indent=2), source="x.json")
    assert "x.json:4: name: another topic is already called" in str(raised.value)
    assert not TopicVersion.objects.exists()


def test_a_topic_without_a_definition_exports_the_neutral_default_with_its_names():
    topic = Topic.objects.create(
        name="Sirolimus for a test tumour", slug="sirolimus-test", treatment="S", condition="C"
    )
    data = json.loads(export_definition(topic))
    assert (data["slug"], data["name"], data["treatment"]) == ("sirolimus-test", topic.name, "S")
    assert "angiosarcoma" not in json.dumps(data).lower()
    assert isinstance(parse_definition(data).vocabulary.settings, tuple)
    _, version = load_definition_text(json.dumps(data), source="exported.json")
    assert version is not None and version.number == 1


def test_a_definition_error_is_a_topic_definition_error():
    with pytest.raises(TopicDefinitionError):
        load_definition_text('{"slug": "x"}', source="x.json")


def test_the_worked_example_in_the_docs_loads_and_exports(tmp_path):
    import re

    text = Path("docs/topic-definition.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert example is not None
    path = tmp_path / "sirolimus-khe.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    assert "version 1 recorded" in load(path)
    topic = Topic.objects.get(slug="sirolimus-khe")
    exported = tmp_path / "again.json"
    exported.write_text(export_definition(topic), encoding="utf-8")
    assert "unchanged" in load(exported)
