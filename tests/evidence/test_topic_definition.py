"""The topic definition file: schema checks with key and line, and load -> dump -> load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evidencepress.evidence.topic_definition import (
    TopicDefinitionError,
    default_definition,
    definition_for,
    dump_definition,
    read_definition,
)

DEMO = Path("evidencepress/demo/data/topics/imiquimod-angiosarcoma.json")


def test_demo_definition_round_trips_unchanged():
    text = DEMO.read_text(encoding="utf-8")
    definition = read_definition(text, source=str(DEMO))
    assert dump_definition(definition) == text
    assert read_definition(dump_definition(definition)) == definition


def test_errors_name_the_key_and_line():
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["vocabulary"]["outcomes"][1]["value"] = "Partly Better"
    text = json.dumps(data, indent=2)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "Partly Better" in row)
    with pytest.raises(TopicDefinitionError) as raised:
        read_definition(text, source="mine.json")
    assert f"mine.json:{line}: vocabulary.outcomes[1].value:" in str(raised.value)


def test_cross_references_are_checked():
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["vocabulary"]["improved"] = ["complete", "cured"]
    data["vocabulary"]["beyond_reach"] = ["bottomless"]
    with pytest.raises(TopicDefinitionError) as raised:
        read_definition(json.dumps(data, indent=2), source="mine.json")
    message = str(raised.value)
    assert "vocabulary.improved[1]: 'cured' is not an outcome" in message
    assert "vocabulary.beyond_reach[0]: 'bottomless' is not an extent" in message


def test_yaml_is_read_too():
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    import yaml

    assert read_definition(yaml.safe_dump(data, allow_unicode=True)).slug == data["slug"]


def test_not_json_or_yaml_names_the_line():
    with pytest.raises(TopicDefinitionError, match=r"x.json:2: not valid JSON or YAML"):
        read_definition('{"a": 1,\n  "b": [}', source="x.json")


def test_a_topic_without_a_definition_gets_the_neutral_default():
    class Bare:
        definition: dict[str, object] = {}

    assert definition_for(Bare()) is default_definition()
    assert "angiosarcoma" not in json.dumps(dict(default_definition().data)).lower()


def test_deaths_and_biopsy_confirmation_are_the_topics_own_values():
    from evidencepress.evidence.certainty import research_gaps
    from evidencepress.evidence.plots import swimmer_rows
    from evidencepress.evidence.synthesis import CaseData

    data = json.loads(DEMO.read_text(encoding="utf-8"))
    vocab = data["vocabulary"]
    vocab["statuses"].insert(0, {"value": "deceased", "label": "Died"})
    vocab["died"] = ["deceased"]
    vocab["assessments"].insert(0, {"value": "pathology", "label": "Pathology report"})
    vocab["biopsy_confirmed"] = ["pathology"]
    own = read_definition(json.dumps(data)).vocabulary
    died = CaseData(1, "A", status_at_last_follow_up="deceased", response_assessment="pathology")
    other = CaseData(1, "B", status_at_last_follow_up="dod", response_assessment="histological")
    rows = {row["Case"]: row["Died"] for row in swimmer_rows([died, other], vocabulary=own)}
    assert rows == {"A": "yes", "B": "no"}  # "dod" means nothing to this topic
    gaps = {gap.key: gap for gap in research_gaps([died, other], vocabulary=own)}
    assert gaps["biopsy"].informed == 1

    vocab["died"] = ["vanished"]
    with pytest.raises(
        TopicDefinitionError, match=r"vocabulary.died\[0\]: 'vanished' is not one of statuses"
    ):
        read_definition(json.dumps(data, indent=2))


def test_the_certainty_wording_is_the_topics_own():
    from evidencepress.evidence.certainty import plain_wording
    from evidencepress.evidence.synthesis import CaseData, synthesise

    cases = [CaseData(1, "A", response="complete"), CaseData(1, "B", response="progression")]
    synthesis = synthesise(cases)
    assert "the condition improved in 1 of 2" in plain_wording(synthesis)
    safety = read_definition(
        Path("evidencepress/demo/data/topics/imiquimod-safety.json").read_text(encoding="utf-8")
    )
    worded = plain_wording(synthesis, safety.wording)
    assert "the condition" not in worded and "help others" not in worded
    assert "the reaction settled, or was settling, in 1 of 2 people" in worded
