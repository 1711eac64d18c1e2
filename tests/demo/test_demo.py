"""The demo content: real references, illustrative cases, idempotent loading and removal."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from wagtail.models import Page, Site

from evidencepress.articles.models import HomePage
from evidencepress.demo.loader import (
    CASE_CHILD_KEYS,
    DATA_DIR,
    DEMO_TOPIC_SLUG,
    PUBLICATION_META_KEYS,
    load_demo,
    publication_values,
    remove_demo,
)
from evidencepress.evidence.models import (
    AdverseEvent,
    Appraisal,
    Publication,
    ReportedPatient,
    SourceSpan,
    Topic,
    Treatment,
)
from evidencepress.literature.records import normalise_doi

DEMO_TITLE = "Demonstration series (not real patients)"
SAFETY_SLUG = "imiquimod-safety"


def _data(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _field_names(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.get_fields() if not f.auto_created or f.concrete}


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _demo_publication() -> Publication:
    return Publication.objects.get(title=DEMO_TITLE, is_demo=True)


def _stored(record: dict[str, Any]) -> Publication:
    values = publication_values(record)
    if values["pmid"]:
        return Publication.objects.get(pmid=values["pmid"])
    if values["doi"]:
        return Publication.objects.get(doi=values["doi"])
    return Publication.objects.get(title=values["title"], is_demo=False)


@pytest.fixture
def loaded(db: None) -> dict[str, int]:
    return load_demo()


# --- the data files --------------------------------------------------------------------------


def test_publication_file_uses_only_publication_fields() -> None:
    allowed = _field_names(Publication) | PUBLICATION_META_KEYS
    records = _data("publications.json")
    assert len(records) == 17
    for record in records:
        assert set(record) <= allowed, (record["key"], set(record) - allowed)
        assert record["is_demo"] is False
        assert record["roles"], record["key"]
        for author in record["authors"]:
            assert set(author) == {"last_name", "fore_name", "initials", "collective_name"}


def test_topic_and_treatment_files_use_only_model_fields() -> None:
    for name, model in (("topics.json", Topic), ("treatments.json", Treatment)):
        for record in _data(name):
            assert set(record) <= _field_names(model), (name, record)
    categories = {value for value, _ in Treatment.Category.choices}
    assert {t["category"] for t in _data("treatments.json")} <= categories


def test_illustrative_file_uses_only_model_fields() -> None:
    data = _data("illustrative_cases.json")
    assert set(data["publication"]) <= _field_names(Publication)
    assert set(data["appraisal"]) <= _field_names(Appraisal)
    case_fields = _field_names(ReportedPatient) | CASE_CHILD_KEYS
    for case in data["cases"]:
        assert set(case) <= case_fields, (case["label"], set(case) - case_fields)
        for event in case["adverse_events"]:
            assert set(event) <= _field_names(AdverseEvent)
        for span in case["source_spans"]:
            assert set(span) <= _field_names(SourceSpan)
            assert span["field"] in _field_names(ReportedPatient)


# --- loading ---------------------------------------------------------------------------------


def test_load_gives_real_references_and_one_demonstration_series(loaded: dict[str, int]) -> None:
    assert Publication.objects.real().count() == 17
    assert Publication.objects.demo().count() == 1
    demo = _demo_publication()
    assert demo.patients.count() == 15
    assert sorted(
        demo.patients.filter(topic__slug=DEMO_TOPIC_SLUG).values_list("label", flat=True)
    ) == [f"Illustrative case {letter}" for letter in "ABCDEFGHIJ"]
    # The side-effects topic: 5 invented cases in the same series, 4 from real case reports.
    assert sorted(
        demo.patients.filter(topic__slug=SAFETY_SLUG).values_list("label", flat=True)
    ) == [f"Illustrative case {letter}" for letter in "KLMNO"]
    assert loaded["publications_created"] == 18
    assert loaded["cases_created"] == 19


def test_demo_topic(loaded: dict[str, int]) -> None:
    topic = Topic.objects.get(slug=DEMO_TOPIC_SLUG)
    assert topic.name == "Imiquimod for cutaneous angiosarcoma"
    assert topic.treatment == "Imiquimod"
    assert topic.condition == "Cutaneous angiosarcoma"
    assert topic.description
    # The real references are linked to the topic as background and related evidence.
    assert topic.publications.real().count() == 16
    assert topic.patients.count() == topic.patients.demo().count() == 10


def test_loading_twice_creates_and_changes_nothing(loaded: dict[str, int]) -> None:
    counts = _row_counts()
    stamps = sorted(Publication.objects.values_list("pk", "updated_at"))
    case_stamps = sorted(ReportedPatient.objects.values_list("pk", "updated_at"))
    spans = sorted(SourceSpan.objects.values_list("pk", flat=True))

    again = load_demo()

    assert again == {}
    assert _row_counts() == counts
    assert sorted(Publication.objects.values_list("pk", "updated_at")) == stamps
    assert sorted(ReportedPatient.objects.values_list("pk", "updated_at")) == case_stamps
    assert sorted(SourceSpan.objects.values_list("pk", flat=True)) == spans


def test_demonstration_series_is_plainly_marked(loaded: dict[str, int]) -> None:
    demo = _demo_publication()
    assert demo.journal == "EvidencePress demonstration data"
    assert demo.authors[0]["collective_name"] == "EvidencePress demo"
    assert "invented to demonstrate the software" in demo.notes
    assert demo.appraisal.notes.startswith("Demonstration only")
    for publication in Publication.objects.demo():
        assert publication.pmid is None
        assert publication.doi is None
        assert publication.pmcid is None


def test_every_illustrative_case_is_demo_and_in_the_demo_series(loaded: dict[str, int]) -> None:
    demo = _demo_publication()
    # The only cases of real publications are the side-effects topic's, from safety_cases.json.
    real = ReportedPatient.objects.filter(publication__is_demo=False)
    assert set(real.values_list("topic__slug", "is_demo")) == {(SAFETY_SLUG, False)}
    assert real.count() == 4
    for case in ReportedPatient.objects.demo().with_related():
        assert case.publication == demo
        assert case.verified is False
        assert case.regimen_strength == "5% cream"
        assert case.source_spans.all(), case.label
        for span in case.source_spans.all():
            assert span.section == "Illustrative case table"
            assert "invented" in span.quote
    assert set(demo.patients.values_list("is_demo", flat=True)) == {True}


def test_illustrative_cases_are_varied_and_some_facts_missing(loaded: dict[str, int]) -> None:
    cases = ReportedPatient.objects.demo()
    responses = set(cases.values_list("response", flat=True))
    assert {"complete", "partial", "stable", "progression"} <= responses
    settings = set(cases.values_list("setting", flat=True))
    assert {"scalp_face", "radiation"} <= settings
    assert cases.filter(recurrence=True).exists()
    assert cases.filter(age__isnull=True).exists()
    assert cases.filter(regimen_frequency_per_week__isnull=True).exists()
    concurrent = set(cases.values_list("concurrent_treatments__slug", flat=True))
    assert {"paclitaxel", "timolol-topical", "electron-beam-radiotherapy"} <= concurrent
    assert AdverseEvent.objects.filter(patient__in=cases, kind="erosion").exists()


def test_real_publications_hold_only_the_recorded_facts(loaded: dict[str, int]) -> None:
    # Their only cases are the patients with a reaction the side-effects topic lists.
    reported = {g["publication"]: len(g["cases"]) for g in _data("safety_cases.json")["reported"]}
    for record in _data("publications.json"):
        publication = _stored(record)
        assert publication.is_demo is False
        for name, value in record.items():
            if name in PUBLICATION_META_KEYS or name in ("topics", "notes"):
                continue
            stored = getattr(publication, name)
            if name == "title" and value is None:
                assert stored == record["untitled_label"]
                assert stored.startswith("[Title not seen]")
            elif value is None:
                assert stored in (None, "", []), (record["key"], name, stored)
            elif name == "doi":
                assert stored == normalise_doi(value)
            else:
                assert stored == value, (record["key"], name)
        assert publication.notes.startswith(record["notes"])
        # Nothing beyond the file: no abstract, MeSH terms or cases were invented.
        assert publication.abstract == ""
        assert publication.mesh_terms == []
        assert publication.keywords == []
        assert publication.patients.count() == reported.get(record["key"], 0)
        assert sorted(t.slug for t in publication.topics.all()) == sorted(record["topics"])


def test_loading_never_overwrites_an_editors_change(loaded: dict[str, int]) -> None:
    publication = Publication.objects.get(pmid="37528289")
    publication.journal = "Dermatol Ther (Heidelb)"
    publication.abstract = "Pasted by an editor."
    publication.save()

    load_demo()

    publication.refresh_from_db()
    assert publication.journal == "Dermatol Ther (Heidelb)"
    assert publication.abstract == "Pasted by an editor."


def test_home_page_is_the_site_root(loaded: dict[str, int], client: Any) -> None:
    site = Site.objects.get(is_default_site=True)
    home = site.root_page.specific
    assert isinstance(home, HomePage)
    assert (home.title, home.slug, home.depth) == ("EvidencePress", "home", 2)
    assert Page.objects.filter(depth=2).count() == 1  # Wagtail's welcome page is gone

    load_demo()
    assert HomePage.objects.count() == 1
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk

    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Imiquimod for cutaneous angiosarcoma" in page
    assert "Demonstration data — not medical evidence" in page


# --- removing --------------------------------------------------------------------------------


def test_remove_deletes_demo_rows_and_keeps_real_publications(loaded: dict[str, int]) -> None:
    counts = remove_demo()

    assert counts["publications"] == 1
    assert counts["cases"] == 15
    assert not Publication.objects.demo().exists()
    # Cases of real case reports stay, like the real publications they come from.
    kept = ReportedPatient.objects.all()
    assert kept.count() == 4 and not kept.filter(is_demo=True).exists()
    assert not AdverseEvent.objects.exclude(patient__in=kept).exists()
    assert not SourceSpan.objects.exclude(patient__in=kept).exists()
    assert not Appraisal.objects.exists()
    assert Publication.objects.real().count() == 17
    # The topics still hold the real references; the unused vocabulary goes.
    assert Topic.objects.get(slug=DEMO_TOPIC_SLUG).publications.count() == 16
    assert list(Treatment.objects.values_list("slug", flat=True)) == ["laser-therapy"]

    load_demo()
    assert Publication.objects.demo().get().patients.count() == 15


def test_remove_keeps_what_real_cases_use(loaded: dict[str, int]) -> None:
    real = Publication.objects.get(pmid="22826720")
    case = ReportedPatient.objects.create(
        publication=real, topic=Topic.objects.get(slug=DEMO_TOPIC_SLUG), label="Case 1"
    )
    case.prior_treatments.set([Treatment.objects.get(slug="paclitaxel")])
    case.save()

    remove_demo()

    assert Treatment.objects.filter(slug="paclitaxel").exists()
    assert not Treatment.objects.filter(slug="docetaxel").exists()
    assert ReportedPatient.objects.get(topic__slug=DEMO_TOPIC_SLUG) == case


def test_commands_print_a_one_line_summary(db: None) -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert out.getvalue().count("\n") == 1
    assert "created" in out.getvalue()
    assert "18 publications" in out.getvalue()

    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "created nothing; updated nothing" in out.getvalue()

    out = StringIO()
    call_command("remove_demo", stdout=out)
    assert out.getvalue().count("\n") == 1
    assert "1 publications" in out.getvalue()


def test_loading_restores_an_edited_illustrative_case(loaded: dict[str, int]) -> None:
    case = ReportedPatient.objects.get(label="Illustrative case A")
    case.response = "progression"
    case.save()
    AdverseEvent.objects.filter(patient=case).delete()

    counts = load_demo()

    case.refresh_from_db()
    assert case.response == "complete"
    assert sorted(case.adverse_events.values_list("kind", flat=True)) == ["crusting", "itching"]
    assert counts == {"cases_updated": 1}
