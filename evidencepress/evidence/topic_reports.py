"""A topic's report: its cases read from the database as plain data, and what is computed from
them (synthesis, appraisal summary, certainty, research gaps), kept per content version.

(Which topics the public may see is `published.py`.)

A fixed number of queries whatever the number of cases: the case rows (with the row cache: their
versions, then only the rows not cached at that version), prior treatments, concurrent
treatments and adverse events; `topic_report` adds the appraisals and the editors' questions.
Rows are read with values_list, never as model instances: on 10,000 cases that, the row cache
and the column-wise synthesis keep a summary under 100 ms (bench/synthesis.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any

from django.db import connections
from django.db.models import CharField
from django.db.models.functions import Cast

from evidencepress.core.content_version import Version, current_version

from .certainty import (
    AppraisalData,
    AppraisalSummary,
    Certainty,
    Gap,
    assess_certainty,
    research_gaps,
    summarise_appraisals,
)
from .models import AdverseEvent, Appraisal, ReportedPatient, ResearchQuestion, Topic, Treatment
from .synthesis import AdverseEventData, CaseData, Synthesis, columns, synthesise
from .topic_definition import definition_for
from .vocabulary import vocabulary_for


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


# ReportedPatient columns in CaseData's order; the treatment and adverse-event tuples are
# read by their own queries and put in place by `_case`.
_CASE_FIELDS = (
    "publication_id",
    "label",
    "is_demo",
    "age",
    "sex",
    "setting",
    "site",
    "lesion_size_mm",
    "lesion_count",
    "lesion_depth",
    "surgery_candidate",
    "regimen_strength",
    "regimen_frequency_per_week",
    "regimen_duration_weeks",
    "occlusion",
    "response",
    "response_assessment",
    "time_to_response_weeks",
    "follow_up_months",
    "recurrence",
    "recurrence_months",
    "treatment_stopped_early",
    "status_at_last_follow_up",
    "updated_at",
    "biomarkers",
)
_ORDER = ("publication_id", "label", "pk")
# (prior treatments, concurrent treatments, adverse events, concurrent categories) of a case
# with none of them.
_NO_RELATED: tuple[tuple[Any, ...], ...] = ((), (), (), ())


def _case(row: tuple[Any, ...], related: tuple[Any, ...]) -> CaseData:
    """A CaseData from a `_CASE_FIELDS` row plus (prior, concurrent, events, categories)."""
    prior, concurrent, events, categories = related
    return CaseData._make(
        (*row[:11], prior, concurrent, *row[11:23], events, row[23], categories, row[24])
    )


def _with_related(case: CaseData, related: tuple[Any, ...]) -> CaseData:
    """The same case with its treatments and adverse events as read now."""
    if (case[11], case[12], case[25], case[27]) == related:
        return case
    prior, concurrent, events, categories = related
    return CaseData._make(
        (*case[:11], prior, concurrent, *case[13:25], events, case[26], categories, case[28])
    )


class _RowCache:
    """Cases already turned into plain data, keyed by primary key and `updated_at`.

    Reading 10,000 full rows costs far more than the synthesis itself, so a summary asks only
    for (pk, updated_at) and reads full rows for the cases it has not seen at that version.
    Every save() of a case moves `updated_at` (auto_now); treatments and adverse events are
    read afresh on every summary, so they never go stale. The cache is never read or filled
    inside a transaction (it could hold rows that are later rolled back), and it is cleared
    whole when it grows past `limit` rows. One per process; guarded by a lock for threads.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._rows: dict[tuple[str, int], tuple[str, CaseData]] = {}
        self._lock = threading.Lock()

    def get(self, alias: str, keys: list[tuple[int, str]]) -> list[CaseData | None]:
        with self._lock:
            found = [self._rows.get((alias, pk)) for pk, _ in keys]
        return [
            hit[1] if hit is not None and hit[0] == version else None
            for hit, (_, version) in zip(found, keys, strict=True)
        ]

    def put(self, alias: str, rows: dict[int, tuple[str, CaseData]]) -> None:
        with self._lock:
            if len(self._rows) + len(rows) > self.limit:
                self._rows.clear()
            self._rows.update(((alias, pk), value) for pk, value in rows.items())

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


_row_cache = _RowCache()
# Up to this many changed cases are read by primary key; more, and the whole selection is read.
_BY_KEY_LIMIT = 500


def _filtered(topic: Topic, filters: CaseFilters) -> Any:
    patients = ReportedPatient.objects.for_topic(topic).matching(
        setting=filters.setting,
        site__iexact=filters.site,
        lesion_depth=filters.lesion_depth,
        surgery_candidate=filters.surgery_candidate,
        concurrent_treatment=filters.concurrent_treatment,
    )
    return patients if filters.include_demo else patients.real()


RelatedRows = tuple[tuple[tuple[Any, ...], ...], ...]


def _related_rows(patients: Any) -> RelatedRows:
    """Prior treatments, concurrent treatments and adverse events of the cases: three queries.

    Plain, ordered rows, so that they can also serve as part of a report's cache key.
    """
    selected = patients.values("pk")
    treatments = [
        tuple(
            getattr(ReportedPatient, relation)
            .through.objects.filter(reportedpatient__in=selected)
            .order_by("treatment__name", "treatment_id", "reportedpatient_id")
            .values_list("reportedpatient_id", "treatment__slug", "treatment__category")
        )
        for relation in ("prior_treatments", "concurrent_treatments")
    ]
    events = tuple(
        AdverseEvent.objects.filter(patient__in=selected)
        .order_by("pk")
        .values_list("patient_id", "kind", "severity", "led_to_stop")
    )
    return (treatments[0], treatments[1], events)


def _related(rows: RelatedRows) -> dict[int, tuple[Any, ...]]:
    """(prior, concurrent, adverse events, concurrent categories) per patient id."""
    prior_rows, concurrent_rows, event_rows = rows
    prior: dict[int, list[str]] = {}
    concurrent: dict[int, list[tuple[str, str]]] = {}
    events: dict[int, list[AdverseEventData]] = {}
    for patient_id, slug, _category in prior_rows:
        prior.setdefault(patient_id, []).append(slug)
    for patient_id, slug, category in concurrent_rows:
        concurrent.setdefault(patient_id, []).append((slug, category))
    for patient_id, kind, severity, stop in event_rows:
        events.setdefault(patient_id, []).append(AdverseEventData(kind, severity, stop))
    related: dict[int, tuple[Any, ...]] = {}
    for pk in prior.keys() | concurrent.keys() | events.keys():
        given_with = concurrent.get(pk, [])
        related[pk] = (
            tuple(prior.get(pk, ())),
            tuple(slug for slug, _ in given_with),
            tuple(events.get(pk, ())),
            tuple(category for _, category in given_with),
        )
    return related


def _report_tables() -> tuple[str, ...]:
    """The tables a topic report is read from (their content versions key the report)."""
    return (
        ReportedPatient._meta.db_table,
        ReportedPatient.prior_treatments.through._meta.db_table,
        ReportedPatient.concurrent_treatments.through._meta.db_table,
        AdverseEvent._meta.db_table,
        Appraisal._meta.db_table,
        ResearchQuestion._meta.db_table,
        Topic._meta.db_table,
        Treatment._meta.db_table,
    )


def _versions(patients: Any, read: Version | None = None) -> list[tuple[int, str]]:
    """(pk, row version) of the selected cases, in case order: `updated_at` as text, and the
    content version of the cases' table, so a write that leaves `updated_at` alone (a bulk
    `update()`, raw SQL) still retires every cached row. `read`: content versions the caller
    has just read that include the cases' table (spares the query)."""
    cases = ReportedPatient._meta.db_table
    if read is not None:
        table: Version | None = tuple(entry for entry in read if entry[0] == cases)
    else:
        table = current_version(patients.db, (cases,))
    suffix = f"|{table}" if table is not None else ""
    version = Cast("updated_at", output_field=CharField())
    rows = patients.order_by(*_ORDER).values_list("pk", version)
    return [(pk, f"{at}{suffix}") for pk, at in rows]


def _cases(
    patients: Any, related: dict[int, tuple[Any, ...]], keys: list[tuple[int, str]] | None
) -> list[CaseData]:
    """The cases as CaseData: all rows read (keys None), or rows reused from the row cache."""
    if keys is None:
        rows = patients.order_by(*_ORDER).values_list("pk", *_CASE_FIELDS)
        return [_case(row[1:], related.get(row[0], _NO_RELATED)) for row in rows]
    alias = patients.db
    cached = _row_cache.get(alias, keys)
    missing = [pk for (pk, _), case in zip(keys, cached, strict=True) if case is None]
    if missing:
        expected = dict(keys)
        fresh = patients if len(missing) > _BY_KEY_LIMIT else patients.filter(pk__in=missing)
        # Stored under the version the key asked for: the table's version was read before these
        # rows, so they are at least as new as it says.
        read = {
            row[0]: (expected.get(row[0], ""), _case(row[1:], related.get(row[0], _NO_RELATED)))
            for row in fresh.values_list("pk", *_CASE_FIELDS).iterator(chunk_size=2000)
        }
        _row_cache.put(alias, read)
        # A case deleted between the two queries is simply left out.
        cached = [
            case if case is not None else read[pk][1] if pk in read else None
            for (pk, _), case in zip(keys, cached, strict=True)
        ]
    return [
        _with_related(case, related.get(pk, _NO_RELATED))
        for (pk, _), case in zip(keys, cached, strict=True)
        if case is not None
    ]


def _cacheable(patients: Any) -> bool:
    # Inside a transaction the rows may still be rolled back: never cache them.
    return not connections[patients.db].in_atomic_block


def select_cases(topic: Topic, filters: CaseFilters | None = None) -> list[CaseData]:
    """The topic's cases as plain data, ordered by publication and label.

    A fixed number of queries whatever the number of cases: the rows (or, with the row cache,
    their versions and then any rows not cached at that version), prior and concurrent
    treatments, and adverse events. Equal to `to_case_data` on each model instance.
    """
    patients = _filtered(topic, filters or CaseFilters())
    related = _related(_related_rows(patients))
    return _cases(patients, related, _versions(patients) if _cacheable(patients) else None)


def to_case_data(patient: ReportedPatient) -> CaseData:
    """One model instance as plain data: the slow path, kept as the reference for select_cases.

    Expects prior_treatments, concurrent_treatments and adverse_events to be prefetched (or
    costs three queries per patient).
    """
    concurrent = sorted(patient.concurrent_treatments.all(), key=lambda t: t.name)
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
        prior_treatments=tuple(
            t.slug for t in sorted(patient.prior_treatments.all(), key=lambda t: t.name)
        ),
        concurrent_treatments=tuple(t.slug for t in concurrent),
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
            for e in sorted(patient.adverse_events.all(), key=lambda e: e.pk)
        ),
        updated_at=patient.updated_at,
        concurrent_categories=tuple(t.category for t in concurrent),
        biomarkers=patient.biomarkers,
    )


def summarise_topic(topic: Topic, filters: CaseFilters | None = None) -> Synthesis:
    """The synthesis of a topic's cases (see `synthesis.synthesise`)."""
    filters = filters or CaseFilters()
    return synthesise(
        select_cases(topic, filters), filters=filters.as_dict(), vocabulary=vocabulary_for(topic)
    )


@dataclass(frozen=True, slots=True)
class TopicReport:
    """Everything computed about a topic's cases: numbers, appraisal, certainty, gaps."""

    topic: Topic
    cases: tuple[CaseData, ...]
    synthesis: Synthesis
    appraisal: AppraisalSummary
    certainty: Certainty
    gaps: tuple[Gap, ...]
    # What the appraisal summary and the gaps were computed from (kept for snapshots and their
    # comparison): appraisal rows (publication id, *JBI items) and (question, measure) rows.
    appraisal_rows: tuple[tuple[Any, ...], ...] = ()
    questions: tuple[tuple[str, str], ...] = ()


class _ReportCache:
    """Recent reports, keyed by everything they are computed from.

    The key holds the (pk, updated_at) of every selected case, every treatment and adverse-event
    row, the appraisals and the editors' questions, all read afresh for each report: the same
    key means the same inputs, so the pure computation would give the same report. Bounded to
    `size` reports per process, least recently used first out; guarded by a lock.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._reports: OrderedDict[Hashable, TopicReport] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> TopicReport | None:
        with self._lock:
            report = self._reports.get(key)
            if report is not None:
                self._reports.move_to_end(key)
            return report

    def put(self, key: Hashable, report: TopicReport) -> None:
        with self._lock:
            self._reports[key] = report
            while len(self._reports) > self.size:
                self._reports.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._reports.clear()


_report_cache = _ReportCache()


class _Key:
    """A large cache key whose hash is computed once (tuples do not keep theirs)."""

    __slots__ = ("_hash", "value")

    def __init__(self, value: tuple[Any, ...]) -> None:
        self.value = value
        self._hash = hash(value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self._hash == other._hash and self.value == other.value


def topic_report(topic: Topic, filters: CaseFilters | None = None) -> TopicReport:
    """Numbers, appraisal summary, certainty and research gaps for a topic.

    Eight queries whatever the number of cases (the content versions, then seven; one fewer
    when every row is in the row cache), or only the first when nothing has been written since
    the same report was computed in this process: the
    report is also kept under the content versions of the tables it is read from
    (`core.content_version`), which triggers advance on any write to them.
    """
    filters = filters or CaseFilters()
    patients = _filtered(topic, filters)
    version = current_version(patients.db, _report_tables())  # None inside a transaction
    version_key: Hashable = ("content", patients.db, version, topic.pk, filters)
    if version is not None:
        cached = _report_cache.get(version_key)
        if cached is not None:
            return replace(cached, topic=topic)
    related_rows = _related_rows(patients)
    items = [name for name, _ in Appraisal.ITEMS]
    appraisal_rows = tuple(
        Appraisal.objects.filter(publication_id__in=patients.values("publication_id"))
        .order_by("publication_id")
        .values_list("publication_id", *items)
    )
    questions = tuple(
        ResearchQuestion.objects.filter(topic=topic).values_list("question", "measure")
    )
    keys = _versions(patients, version) if _cacheable(patients) else None
    cache_key: Hashable = None
    if keys is not None:
        cache_key = _Key(
            (patients.db, topic.pk, filters, tuple(keys), related_rows, appraisal_rows, questions)
        )
        cached = _report_cache.get(cache_key)
        if cached is not None:
            if version is not None:
                _report_cache.put(version_key, cached)
            return replace(cached, topic=topic)
    cases = tuple(_cases(patients, _related(related_rows), keys))
    report = build_report(topic, cases, appraisal_rows, questions, filters)
    if cache_key is not None:
        _report_cache.put(cache_key, report)
        if version is not None:
            _report_cache.put(version_key, report)
    return report


def build_report(
    topic: Topic,
    cases: tuple[CaseData, ...],
    appraisal_rows: tuple[tuple[Any, ...], ...],
    questions: tuple[tuple[str, str], ...],
    filters: CaseFilters | None = None,
) -> TopicReport:
    """The report computed from its inputs alone (no query): the live report and a pinned
    snapshot (`evidence.snapshots`) are built by this one function."""
    filters = filters or CaseFilters()
    items = [name for name, _ in Appraisal.ITEMS]
    vocabulary = vocabulary_for(topic)
    synthesis = synthesise(cases, filters=filters.as_dict(), vocabulary=vocabulary)
    publication_ids = set(columns(cases)["publication_id"])
    appraisals = [
        AppraisalData(row[0], dict(zip(items, row[1:], strict=True))) for row in appraisal_rows
    ]
    appraisal = summarise_appraisals(appraisals, publication_ids)
    return TopicReport(
        topic=topic,
        cases=cases,
        synthesis=synthesis,
        appraisal=appraisal,
        certainty=assess_certainty(
            synthesis,
            appraisal,
            cases,
            vocabulary=vocabulary,
            wording=definition_for(topic).wording,
        ),
        gaps=research_gaps(cases, list(questions), vocabulary=vocabulary),
        appraisal_rows=tuple(tuple(row) for row in appraisal_rows),
        questions=tuple((str(q), str(m)) for q, m in questions),
    )
