"""One row per reported patient, with documented columns (docs/data-dictionary.md)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from .models import ReportedPatient, Topic
from .querysets import PatientQuerySet, unshown_publication_fields
from .vocabulary import CASE_FIELD_TERMS, vocabulary_for

_TOPIC_VALUES = "A value of the topic's vocabulary ({}; manage.py export_topic lists them)"

# (column, description). The order is the CSV column order; docs/data-dictionary.md lists these.
# The values of the topic-defined columns come from the topic's vocabulary (`columns_for`).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_id", "EvidencePress id of the case"),
    ("label", "How the report names the case"),
    ("demonstration_data", "true for invented, illustrative cases (not medical evidence)"),
    ("publication_title", "Title of the publication reporting the case"),
    ("publication_year", "Year of publication"),
    ("pmid", "PubMed id of the publication (empty for demonstration data)"),
    ("doi", "DOI of the publication"),
    ("age", "Age in years"),
    ("sex", "female, male, other, unknown"),
    ("setting", _TOPIC_VALUES.format("settings")),
    ("site", "Body site as reported"),
    ("lesion_size_mm", "Largest lesion diameter in millimetres"),
    ("lesion_count", "Number of lesions"),
    ("lesion_depth", _TOPIC_VALUES.format("extents")),
    ("surgery_candidate", "true, false or empty (not reported)"),
    ("prior_treatments", "Treatment slugs separated by ';'"),
    ("concurrent_treatments", "Treatment slugs separated by ';'"),
    ("regimen_strength", "As reported, e.g. '5% cream'"),
    ("regimen_frequency_per_week", "Applications per week"),
    ("regimen_duration_weeks", "Treatment duration in weeks"),
    ("occlusion", "true, false or empty"),
    ("response", _TOPIC_VALUES.format("outcomes")),
    ("response_assessment", _TOPIC_VALUES.format("assessments")),
    ("time_to_response_weeks", "Weeks from start of treatment to response"),
    ("follow_up_months", "Months of follow-up"),
    ("recurrence", "true, false or empty"),
    ("recurrence_months", "Months to recurrence"),
    ("treatment_stopped_early", "true, false or empty"),
    ("status_at_last_follow_up", _TOPIC_VALUES.format("statuses")),
    ("adverse_events", "kind (severity) entries separated by ';'"),
    ("verified", "A second curator checked every fact against the source"),
)


def columns_for(topic: Topic) -> tuple[tuple[str, str], ...]:
    """COLUMNS with the topic-defined columns documented by the topic's own values."""
    vocabulary = vocabulary_for(topic)
    return tuple(
        (name, vocabulary.values(vocabulary.terms_for(name)) if name in CASE_FIELD_TERMS else text)
        for name, text in COLUMNS
    )


def value_labels(topic: Topic) -> dict[str, dict[str, str]]:
    """For each topic-defined column: value -> the topic's label (API output, documentation);
    "adverse_events" entries carry severities, labelled under "severity"."""
    vocabulary = vocabulary_for(topic)
    return {name: vocabulary.labels_for(name) for name in CASE_FIELD_TERMS}


# Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP
# "CSV Injection": = + - @, tab and carriage return at the start of a cell).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """`text` with a leading single quote if a spreadsheet would run it as a formula (OWASP).

    Only text is touched: numbers stay numbers, so a negative number is still a number.
    """
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_cell(value: Any) -> Any:
    """One exported value as a CSV cell: empty for not reported, true/false, formula-safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value


def case_queryset(topic: Topic, *, include_demo: bool = True) -> PatientQuerySet:
    """The topic's cases in export order, with what a row needs fetched in four queries."""
    patients = (
        ReportedPatient.objects.for_topic(topic)
        .select_related("publication")
        .defer(*unshown_publication_fields("publication__"))
        .prefetch_related("prior_treatments", "concurrent_treatments", "adverse_events")
        .order_by("publication__year", "publication_id", "label", "pk")
    )
    return patients if include_demo else patients.real()


def case_rows(topic: Topic, *, include_demo: bool = True) -> Iterator[dict[str, Any]]:
    """One row per case of the topic, with the columns of `COLUMNS` (never curator notes)."""
    for patient in case_queryset(topic, include_demo=include_demo):
        yield case_row(patient)


def case_row(p: ReportedPatient) -> dict[str, Any]:
    """One case as a row with the columns of `COLUMNS`, in that order."""
    pub = p.publication
    return {
        "case_id": p.pk,
        "label": p.label,
        "demonstration_data": p.is_demo,
        "publication_title": pub.title,
        "publication_year": pub.year,
        "pmid": pub.pmid or "",
        "doi": pub.doi or "",
        "age": p.age,
        "sex": p.sex,
        "setting": p.setting,
        "site": p.site,
        "lesion_size_mm": p.lesion_size_mm,
        "lesion_count": p.lesion_count,
        "lesion_depth": p.lesion_depth,
        "surgery_candidate": p.surgery_candidate,
        "prior_treatments": ";".join(t.slug for t in p.prior_treatments.all()),
        "concurrent_treatments": ";".join(t.slug for t in p.concurrent_treatments.all()),
        "regimen_strength": p.regimen_strength,
        "regimen_frequency_per_week": _plain(p.regimen_frequency_per_week),
        "regimen_duration_weeks": _plain(p.regimen_duration_weeks),
        "occlusion": p.occlusion,
        "response": p.response,
        "response_assessment": p.response_assessment,
        "time_to_response_weeks": _plain(p.time_to_response_weeks),
        "follow_up_months": _plain(p.follow_up_months),
        "recurrence": p.recurrence,
        "recurrence_months": _plain(p.recurrence_months),
        "treatment_stopped_early": p.treatment_stopped_early,
        "status_at_last_follow_up": p.status_at_last_follow_up,
        "adverse_events": ";".join(f"{e.kind} ({e.severity})" for e in p.adverse_events.all()),
        "verified": p.verified,
    }


def xlsx_bytes(rows: list[dict[str, Any]], *, note: str = "") -> bytes:
    """The rows as an .xlsx workbook: an optional "# note" line, the header, one row per case.

    Text cells carry the same formula guard as the CSV (a leading '), so that no cell is ever
    stored as a formula; numbers stay numbers.
    """
    from openpyxl import Workbook  # imported here: only workbook exports need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet("cases")
    if note:
        sheet.append([f"# {note}"])
    sheet.append([name for name, _ in COLUMNS])
    for row in rows:
        sheet.append([csv_cell(row[name]) for name, _ in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
