"""Select the cases of a topic from the database and hand them to the synthesis as plain data.

A fixed number of queries whatever the number of cases: one for the cases with their
publication, and one prefetch each for treatments and adverse events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .certainty import (
    AppraisalData,
    AppraisalSummary,
    Certainty,
    Gap,
    assess_certainty,
    research_gaps,
    summarise_appraisals,
)
from .models import Appraisal, ReportedPatient, ResearchQuestion, Topic
from .synthesis import AdverseEventData, CaseData, Synthesis, synthesise


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """Optional filters on the cases of a topic (None: do not filter on this)."""

    setting: str | None = None
    site: str | None = None
    lesion_depth: str | None = None
    surgery_candidate: bool | None = None
    concurrent_treatment: str | None = None  # a Treatment slug
    include_demo: bool = True

    def as_dict(self) -> dict[str, Any]:
        values = {key: getattr(self, key) for key in self.__slots__}
        return {key: value for key, value in values.items() if value is not None}


def select_cases(topic: Topic, filters: CaseFilters | None = None) -> list[CaseData]:
    filters = filters or CaseFilters()
    patients = (
        ReportedPatient.objects.for_topic(topic)
        .matching(
            setting=filters.setting,
            site__iexact=filters.site,
            lesion_depth=filters.lesion_depth,
            surgery_candidate=filters.surgery_candidate,
            concurrent_treatment=filters.concurrent_treatment,
        )
        .select_related("publication")
        .prefetch_related("prior_treatments", "concurrent_treatments", "adverse_events")
        .order_by("publication_id", "label", "pk")
    )
    if not filters.include_demo:
        patients = patients.real()
    return [to_case_data(patient) for patient in patients]


def to_case_data(patient: ReportedPatient) -> CaseData:
    return CaseData(
        publication_id=patient.publication_id,
        label=patient.label,
        is_demo=patient.is_demo,
        age=patient.age,
        sex=patient.sex,
        setting=patient.setting,
        site=patient.site,
        lesion_size_mm=patient.lesion_size_mm,
        lesion_count=patient.lesion_count,
        lesion_depth=patient.lesion_depth,
        surgery_candidate=patient.surgery_candidate,
        prior_treatments=tuple(t.slug for t in patient.prior_treatments.all()),
        concurrent_treatments=tuple(t.slug for t in patient.concurrent_treatments.all()),
        regimen_strength=patient.regimen_strength,
        regimen_frequency_per_week=patient.regimen_frequency_per_week,
        regimen_duration_weeks=patient.regimen_duration_weeks,
        occlusion=patient.occlusion,
        response=patient.response,
        response_assessment=patient.response_assessment,
        time_to_response_weeks=patient.time_to_response_weeks,
        follow_up_months=patient.follow_up_months,
        recurrence=patient.recurrence,
        recurrence_months=patient.recurrence_months,
        treatment_stopped_early=patient.treatment_stopped_early,
        status_at_last_follow_up=patient.status_at_last_follow_up,
        adverse_events=tuple(
            AdverseEventData(e.kind, e.severity, e.led_to_stop)
            for e in patient.adverse_events.all()
        ),
        updated_at=patient.updated_at,
        concurrent_categories=tuple(t.category for t in patient.concurrent_treatments.all()),
        biomarkers=patient.biomarkers,
    )


def summarise_topic(topic: Topic, filters: CaseFilters | None = None) -> Synthesis:
    filters = filters or CaseFilters()
    return synthesise(select_cases(topic, filters), filters=filters.as_dict())


@dataclass(frozen=True, slots=True)
class TopicReport:
    """Everything computed about a topic's cases: numbers, appraisal, certainty, gaps."""

    topic: Topic
    cases: tuple[CaseData, ...]
    synthesis: Synthesis
    appraisal: AppraisalSummary
    certainty: Certainty
    gaps: tuple[Gap, ...]


def topic_report(topic: Topic, filters: CaseFilters | None = None) -> TopicReport:
    filters = filters or CaseFilters()
    cases = select_cases(topic, filters)
    synthesis = synthesise(cases, filters=filters.as_dict())
    publication_ids = {case.publication_id for case in cases}
    appraisals = [
        AppraisalData(a.publication_id, a.answers())
        for a in Appraisal.objects.filter(publication_id__in=publication_ids)
    ]
    appraisal = summarise_appraisals(appraisals, publication_ids)
    extra = [(q.question, q.measure) for q in ResearchQuestion.objects.filter(topic=topic)]
    return TopicReport(
        topic=topic,
        cases=tuple(cases),
        synthesis=synthesis,
        appraisal=appraisal,
        certainty=assess_certainty(synthesis, appraisal, cases),
        gaps=research_gaps(cases, extra),
    )
