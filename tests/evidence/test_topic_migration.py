"""The migration that stores a definition for every existing topic loses and changes nothing.

Migrates the evidence app back to before topic definitions, fills it through the historical
models with cases that use every value of the old built-in vocabulary, migrates forward to the
latest state and compares every case and adverse event, column by column.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from evidencepress.evidence.models import AdverseEvent, ReportedPatient, Topic
from evidencepress.evidence.topic_definition import definition_for, parse_definition
from evidencepress.evidence.topics import LEGACY_NOTE

BEFORE = [("evidence", "0008_publication_passages")]
legacy_migration = importlib.import_module(
    "evidencepress.evidence.migrations.0010_store_legacy_definitions"
)
DEMO = Path("evidencepress/demo/data/topics/imiquimod-angiosarcoma.json")
VOCABULARY = legacy_migration.LEGACY["vocabulary"]


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def leaves() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def values(name: str) -> list[str]:
    return [term["value"] for term in VOCABULARY[name]]


def rows(model: Any) -> list[dict[str, Any]]:
    fields = [f.attname for f in model._meta.concrete_fields]
    return list(model.objects.order_by("pk").values(*fields))


def test_legacy_definition_is_todays_vocabulary():
    legacy = parse_definition(
        {**legacy_migration.LEGACY, "slug": "x", "name": "x", "treatment": "t", "condition": "c"}
    ).vocabulary
    demo = json.loads(DEMO.read_text(encoding="utf-8"))
    # The demo file has since named its own labels and the statuses and assessments that mean
    # death and biopsy; the legacy definition means the same through their legacy defaults.
    added = {"field_labels", "died", "biopsy_confirmed"}
    assert legacy_migration.LEGACY["vocabulary"] == {
        k: v for k, v in demo["vocabulary"].items() if k not in added
    }
    assert legacy.died_statuses == tuple(demo["vocabulary"]["died"])
    assert legacy.biopsy_assessments == tuple(demo["vocabulary"]["biopsy_confirmed"])
    # The built-in vocabulary every topic used until now is the demo file's (BUILTIN is gone).
    assert legacy.setting_values == tuple(t["value"] for t in demo["vocabulary"]["settings"])
    assert legacy.depth_values == tuple(t["value"] for t in demo["vocabulary"]["extents"])
    assert legacy_migration.LEGACY_NOTE == LEGACY_NOTE


@pytest.mark.django_db(transaction=True)
def test_every_case_is_the_same_before_and_after_migrating():
    old = migrate(BEFORE)
    OldTopic = old.get_model("evidence", "Topic")
    Publication = old.get_model("evidence", "Publication")
    Patient = old.get_model("evidence", "ReportedPatient")
    Event = old.get_model("evidence", "AdverseEvent")
    topics = [
        OldTopic.objects.create(
            name="Imiquimod for cutaneous angiosarcoma",
            slug="imiquimod-angiosarcoma",
            treatment="Imiquimod",
            condition="Cutaneous angiosarcoma",
            description="Described.",
        ),
        OldTopic.objects.create(
            name="Odd_Slug topic", slug="Odd_Slug", treatment="", condition="C"
        ),
    ]
    publication = Publication.objects.create(title="Test series", title_normalized="test series")
    columns = {
        "setting": values("settings"),
        "lesion_depth": values("extents"),
        "response": values("outcomes"),
        "response_assessment": values("assessments"),
        "status_at_last_follow_up": values("statuses"),
    }
    widest = max(len(v) for v in columns.values())
    for topic in topics:
        for index in range(widest):
            patient = Patient.objects.create(
                topic=topic,
                publication=publication,
                label=f"Case {index}",
                age=40 + index,
                site="scalp",
                **{name: vals[index % len(vals)] for name, vals in columns.items()},
            )
            severities = values("severities")
            Event.objects.create(
                patient=patient, kind="Redness", severity=severities[index % len(severities)]
            )
    before_cases, before_events = rows(Patient), rows(Event)
    assert len(before_cases) == 2 * widest

    migrate(leaves())
    assert rows(ReportedPatient) == before_cases
    assert rows(AdverseEvent) == before_events
    for topic in Topic.objects.order_by("pk"):
        version = topic.versions.get()
        assert (version.number, version.note, version.data) == (1, LEGACY_NOTE, topic.definition)
        definition = definition_for(topic)  # parses and checks against the schema
        assert definition.vocabulary == parse_definition(topic.definition).vocabulary
        assert definition.name == topic.name
        assert definition.data["vocabulary"] == VOCABULARY
        defined = {
            "setting": definition.vocabulary.setting_values,
            "lesion_depth": definition.vocabulary.depth_values,
            "response": definition.vocabulary.response_values,
            "response_assessment": tuple(t.value for t in definition.vocabulary.assessments),
            "status_at_last_follow_up": tuple(t.value for t in definition.vocabulary.statuses),
        }
        for patient in topic.patients.all():
            for name, allowed in defined.items():
                assert getattr(patient, name) in allowed
    odd = Topic.objects.get(slug="Odd_Slug")
    assert definition_for(odd).slug == "odd-slug"
    assert definition_for(odd).treatment == "not given"
