"""Editors manage the evidence base in the Wagtail admin, and read each topic's summary there."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data, querydict_from_html

from evidencepress.evidence.models import (
    AdverseEvent,
    Appraisal,
    Publication,
    ReportedPatient,
    ResearchQuestion,
    SourceSpan,
    Topic,
    Treatment,
)
from evidencepress.evidence.topic_reports import CaseFilters, topic_report

pytestmark = pytest.mark.django_db

DEMO_LABEL = "Demonstration data — not medical evidence"


def pct(value: float | None) -> str:
    """How the summary prints a proportion: a percentage with one decimal."""
    assert value is not None
    return f"{value * 100:.1f}%"


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
    )


@pytest.fixture
def evidence(topic: Topic) -> dict[str, Any]:
    """A real report with three cases and a demonstration series with two invented ones."""
    real = Publication.objects.create(
        title="Topical imiquimod for scalp angiosarcoma: three cases",
        title_normalized="topical imiquimod for scalp angiosarcoma three cases",
        pmid="31415926",
        doi="10.1000/example.2019.1",
        journal="Example Journal of Dermatology",
        year=2019,
    )
    real.topics.add(topic)
    demo = Publication.objects.create(
        title="Demonstration series (not real patients)",
        title_normalized="demonstration series not real patients",
        year=2024,
        is_demo=True,
    )
    demo.topics.add(topic)
    radiotherapy = Treatment.objects.create(
        name="Radiotherapy", slug="radiotherapy", category="radiotherapy"
    )
    cases = [
        ReportedPatient.objects.create(
            publication=real,
            topic=topic,
            label="Case 1",
            site="scalp",
            setting="scalp_face",
            response="complete",
            time_to_response_weeks=Decimal("8"),
            follow_up_months=Decimal("14"),
            recurrence=False,
            verified=True,
        ),
        ReportedPatient.objects.create(
            publication=real,
            topic=topic,
            label="Case 2",
            site="nose",
            setting="scalp_face",
            response="partial",
            time_to_response_weeks=Decimal("12"),
            follow_up_months=Decimal("6"),
        ),
        ReportedPatient.objects.create(
            publication=real,
            topic=topic,
            label="Case 3",
            site="scalp",
            response="progression",
        ),
        ReportedPatient.objects.create(
            publication=demo,
            topic=topic,
            label="Illustrative case A",
            site="breast",
            setting="radiation",
            response="stable",
            follow_up_months=Decimal("9"),
            is_demo=True,
        ),
        ReportedPatient.objects.create(
            publication=demo,
            topic=topic,
            label="Illustrative case B",
            site="forehead",
            response="complete",
            time_to_response_weeks=Decimal("10"),
            is_demo=True,
        ),
    ]
    cases[3].concurrent_treatments.add(radiotherapy)
    AdverseEvent.objects.create(patient=cases[0], kind="local skin reaction", severity="moderate")
    AdverseEvent.objects.create(
        patient=cases[1], kind="local skin reaction", severity="severe", led_to_stop=True
    )
    Appraisal.objects.create(
        publication=real,
        demographics="yes",
        history="yes",
        presentation="yes",
        diagnosis="yes",
        intervention="no",
        post_intervention="yes",
        adverse_events="unclear",
        takeaway="yes",
    )
    ResearchQuestion.objects.create(
        topic=topic, question="Does the cream work under a dressing?", measure="occlusion"
    )
    return {"real": real, "demo": demo, "cases": cases, "radiotherapy": radiotherapy}


@pytest.fixture
def editor(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser(
        "editor", "editor@example.org", "a-long-passphrase-1"
    )


@pytest.fixture
def curator(django_user_model: Any) -> Any:
    """A non-superuser in an "Evidence curators" group with the evidence permissions only."""
    group = Group.objects.create(name="Evidence curators")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(content_type__app_label="evidence"),
    )
    user = django_user_model.objects.create_user(
        "curator", "curator@example.org", "a-long-passphrase-2"
    )
    user.groups.add(group)
    return user


def admin_urls(topic: Topic, evidence: dict[str, Any]) -> list[str]:
    real, patient = evidence["real"], evidence["cases"][0]
    return [
        reverse("topic:index"),
        reverse("topic:add"),
        reverse("topic:edit", args=[topic.pk]),
        reverse("topic:summary", args=[topic.pk]),
        reverse("publication:index"),
        reverse("publication:add"),
        reverse("publication:edit", args=[real.pk]),
        reverse("reportedpatient:index"),
        reverse("reportedpatient:add"),
        patient.get_absolute_url(),
        reverse("appraisal:index"),
        reverse("researchquestion:index"),
        reverse("evidencefact:index"),
        reverse("treatment:index"),
        reverse("publication_chooser:choose"),
    ]


def test_anonymous_visitors_are_sent_to_the_login_page_from_every_evidence_screen(
    client: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    login = reverse("wagtailadmin_login")
    for url in admin_urls(topic, evidence):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), url
    assert not Publication.objects.filter(title__icontains="sneaky").exists()
    response = client.post(reverse("publication:add"), {"title": "A sneaky publication"})
    assert response.status_code == 302
    assert not Publication.objects.filter(title__icontains="sneaky").exists()


def test_the_admin_has_an_evidence_menu_with_every_part_of_the_evidence_base(
    client: Any, editor: Any, wagtail_tree: object
) -> None:
    client.force_login(editor)
    page = client.get(reverse("wagtailadmin_home")).content.decode()
    for label in ("Evidence", "Topics", "Publications", "Reported patients", "JBI appraisals"):
        assert f'"{label}"' in page, label
    assert reverse("reportedpatient:index") in page


def test_a_curator_with_evidence_permissions_can_use_every_screen_but_others_cannot(
    client: Any, django_user_model: Any, curator: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    client.force_login(curator)
    for url in admin_urls(topic, evidence):
        assert client.get(url).status_code == 200, url

    outsider = django_user_model.objects.create_user("outsider", "o@example.org", "pass-phrase-3x")
    outsider.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    client.force_login(outsider)
    for url in (reverse("publication:index"), reverse("topic:summary", args=[topic.pk])):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert "Case 1" not in response.content.decode()


def test_listings_filter_search_and_label_demonstration_rows(
    client: Any, editor: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    client.force_login(editor)
    publications = reverse("publication:index")

    page = client.get(publications).content.decode()
    assert evidence["real"].title in page and evidence["demo"].title in page
    assert page.count(DEMO_LABEL) == 1  # only the demonstration series carries the label

    page = client.get(publications, {"is_demo": "true"}).content.decode()
    assert evidence["demo"].title in page and evidence["real"].title not in page

    for query in ("31415926", "10.1000/EXAMPLE", "scalp angiosarcoma"):
        page = client.get(publications, {"q": query}).content.decode()
        assert evidence["real"].title in page, query
        assert evidence["demo"].title not in page, query

    page = client.get(publications, {"year__gte": "2020"}).content.decode()
    assert evidence["demo"].title in page and evidence["real"].title not in page

    patients = reverse("reportedpatient:index")
    page = client.get(patients, {"response": "complete"}).content.decode()
    assert "Case 1" in page and "Illustrative case B" in page
    assert "Case 2" not in page and "Illustrative case A" not in page
    assert page.count(DEMO_LABEL) == 1

    page = client.get(patients, {"verified": "true"}).content.decode()
    assert "Case 1" in page and "Case 2" not in page

    page = client.get(patients, {"setting": "radiation"}).content.decode()
    assert "Illustrative case A" in page and "Case 1" not in page

    page = client.get(patients, {"q": "forehead"}).content.decode()  # a site
    assert "Illustrative case B" in page and "Illustrative case A" not in page
    assert "Case 1" not in page

    page = client.get(patients, {"q": "31415926"}).content.decode()
    assert "Case 2" in page and "Illustrative case A" not in page


def form_errors(response: Any) -> Any:
    """The errors of a re-displayed admin form and its inline formsets, for assertion messages."""
    form = response.context and response.context.get("form")
    if form is None:
        return response.status_code

    def collect(form: Any) -> Any:
        found: dict[str, Any] = dict(form.errors)
        for name, formset in getattr(form, "formsets", {}).items():
            found[name] = [collect(child) for child in formset.forms] + list(
                formset.non_form_errors()
            )
        return {key: value for key, value in found.items() if value}

    return collect(form)


def publication_post(
    topic: Topic,
    *,
    patients: list[dict[str, Any]],
    multiple: dict[str, list[str]] | None = None,
    **fields: Any,
) -> Any:
    """POST data for the publication screen; `multiple` holds flat names of multi-value fields."""
    data = {
        "pmid": "",
        "doi": "",
        "pmcid": "",
        "title": "Imiquimod for two patients with angiosarcoma of the scalp",
        "authors": "Smith, Jane A\nNguyen TT\nAngiosarcoma Study Group",
        "journal": "Case Reports in Oncology",
        "year": "2021",
        "volume": "",
        "issue": "",
        "pages": "",
        "abstract": "",
        "language": "eng",
        "date_revised": "",
        "publication_types": "Case Reports",
        "mesh_terms": "",
        "keywords": "",
        "notes": "",
        "source_urls": "",
        "patients": inline_formset(patients),
    }
    data.update(fields)
    flat = nested_form_data(data)  # (it would spread a list over numbered keys)
    flat.update({"topics": [str(topic.pk)], **(multiple or {})})
    return flat


def patient_data(topic: Topic, label: str, **fields: Any) -> dict[str, Any]:
    data = {
        "label": label,
        "topic": str(topic.pk),
        "age": "",
        "sex": "unknown",
        "setting": "unknown",
        "site": "",
        "lesion_size_mm": "",
        "lesion_count": "",
        "lesion_depth": "unknown",
        "surgery_candidate": "",
        "treatment_details": "",
        "regimen_strength": "",
        "regimen_frequency_per_week": "",
        "regimen_duration_weeks": "",
        "occlusion": "",
        "response": "unknown",
        "response_assessment": "unknown",
        "time_to_response_weeks": "",
        "follow_up_months": "",
        "recurrence": "",
        "recurrence_months": "",
        "treatment_stopped_early": "",
        "status_at_last_follow_up": "unknown",
        "biomarkers": "",
        "curator_notes": "",
        "adverse_events": inline_formset([]),
        "source_spans": inline_formset([]),
    }
    data.update(fields)
    return data


def test_an_editor_adds_a_publication_with_two_patients_in_one_screen(
    client: Any, editor: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    client.force_login(editor)
    radiotherapy = evidence["radiotherapy"]
    data = publication_post(
        topic,
        patients=[
            patient_data(
                topic,
                "Patient 1",
                age="78",
                sex="male",
                site="scalp",
                response="complete",
                regimen_strength="5% cream",
                regimen_frequency_per_week="5",
                time_to_response_weeks="10",
                adverse_events=inline_formset(
                    [{"kind": "local skin reaction", "severity": "moderate", "led_to_stop": ""}]
                ),
                source_spans=inline_formset(
                    [
                        {
                            "field": "response",
                            "section": "Case report",
                            "page": "2",
                            "quote": "The lesion cleared completely.",
                        }
                    ]
                ),
            ),
            patient_data(topic, "Patient 2", age="81", sex="female", response="partial"),
        ],
        multiple={"patients-0-concurrent_treatments": [str(radiotherapy.pk)]},
        pmid="PMID: 27182818",
        doi="https://doi.org/10.5555/CRO.2021.7",
    )
    response = client.post(reverse("publication:add"), data)
    assert response.status_code == 302, form_errors(response)

    publication = Publication.objects.get(pmid="27182818")
    assert publication.doi == "10.5555/cro.2021.7"
    assert publication.title_normalized  # kept in step for the importer's dedupe
    assert [a.get("last_name") or a.get("collective_name") for a in publication.authors] == [
        "Smith",
        "Nguyen",
        "Angiosarcoma Study Group",
    ]
    assert list(publication.topics.all()) == [topic]
    first, second = publication.patients.order_by("label")
    assert (first.label, first.age, first.response) == ("Patient 1", 78, "complete")
    assert (second.label, second.age, second.response) == ("Patient 2", 81, "partial")
    assert list(first.concurrent_treatments.all()) == [radiotherapy]
    assert [(e.kind, e.severity) for e in first.adverse_events.all()] == [
        ("local skin reaction", "moderate")
    ]
    assert [(s.field, s.quote) for s in first.source_spans.all()] == [
        ("response", "The lesion cleared completely.")
    ]
    assert not second.adverse_events.exists()


def test_a_demonstration_case_cannot_be_added_to_a_real_publication(
    client: Any, editor: Any, topic: Topic
) -> None:
    client.force_login(editor)
    data = publication_post(
        topic, patients=[patient_data(topic, "Invented case", is_demo="on", response="complete")]
    )
    response = client.post(reverse("publication:add"), data)
    assert response.status_code == 200
    assert "A case is demonstration data exactly when its publication is." in (
        response.content.decode()
    )
    assert not Publication.objects.exists()
    assert not ReportedPatient.objects.exists()


def test_two_cases_with_one_label_are_refused_before_saving(
    client: Any, editor: Any, topic: Topic
) -> None:
    client.force_login(editor)
    data = publication_post(
        topic, patients=[patient_data(topic, "Case 1"), patient_data(topic, "Case 1")]
    )
    response = client.post(reverse("publication:add"), data)
    assert response.status_code == 200
    assert "Another case of this topic here has this label." in response.content.decode()
    assert not Publication.objects.exists()


def test_a_bad_source_span_is_reported_and_nothing_is_saved(
    client: Any, editor: Any, topic: Topic
) -> None:
    client.force_login(editor)
    data = publication_post(
        topic,
        patients=[
            patient_data(
                topic,
                "Patient 1",
                source_spans=inline_formset(
                    [{"field": "response", "section": "", "page": "", "quote": ""}]
                ),
            )
        ],
    )
    response = client.post(reverse("publication:add"), data)
    assert response.status_code == 200
    assert "Give a quote, a section or a page for the source." in response.content.decode()
    assert not Publication.objects.exists()
    assert not SourceSpan.objects.exists()


def test_an_editor_edits_a_patient_on_its_own_screen(
    client: Any, editor: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    client.force_login(editor)
    patient = evidence["cases"][2]
    url = patient.get_absolute_url()
    page = client.get(url)
    assert page.status_code == 200
    assert evidence["real"].title in page.content.decode()  # the publication it belongs to

    data = querydict_from_html(page.content.decode(), form_id="w-editor-form")
    data["response"] = "stable"
    data["follow_up_months"] = "18"
    data["adverse_events-TOTAL_FORMS"] = "1"
    data["adverse_events-0-kind"] = "flu-like symptoms"
    data["adverse_events-0-severity"] = "mild"
    data["adverse_events-0-led_to_stop"] = ""
    data["adverse_events-0-description"] = ""
    data["adverse_events-0-id"] = ""
    data["adverse_events-0-DELETE"] = ""
    response = client.post(url, data)
    assert response.status_code == 302, form_errors(response)

    patient.refresh_from_db()
    assert patient.response == "stable"
    assert patient.follow_up_months == Decimal("18")
    assert patient.publication == evidence["real"]
    assert [e.kind for e in patient.adverse_events.all()] == ["flu-like symptoms"]


def test_a_curator_adds_a_patient_to_an_existing_publication_on_the_patient_screen(
    client: Any, curator: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    client.force_login(curator)
    real = evidence["real"]
    data = nested_form_data(patient_data(topic, "Case 4", response="partial", site="ear"))
    data["publication"] = str(real.pk)
    response = client.post(reverse("reportedpatient:add"), data)
    assert response.status_code == 302, form_errors(response)
    added = real.patients.get(label="Case 4")
    assert (added.response, added.site, added.topic) == ("partial", "ear", topic)

    # The same screen refuses to put a demonstration case into a real publication.
    data = nested_form_data(patient_data(topic, "Case 5", is_demo="on"))
    data["publication"] = str(real.pk)
    response = client.post(reverse("reportedpatient:add"), data)
    assert response.status_code == 200
    assert "A demonstration case belongs in a demonstration publication only." in (
        response.content.decode()
    )
    assert not real.patients.filter(label="Case 5").exists()


def test_the_publication_chooser_finds_a_publication_by_pmid_or_title(
    client: Any, curator: Any, evidence: dict[str, Any]
) -> None:
    client.force_login(curator)
    results = reverse("publication_chooser:choose_results")
    page = client.get(results, {"q": "31415926"}).content.decode()
    assert evidence["real"].title in page and evidence["demo"].title not in page
    page = client.get(results, {"q": "demonstration series"}).content.decode()
    assert evidence["demo"].title in page and evidence["real"].title not in page


def test_an_appraisal_added_in_the_admin_counts_in_the_topic_summary(
    client: Any, editor: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    client.force_login(editor)
    summary = reverse("topic:summary", args=[topic.pk])
    before = topic_report(topic).appraisal
    assert (before.appraised, before.publications) == (1, 2)

    answers = {name: "yes" for name, _ in Appraisal.ITEMS} | {"takeaway": "no"}
    data = {"publication": str(evidence["demo"].pk), "appraiser": "A. Curator", "notes": ""}
    response = client.post(reverse("appraisal:add"), data | answers)
    assert response.status_code == 302, form_errors(response)

    after = topic_report(topic).appraisal
    assert after.appraised == 2
    page = client.get(summary).content.decode()
    assert (
        f"{after.appraised} of {after.publications} publications appraised; "
        f"{after.meeting_checklist} meet at least 6 of the 8 items."
    ) in page
    listing = client.get(reverse("appraisal:index")).content.decode()
    assert "<td>7</td>" in listing.replace(" ", "").replace("\n", "")  # 7 of 8 items met
    assert listing.count(DEMO_LABEL) == 1


def test_a_demonstration_patient_edit_screen_is_labelled(
    client: Any, editor: Any, evidence: dict[str, Any]
) -> None:
    client.force_login(editor)
    demo_case = evidence["cases"][3]
    assert DEMO_LABEL in client.get(demo_case.get_absolute_url()).content.decode()
    assert DEMO_LABEL not in client.get(evidence["cases"][0].get_absolute_url()).content.decode()


def test_the_topic_summary_shows_what_the_synthesis_computed_from_the_cases(
    client: Any, curator: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    client.force_login(curator)
    url = reverse("topic:summary", args=[topic.pk])
    assert url in client.get(reverse("topic:index")).content.decode()  # linked from the listing

    page = client.get(url).content.decode()
    report = topic_report(topic)
    synthesis = report.synthesis
    assert synthesis.patients == 5  # the fixture, so the checks below are not vacuous

    assert f'data-summary="patients">{synthesis.patients}<' in page
    assert f'data-summary="publications">{synthesis.publications}<' in page
    for share in (*synthesis.responses.values(), synthesis.any_response):
        assert f"{share.count} of {share.total}" in page
        assert f"{pct(share.ci_low)} to {pct(share.ci_high)}" in page
    any_response = synthesis.any_response
    assert f"<td>{pct(any_response.proportion)}</td>" in page

    ttr = synthesis.time_to_response_weeks
    assert f"<td>{ttr.reported} of {any_response.count}</td><td>{ttr.median:g}</td>" in page
    follow_up = synthesis.follow_up_months
    assert f"<td>{follow_up.reported} of {synthesis.patients}</td>" in page
    assert f"{follow_up.minimum:g} to {follow_up.maximum:g}" in page

    assert f"{synthesis.missing['age']} of {synthesis.patients}" in page
    skin = next(e for e in synthesis.adverse_events if e.kind == "local skin reaction")
    assert (
        f'<th scope="row">Local skin reaction</th><td>{skin.patients}</td><td>{skin.events}</td>'
        in page
    )
    severe = skin.by_severity["severe"]
    assert f"Moderate: {skin.by_severity['moderate']}; Severe: {severe}</td>" in page
    assert report.certainty.wording in page
    for domain in report.certainty.lowering:
        assert domain.reason.replace("'", "&#x27;") in page
    item = next(i for i in report.appraisal.items if i.item == "intervention")
    assert f'<th scope="row">{item.label.replace(chr(39), "&#x27;")}</th><td>{item.yes}</td>' in (
        page
    )
    for gap in report.gaps:
        assert gap.statement in page
    assert "Does the cream work under a dressing?" in page
    assert synthesis.evidence_date is not None
    assert synthesis.evidence_date.strftime("%Y-%m-%d") in page
    assert "Demonstration data — not medical evidence." in page
    assert f"{synthesis.demo_patients} of {synthesis.patients} cases" in page


def test_the_topic_summary_shows_the_swimmer_plot_and_response_chart(
    client: Any,
    editor: Any,
    topic: Topic,
    evidence: dict[str, Any],
    monkeypatch: Any,
    caplog: Any,
) -> None:
    client.force_login(editor)
    url = reverse("topic:summary", args=[topic.pk])
    page = client.get(url).content.decode()
    assert page.count('<svg role="img"') == 2
    assert f"Responses with 95% intervals: {topic.name}</title>" in page
    assert "The swimmer plot is not available" not in page

    # A chart that fails to draw is logged, and the numbers stay on the page.
    from evidencepress.evidence import plots

    def broken(*args: Any, **kwargs: Any) -> str:
        raise ValueError("no ink")

    with (
        monkeypatch.context() as patch,
        caplog.at_level("ERROR", logger="evidencepress.evidence.views"),
    ):
        patch.setattr(plots, "swimmer_plot_svg", broken)
        page = client.get(url).content.decode()
    assert "The charts could not be drawn" in page
    assert '<svg role="img"' not in page and "Illustrative case A" in page
    assert "no ink" in caplog.text

    # Without the plots module the same data is still there, as tables, with a note.
    monkeypatch.setitem(sys.modules, "evidencepress.evidence.plots", None)
    page = client.get(url).content.decode()
    assert '<svg role="img"' not in page
    assert "The swimmer plot is not available" in page
    assert 'data-summary="cases"' in page and "Illustrative case A" in page


def test_the_topic_summary_can_leave_out_demonstration_cases(
    client: Any, editor: Any, topic: Topic, evidence: dict[str, Any]
) -> None:
    client.force_login(editor)
    page = client.get(reverse("topic:summary", args=[topic.pk]), {"cases": "real"})
    content = page.content.decode()
    real_only = topic_report(topic, CaseFilters(include_demo=False)).synthesis
    assert real_only.patients == 3
    assert f'data-summary="patients">{real_only.patients}<' in content
    assert f"{real_only.any_response.count} of {real_only.any_response.total}" in content
    assert "Illustrative case" not in content
    assert "Demonstration data — not medical evidence." not in content


def test_the_topic_summary_of_a_topic_without_cases_says_so(
    client: Any, editor: Any, topic: Topic
) -> None:
    client.force_login(editor)
    page = client.get(reverse("topic:summary", args=[topic.pk])).content.decode()
    assert 'data-summary="patients">0<' in page
    assert "no cases yet" in page
    assert "No reports of this treatment have been collected yet" in page


def test_the_topic_summary_of_a_missing_topic_is_not_found(client: Any, editor: Any) -> None:
    client.force_login(editor)
    assert client.get(reverse("topic:summary", args=[987654])).status_code == 404
