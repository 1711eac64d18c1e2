"""Read a spreadsheet of cases (the columns of `export_cases`) and plan what importing it changes.

Reading and planning write nothing: `plan_case_import` returns every row as new, changed (with
the field differences) or unchanged, and every error naming the file, row and column. Applying
a plan is `evidence.services.import_cases` (docs/cases-spreadsheet.md).

Files are read the way Excel, LibreOffice and Google Sheets save them: CSV in UTF-8 (with or
without a byte-order mark) or UTF-16 ("Unicode text"), separated by commas, semicolons (Excel in
much of Europe) or tabs; XLSX workbooks (the first sheet). Lines starting with "#" before the
header are comments (the export writes its demonstration notice there).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from .export import COLUMNS, FORMULA_TRIGGERS
from .models import Publication, ReportedPatient, Topic, Treatment
from .vocabulary import CASE_FIELD_TERMS, UNKNOWN, Vocabulary, vocabulary_for

MAX_FILE_BYTES = 2_000_000
MAX_ROWS = 5_000
MAX_XLSX_UNPACKED_BYTES = 50_000_000
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
# Columns that describe the case's publication or the export itself, not a field of the case.
IDENTITY_COLUMNS = frozenset({"case_id", "publication_title", "publication_year", "pmid", "doi"})
TEXT_FIELDS = ("site", "regimen_strength")
CHOICE_FIELDS = ("sex", "setting", "lesion_depth", "response", "response_assessment")
CHOICE_FIELDS_ALL = (*CHOICE_FIELDS, "status_at_last_follow_up")
INTEGER_FIELDS = ("age", "lesion_size_mm", "lesion_count")
DECIMAL_FIELDS = (
    "regimen_frequency_per_week",
    "regimen_duration_weeks",
    "time_to_response_weeks",
    "follow_up_months",
    "recurrence_months",
)
BOOLEAN_FIELDS = ("surgery_candidate", "occlusion", "recurrence", "treatment_stopped_early")
# The model field behind a column whose name differs.
FIELD_COLUMN = {"is_demo": "demonstration_data"}
FIELD_COLUMN_REVERSE = {column: name for name, column in FIELD_COLUMN.items()}
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})


class CaseFileError(Exception):
    """The file as a whole cannot be read (encoding, size, format, header)."""


@dataclass(frozen=True)
class RowError:
    """One problem, named by file, spreadsheet row (as numbered by the spreadsheet) and column."""

    file: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


@dataclass(frozen=True)
class FieldChange:
    column: str
    old: str
    new: str


@dataclass
class PlannedCase:
    """One row of the file: what the case will be, and how that differs from what is stored."""

    row: int
    label: str
    publication: Publication
    existing: ReportedPatient | None
    values: dict[str, Any]
    prior: tuple[str, ...]
    concurrent: tuple[str, ...]
    adverse_events: tuple[tuple[str, str], ...]
    changes: tuple[FieldChange, ...] = ()

    @property
    def action(self) -> str:
        if self.existing is None:
            return "new"
        return "changed" if self.changes else "unchanged"


@dataclass
class CasePlan:
    """What importing a file into a topic would do; `fingerprint` identifies exactly that."""

    file: str
    topic: Topic
    digest: str
    cases: list[PlannedCase] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for case in self.cases if case.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in ("new", "changed", "unchanged")}

    @property
    def fingerprint(self) -> str:
        """The file's digest and every planned change: equal only if confirming does the same."""
        planned = [
            [c.row, c.action, c.existing.pk if c.existing else None]
            + [[ch.column, ch.old, ch.new] for ch in c.changes]
            for c in self.cases
        ]
        text = json.dumps([self.digest, self.topic.pk, planned], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


# --- reading -----------------------------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseFileError(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}). "
            "Save the sheet as “CSV UTF-8”, or as .xlsx."
        ) from None


def _csv_rows(data: bytes, name: str) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data, name)
    if "\x00" in text:
        raise CaseFileError(f"{name}: contains NUL characters; is it really a CSV file?")
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and (lines[skipped].startswith("#") or not lines[skipped].strip()):
        skipped += 1
    if skipped == len(lines):
        raise CaseFileError(f"{name}: no header row (the file is empty).")
    header = lines[skipped]
    # The separator is whichever of , ; tab splits the header into the most columns.
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.reader(io.StringIO("".join(lines[skipped:])), delimiter=delimiter)
    try:
        for record in reader:
            yield skipped + reader.line_num, record
    except csv.Error as exc:
        raise CaseFileError(f"{name}: row {skipped + reader.line_num}: {exc}") from None


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes, name: str) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # imported here: only imports of workbooks need it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            # A small file that unpacks to gigabytes (a "zip bomb") is refused before reading.
            raise CaseFileError(
                f"{name}: the workbook unpacks to {unpacked:,} bytes, more than the "
                f"{MAX_XLSX_UNPACKED_BYTES:,} allowed; split the file."
            )
        # data_only=False: a formula stays a formula, so it is refused instead of trusted.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise CaseFileError(f"{name}: not a readable .xlsx workbook ({exc}).") from None
    try:
        sheet = book.worksheets[0]
        header_seen = False
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = [_xlsx_cell(v) for v in cells]
            if not header_seen and (not any(values) or values[0].startswith("#")):
                continue
            header_seen = True
            yield number, values
    finally:
        book.close()


def read_rows(data: bytes, name: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the non-empty rows of a CSV or XLSX file, each with its row number.

    Raises CaseFileError when the file as a whole cannot be used.
    """
    if len(data) > MAX_FILE_BYTES:
        raise CaseFileError(
            f"{name}: {len(data):,} bytes is more than the {MAX_FILE_BYTES:,} allowed; "
            "split the file."
        )
    if not data.strip():
        raise CaseFileError(f"{name}: the file is empty.")
    is_xlsx = data.startswith(b"PK\x03\x04")
    if name.lower().endswith(".xlsx") and not is_xlsx:
        raise CaseFileError(f"{name}: not a readable .xlsx workbook.")
    rows = _xlsx_rows(data, name) if is_xlsx else _csv_rows(data, name)
    header: list[str] | None = None
    out: list[tuple[int, dict[str, str]]] = []
    for number, record in rows:
        if header is None:
            header = [cell.strip().lstrip("\ufeff") for cell in record]
            while header and not header[-1]:
                header.pop()
            _check_header(header, name)
            continue
        if not any(cell.strip() for cell in record):
            continue  # empty rows, and rows of empty cells that spreadsheets leave at the end
        if len(out) >= MAX_ROWS:
            raise CaseFileError(f"{name}: more than {MAX_ROWS:,} cases; split the file.")
        extra = [cell for cell in record[len(header) :] if cell.strip()]
        if extra:
            raise CaseFileError(f"{name}: row {number} has more cells than the header has columns.")
        padded = list(record[: len(header)]) + [""] * (len(header) - len(record))
        out.append((number, dict(zip(header, padded, strict=True))))
    if header is None:
        raise CaseFileError(f"{name}: no header row (the file is empty).")
    return header, out


def _check_header(header: list[str], name: str) -> None:
    unknown = [column for column in header if column not in COLUMN_NAMES]
    if unknown:
        raise CaseFileError(
            f"{name}: unknown column(s) {', '.join(repr(c) for c in unknown)}; the columns are "
            "those of export_cases (docs/cases-spreadsheet.md)."
        )
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise CaseFileError(f"{name}: the column {column!r} appears twice.")
        seen.add(column)
    missing = [column for column in COLUMN_NAMES if column not in seen]
    if missing:
        raise CaseFileError(f"{name}: missing column(s) {', '.join(missing)}.")


# --- values --------------------------------------------------------------------------------------


class _CellError(Exception):
    pass


def _text(raw: str) -> str:
    """A text cell: the export's leading ' (formula guard) removed; formulas refused."""
    value = raw.strip()
    if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    if value.startswith(FORMULA_TRIGGERS):
        raise _CellError(
            f"{value[:20]!r} starts like a spreadsheet formula; "
            "write it as text with a leading ' (the export does)."
        )
    return value


def _number(raw: str) -> Decimal | None:
    value = raw.strip()
    if not value:
        return None
    # Excel in much of Europe writes decimals with a comma ("5,5").
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _CellError(f"{raw.strip()[:20]!r} is not a number.") from None
    if not number.is_finite():
        raise _CellError(f"{raw.strip()[:20]!r} is not a number.")
    return number


def _integer(raw: str) -> int | None:
    number = _number(raw)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _CellError(f"{raw.strip()!r} is not a whole number.")
    return int(number)


def _boolean(raw: str, *, required: bool = False) -> bool | None:
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    if not value and not required:
        return None
    allowed = "true or false" if required else "true, false or empty"
    raise _CellError(f"{raw.strip()[:20]!r} is not {allowed}.")


def _allowed(vocabulary: Vocabulary, column: str) -> tuple[str, ...]:
    if column not in CASE_FIELD_TERMS:  # sex: not part of a topic's vocabulary
        return tuple(ReportedPatient.Sex.values)
    return vocabulary.values_for(column)


def _choice(allowed: tuple[str, ...]) -> Any:
    def convert(raw: str) -> str:
        value = raw.strip() or UNKNOWN  # an empty cell is "not reported"
        if value not in allowed:
            raise _CellError(f"{raw.strip()[:30]!r} is not one of {', '.join(allowed)}.")
        return value

    return convert


def _slugs(raw: str, known: Mapping[str, Treatment]) -> tuple[str, ...]:
    slugs = tuple(sorted({s.strip() for s in raw.split(";") if s.strip()}))
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise _CellError(f"unknown treatment(s) {', '.join(unknown)} (use the treatment slugs).")
    return slugs


def _adverse_events(raw: str, severities: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    events = []
    for entry in (e.strip() for e in _text(raw).split(";")):
        if not entry:
            continue
        kind, severity = entry, "unknown"
        if entry.endswith(")") and " (" in entry:
            kind, severity = entry[:-1].rsplit(" (", 1)
        kind = kind.strip()
        if severity not in severities:
            raise _CellError(
                f"{entry!r}: severity {severity!r} is not one of {', '.join(severities)}."
            )
        if not kind or len(kind) > 100:
            raise _CellError(f"{entry!r}: give the kind of event in at most 100 characters.")
        events.append((kind, severity))
    return tuple(sorted(events))


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, tuple):
        return "; ".join(v if isinstance(v, str) else f"{v[0]} ({v[1]})" for v in value)
    return str(value)


def _same(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is None and new is None
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(str(old)) == Decimal(str(new))
    return bool(old == new)


# --- planning ------------------------------------------------------------------------------------


class _Publications:
    """Finds a row's publication the way the export names it: PMID, else DOI, else title."""

    def __init__(self, topic: Topic) -> None:
        self.topic = topic
        self._cache: dict[tuple[str, str, str, str], Publication] = {}

    def find(self, row: Mapping[str, str]) -> Publication:
        pmid, doi = row["pmid"].strip(), row["doi"].strip().lower()
        title, year = _text(row["publication_title"]), row["publication_year"].strip()
        key = (pmid, doi, title, year)
        if key not in self._cache:
            self._cache[key] = self._lookup(pmid, doi, title, year)
        return self._cache[key]

    def _lookup(self, pmid: str, doi: str, title: str, year: str) -> Publication:
        if pmid:
            found = Publication.objects.filter(pmid=pmid).first()
            if found is None:
                raise _CellError(f"no publication with PMID {pmid} (import it first).")
            return found
        if doi:
            found = Publication.objects.filter(doi__iexact=doi).first()
            if found is None:
                raise _CellError(f"no publication with DOI {doi} (import it first).")
            return found
        if not title:
            raise _CellError("give the publication's PMID, DOI or title.")
        candidates = Publication.objects.filter(
            Q(topics=self.topic) | Q(patients__topic=self.topic), title=title
        ).distinct()
        if year:
            candidates = candidates.filter(year=_integer(year))
        found_list = list(candidates[:2])
        if not found_list:
            raise _CellError(f"no publication of this topic titled {title[:80]!r}.")
        if len(found_list) > 1:
            raise _CellError(f"two publications are titled {title[:80]!r}; give a PMID or DOI.")
        return found_list[0]


def plan_case_import(*, topic: Topic, data: bytes, name: str) -> CasePlan:
    """What importing `data` (a CSV or XLSX file called `name`) into `topic` would do.

    Writes nothing. A file that cannot be read at all gives one error without a row.
    """
    plan = CasePlan(file=name, topic=topic, digest=hashlib.sha256(data).hexdigest())
    try:
        _header, rows = read_rows(data, name)
    except CaseFileError as exc:
        plan.errors.append(RowError(name, None, "", str(exc).removeprefix(f"{name}: ")))
        return plan
    treatments = {t.slug: t for t in Treatment.objects.all()}
    publications = _Publications(topic)
    existing = {
        (p.publication_id, p.label): p
        for p in ReportedPatient.objects.filter(topic=topic).prefetch_related(
            "prior_treatments", "concurrent_treatments", "adverse_events"
        )
    }
    first_row: dict[tuple[int, str], int] = {}
    for number, row in rows:
        errors_before = len(plan.errors)

        def error(column: str, message: str, number: int = number) -> None:
            plan.errors.append(RowError(name, number, column, message))

        try:
            publication = publications.find(row)
        except _CellError as exc:
            column = (
                "pmid"
                if row["pmid"].strip()
                else "doi"
                if row["doi"].strip()
                else ("publication_title")
            )
            error(column, str(exc))
            continue
        try:
            label = _text(row["label"])
        except _CellError as exc:
            error("label", str(exc))
            continue
        if not label:
            error("label", "every case needs a label (how the report names it).")
            continue
        key = (publication.pk, label)
        if key in first_row:
            error("label", f"{label!r} of this publication is already on row {first_row[key]}.")
            continue
        first_row[key] = number
        case = _plan_row(
            topic, number, row, label, publication, existing.get(key), treatments, error
        )
        if case is not None and len(plan.errors) == errors_before:
            plan.cases.append(case)
    return plan


def _plan_row(
    topic: Topic,
    number: int,
    row: Mapping[str, str],
    label: str,
    publication: Publication,
    current: ReportedPatient | None,
    treatments: Mapping[str, Treatment],
    error: Any,
) -> PlannedCase | None:
    vocabulary = vocabulary_for(topic)
    values: dict[str, Any] = {}
    prior: tuple[str, ...] = ()
    concurrent: tuple[str, ...] = ()
    events: tuple[tuple[str, str], ...] = ()
    converters: list[tuple[str, Any]] = [
        *((name, _text) for name in TEXT_FIELDS),
        *((name, _choice(_allowed(vocabulary, name))) for name in CHOICE_FIELDS_ALL),
        *((name, _integer) for name in INTEGER_FIELDS),
        *((name, _number) for name in DECIMAL_FIELDS),
        *((name, _boolean) for name in BOOLEAN_FIELDS),
        ("verified", lambda raw: _boolean(raw, required=True)),
        ("demonstration_data", lambda raw: _boolean(raw, required=True)),
    ]
    for column, convert in converters:
        try:
            values[FIELD_COLUMN_REVERSE.get(column, column)] = convert(row[column])
        except _CellError as exc:
            error(column, str(exc))
    try:
        prior = _slugs(row["prior_treatments"], treatments)
    except _CellError as exc:
        error("prior_treatments", str(exc))
    try:
        concurrent = _slugs(row["concurrent_treatments"], treatments)
    except _CellError as exc:
        error("concurrent_treatments", str(exc))
    try:
        events = _adverse_events(row["adverse_events"], vocabulary.severity_values)
    except _CellError as exc:
        error("adverse_events", str(exc))
    if any(name not in values for name in (*TEXT_FIELDS, *CHOICE_FIELDS_ALL)):
        return None
    case = PlannedCase(number, label, publication, current, values, prior, concurrent, events)
    if not _validate(case, topic, error):
        return None
    if current is not None:
        case.changes = _changes(case, current)
    return case


def _candidate(case: PlannedCase, topic: Topic) -> ReportedPatient:
    patient = case.existing if case.existing is not None else ReportedPatient(topic=topic)
    # Validate a copy: the stored case must not change until the import is applied.
    candidate = ReportedPatient(
        pk=patient.pk,
        topic=topic,
        publication=case.publication,
        label=case.label,
        treatment_details=patient.treatment_details,
        biomarkers=patient.biomarkers,
        curator_notes=patient.curator_notes,
    )
    candidate._state.adding = patient._state.adding  # so the unique checks know it is stored
    for name, value in case.values.items():
        setattr(candidate, name, value)
    return candidate


def _validate(case: PlannedCase, topic: Topic, error: Any) -> bool:
    candidate = _candidate(case, topic)
    try:
        candidate.full_clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            column = FIELD_COLUMN.get(name, name if name in COLUMN_NAMES else "")
            for message in messages:
                error(column, message)
        return False
    return True


def _changes(case: PlannedCase, current: ReportedPatient) -> tuple[FieldChange, ...]:
    changes = []
    for name, new in case.values.items():
        old = getattr(current, name)
        if not _same(old, new):
            changes.append(FieldChange(FIELD_COLUMN.get(name, name), _shown(old), _shown(new)))
    old_prior = tuple(sorted(t.slug for t in current.prior_treatments.all()))
    old_concurrent = tuple(sorted(t.slug for t in current.concurrent_treatments.all()))
    old_events = tuple(sorted((e.kind, e.severity) for e in current.adverse_events.all()))
    for column, old_set, new_set in (
        ("prior_treatments", old_prior, case.prior),
        ("concurrent_treatments", old_concurrent, case.concurrent),
        ("adverse_events", old_events, case.adverse_events),
    ):
        if old_set != new_set:
            changes.append(FieldChange(column, _shown(old_set), _shown(new_set)))
    return tuple(changes)
