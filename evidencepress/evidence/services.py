"""Writes for the evidence base that span models: pinning the evidence a clinician reviewed, and
importing cases from a spreadsheet (shared by the command and the admin)."""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from wagtail.log_actions import LogContext

from evidencepress.core.audit import audit_record

from . import snapshots
from .case_import import CasePlan, PlannedCase, plan_case_import
from .history import recorded_reason
from .models import AdverseEvent, EvidenceSnapshot, ReportedPatient, Topic, Treatment
from .topic_reports import CaseFilters, TopicReport, build_report, topic_report


def _reviewer_name(user: Any) -> str:
    if user is None:
        return ""
    full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
    return full or str(user.get_username())


@transaction.atomic
def evidence_snapshot_take(
    *,
    topic: Topic,
    reviewed_by: Any = None,
    reviewer_name: str = "",
    taken_at: datetime.datetime | None = None,
) -> EvidenceSnapshot:
    """Store the topic's evidence as it is now, as reviewed by `reviewed_by` (a user) or
    `reviewer_name`. Read inside this transaction, so the snapshot is one consistent state."""
    report = topic_report(topic)  # inside a transaction: read afresh, never from a cache
    ids = {
        (publication_id, label): (pk, updated_at)
        for pk, publication_id, label, updated_at in ReportedPatient.objects.for_topic(
            topic
        ).values_list("pk", "publication_id", "label", "updated_at")
    }
    cases = []
    for case in report.cases:
        pk, updated_at = ids.get(snapshots.case_key(case), (None, None))
        cases.append(
            {
                "id": pk,
                "version": updated_at.isoformat() if updated_at else None,
                "data": snapshots.case_to_json(case),
            }
        )
    synthesis = report.synthesis
    snapshot = EvidenceSnapshot(
        topic=topic,
        taken_at=taken_at or timezone.now(),
        reviewed_by=reviewed_by if getattr(reviewed_by, "pk", None) else None,
        reviewer_name=(reviewer_name or _reviewer_name(reviewed_by) or "a clinician")[:150],
        evidence_date=synthesis.evidence_date,
        fingerprint=snapshots.fingerprint(report.cases, report.appraisal_rows, report.questions),
        cases=cases,
        appraisals=[list(row) for row in report.appraisal_rows],
        questions=[list(row) for row in report.questions],
        numbers={
            "headline": snapshots.headline(synthesis, topic),
            "synthesis": synthesis.as_dict(),
        },
    )
    snapshot.full_clean()
    snapshot.save()
    return snapshot


class _SnapshotReports:
    """Reports rebuilt from snapshots, per process. Snapshots never change, so an entry is
    good for as long as it is kept; bounded, least recently used first out."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], TopicReport] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, snapshot: EvidenceSnapshot, include_demo: bool) -> TopicReport:
        key = (*snapshot_key(snapshot), include_demo)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
        if found is None:
            found = _rebuild(snapshot, include_demo)
            with self._lock:
                self._items[key] = found
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return replace(found, topic=snapshot.topic)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def snapshot_key(snapshot: EvidenceSnapshot) -> tuple[Any, ...]:
    """Names one stored snapshot for process caches: a primary key alone can come back after a
    rolled-back transaction, so the content's fingerprint and the time are part of it."""
    return (snapshot.pk, snapshot.fingerprint, snapshot.taken_at.isoformat())


def _rebuild(snapshot: EvidenceSnapshot, include_demo: bool) -> TopicReport:
    cases = tuple(snapshots.case_from_json(row["data"]) for row in snapshot.cases)
    if not include_demo:
        cases = tuple(case for case in cases if not case.is_demo)
    return build_report(
        snapshot.topic,
        cases,
        tuple(tuple(row) for row in snapshot.appraisals),
        tuple((str(q), str(m)) for q, m in snapshot.questions),
        CaseFilters(include_demo=include_demo),
    )


_snapshot_reports = _SnapshotReports()


def snapshot_report(snapshot: EvidenceSnapshot, *, include_demo: bool = True) -> TopicReport:
    """The topic's report exactly as it was reviewed (no query once the snapshot is read)."""
    return _snapshot_reports.get(snapshot, include_demo)


def snapshot_difference(
    snapshot: EvidenceSnapshot, current: TopicReport | None = None
) -> snapshots.EvidenceDifference:
    """How the topic's evidence now differs from what was reviewed in `snapshot`."""
    reviewed = snapshot_report(snapshot)
    current = current or topic_report(snapshot.topic)
    return snapshots.difference(
        reviewed_cases=reviewed.cases,
        reviewed_synthesis=reviewed.synthesis,
        reviewed_inputs=(reviewed.appraisal_rows, reviewed.questions),
        current_cases=current.cases,
        current_synthesis=current.synthesis,
        current_inputs=(current.appraisal_rows, current.questions),
        topic=snapshot.topic,
    )


def latest_snapshot(topic: Topic) -> EvidenceSnapshot | None:
    """The most recent clinically reviewed evidence of a topic, or None."""
    return EvidenceSnapshot.objects.filter(topic=topic).order_by("-taken_at", "-pk").first()


def reviewed_cases_from(publication: Any) -> tuple[int, bool]:
    """How many cases from this publication the latest clinical reviews of its topics counted,
    and whether its cases changed since (new, corrected or removed): public pages give only
    reviewed numbers."""
    topic_ids = set(publication.topics.values_list("pk", flat=True)) | set(
        ReportedPatient.objects.filter(publication=publication).values_list("topic_id", flat=True)
    )
    reviewed = 0
    changed = False
    for topic in Topic.objects.filter(pk__in=topic_ids).order_by("pk"):
        snapshot = latest_snapshot(topic)
        pinned = (
            {
                snapshots.case_key(case): snapshots.case_content(case)
                for case in snapshot_report(snapshot).cases
                if case.publication_id == publication.pk
            }
            if snapshot is not None
            else {}
        )
        current = {
            snapshots.case_key(case): snapshots.case_content(case)
            for case in topic_report(topic).cases
            if case.publication_id == publication.pk
        }
        reviewed += len(pinned)
        changed = changed or pinned != current
    return reviewed, changed


# --- cases from a spreadsheet (docs/cases-spreadsheet.md) -------------------------------------


class CaseImportRefused(Exception):
    """The file has errors, or the evidence changed since the preview: nothing was written."""

    def __init__(self, message: str, plan: CasePlan) -> None:
        super().__init__(message)
        self.plan = plan


@dataclass(frozen=True)
class CaseImportResult:
    plan: CasePlan
    created: int
    changed: int
    unchanged: int


@transaction.atomic
def import_cases(
    *,
    topic: Topic,
    data: bytes,
    name: str,
    user: Any = None,
    request: HttpRequest | None = None,
    expected_fingerprint: str | None = None,
) -> CaseImportResult:
    """Import a spreadsheet of cases into `topic`, all or nothing (docs/cases-spreadsheet.md).

    A case is matched by publication and label: new rows are created, changed rows updated,
    unchanged rows left alone. With `expected_fingerprint` (the preview's), the import is
    refused unless it would do exactly what was previewed. Raises CaseImportRefused, having
    written nothing, when any row has an error.
    """
    # Lock the topic row so that two imports into one topic run one after the other.
    Topic.objects.select_for_update().filter(pk=topic.pk).first()
    plan = plan_case_import(topic=topic, data=data, name=name)
    if plan.errors:
        raise CaseImportRefused(f"{len(plan.errors)} error(s); nothing was imported.", plan)
    if expected_fingerprint is not None and plan.fingerprint != expected_fingerprint:
        raise CaseImportRefused(
            "The file or the cases changed since the preview; nothing was imported. "
            "Upload the file again to see what it would change now.",
            plan,
        )
    treatments = {t.slug: t for t in Treatment.objects.all()}
    actor = user if user is not None else getattr(request, "user", None)
    # The evidence history (evidence/history.py) records each change field by field; the
    # importer is its user and the file and row its reason.
    with LogContext(user=actor if getattr(actor, "is_authenticated", False) else None):
        for case in plan.cases:
            if case.action != "unchanged":
                with recorded_reason(f"Imported from {plan.file}, row {case.row}"):
                    _apply(case, topic, treatments)
    counts = plan.counts
    audit_record(
        action="evidence.cases_imported",
        actor=user,
        request=request,
        object_type="evidence.topic",
        object_id=str(topic.pk),
        detail={"file_sha256": plan.digest, **counts},
    )
    return CaseImportResult(plan, counts["new"], counts["changed"], counts["unchanged"])


def _apply(case: PlannedCase, topic: Topic, treatments: dict[str, Treatment]) -> None:
    patient = case.existing or ReportedPatient(topic=topic, publication=case.publication)
    patient.label = case.label
    for name, value in case.values.items():
        setattr(patient, name, value)
    # ParentalManyToMany: held on the instance and written by save().
    patient.prior_treatments.set([treatments[slug] for slug in case.prior])
    patient.concurrent_treatments.set([treatments[slug] for slug in case.concurrent])
    patient.full_clean()
    patient.save()
    if case.existing is None:
        # A case of the topic makes its publication one of the topic's sources.
        case.publication.topics.add(topic)
    _apply_events(patient, case.adverse_events)


def _apply_events(patient: ReportedPatient, wanted: tuple[tuple[str, str], ...]) -> None:
    """Keep the events still listed (with their descriptions), add the new, delete the rest."""
    remaining = list(wanted)
    for event in AdverseEvent.objects.filter(patient=patient).order_by("pk"):
        pair = (event.kind, event.severity)
        if pair in remaining:
            remaining.remove(pair)
        else:
            event.delete()
    for kind, severity in remaining:
        event = AdverseEvent(patient=patient, kind=kind, severity=severity)
        event.full_clean()
        event.save()
