"""Writes to the evidence base that more than one entry point shares (command, admin)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from wagtail.log_actions import log

from evidencepress.core.audit import audit_record

from .case_import import CasePlan, PlannedCase, plan_case_import
from .models import AdverseEvent, ReportedPatient, Topic, Treatment


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
    for case in plan.cases:
        if case.action != "unchanged":
            _apply(case, topic, treatments, actor=actor, file_name=plan.file)
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


def _apply(
    case: PlannedCase,
    topic: Topic,
    treatments: dict[str, Treatment],
    *,
    actor: Any,
    file_name: str,
) -> None:
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
    # The case's own history (Wagtail's log, shown on its edit screen), as an admin edit is.
    log(
        instance=patient,
        action="wagtail.create" if case.existing is None else "wagtail.edit",
        user=actor if getattr(actor, "is_authenticated", False) else None,
        content_changed=True,
        data={
            "source": "spreadsheet import",
            "file": file_name,
            "row": case.row,
            "columns": [change.column for change in case.changes],
        },
    )
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
