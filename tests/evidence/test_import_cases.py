"""Issue #16 §2: `manage.py import_cases` reads the columns `export_cases` writes.

Files are built the way Excel, LibreOffice and Google Sheets save them: CSV UTF-8 with a BOM and
CRLF (Excel "CSV UTF-8"), semicolons and decimal commas (Excel with a European locale), plain
UTF-8 CSV (LibreOffice, Google Sheets) and .xlsx workbooks.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from evidencepress.core.models import AuditEvent
from evidencepress.demo.loader import load_demo
from evidencepress.evidence import case_import
from evidencepress.evidence.case_import import plan_case_import
from evidencepress.evidence.export import COLUMNS, case_rows
from evidencepress.evidence.models import AdverseEvent, Publication, ReportedPatient, Topic
from evidencepress.evidence.services import CaseImportRefused, import_cases

pytestmark = pytest.mark.django_db
SLUG = "imiquimod-angiosarcoma"
HEADER = [name for name, _ in COLUMNS]


@pytest.fixture
def demo() -> Topic:
    load_demo()
    return Topic.objects.get(slug=SLUG)


def _export(tmp_path: Path, fmt: str) -> Path:
    target = tmp_path / f"cases.{fmt}"
    call_command(
        "export_cases", "--topic", SLUG, "--format", fmt, "--output", str(target),
        stderr=io.StringIO(),
    )  # fmt: skip
    return target


def _snapshot(topic: Topic) -> list[dict[str, Any]]:
    rows = list(case_rows(topic))
    events = sorted(
        AdverseEvent.objects.filter(patient__topic=topic).values_list(
            "pk", "kind", "severity", "description", "led_to_stop"
        )
    )
    notes = sorted(
        ReportedPatient.objects.filter(topic=topic).values_list("pk", "curator_notes", "updated_at")
    )
    return [*rows, events, notes]


def _import(path: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command("import_cases", str(path), "--topic", SLUG, *extra, stdout=out)
    return out.getvalue()


def _rows(topic: Topic) -> list[dict[str, str]]:
    """The topic's export as text cells, the way a spreadsheet holds them."""
    rows = []
    for row in case_rows(topic):
        rows.append({k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                     for k, v in row.items()})  # fmt: skip
    return rows


def _csv(rows: list[dict[str, str]], *, delimiter: str = ",", newline: str = "\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, delimiter=delimiter, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(demo: Topic, tmp_path: Path, fmt: str) -> None:
    before = _snapshot(demo)
    assert len(before) > 10
    output = _import(_export(tmp_path, fmt))
    assert f"0 new, 0 changed, {demo.patients.count()} unchanged" in output
    assert _snapshot(demo) == before


def test_xlsx_export_stores_no_formula_and_keeps_numbers(demo: Topic, tmp_path: Path) -> None:
    sheet = load_workbook(_export(tmp_path, "xlsx")).worksheets[0]
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert str(values[0]).startswith("# Rows with demonstration_data=true")
    assert any(isinstance(v, int) and not isinstance(v, bool) for v in values)


def test_new_and_changed_rows_then_a_second_import_changes_nothing(
    demo: Topic, tmp_path: Path
) -> None:
    rows = _rows(demo)
    case = ReportedPatient.objects.get(pk=rows[0]["case_id"])
    rows[0]["setting"] = "radiation" if case.setting != "radiation" else "other"
    rows[0]["adverse_events"] = "itching (severe); new rash (mild)"
    rows[0]["prior_treatments"] = ""
    added = dict(rows[1], label="Illustrative case Z", case_id="")
    path = tmp_path / "changed.csv"
    path.write_bytes(_csv([*rows, added]))

    dry = _import(path, "--dry-run")
    assert "1 new, 1 changed" in dry and "would be" in dry
    assert not ReportedPatient.objects.filter(label="Illustrative case Z").exists()

    output = _import(path)
    assert f"row 2: {case.label}: setting, adverse_events" in output
    assert "1 new, 1 changed" in output
    case.refresh_from_db()
    assert case.setting == rows[0]["setting"]
    assert sorted(case.adverse_events.values_list("kind", "severity")) == [
        ("itching", "severe"),
        ("new rash", "mild"),
    ]
    new = ReportedPatient.objects.get(label="Illustrative case Z")
    assert new.is_demo and new.publication_id == case.publication_id
    event = AuditEvent.objects.filter(action="evidence.cases_imported").latest("pk")
    assert event.detail["new"] == 1 and event.detail["changed"] == 1

    again = _import(path)
    assert f"0 new, 0 changed, {len(rows) + 1} unchanged" in again


def test_unchanged_events_keep_their_descriptions(demo: Topic, tmp_path: Path) -> None:
    rows = _rows(demo)
    with_events = next(r for r in rows if r["adverse_events"])
    case = ReportedPatient.objects.get(pk=with_events["case_id"])
    kept = case.adverse_events.order_by("pk").first()
    assert kept is not None and kept.description
    with_events["adverse_events"] += "; fatigue (mild)"
    path = tmp_path / "more.csv"
    path.write_bytes(_csv(rows))
    _import(path)
    kept.refresh_from_db()  # still there, description and all
    assert case.adverse_events.filter(kind="fatigue", severity="mild").exists()


def _errors(topic: Topic, data: bytes, name: str = "cases.csv") -> list[str]:
    return [str(error) for error in plan_case_import(topic=topic, data=data, name=name).errors]


def test_errors_name_file_row_and_column_and_nothing_is_written(
    demo: Topic, tmp_path: Path
) -> None:
    rows = _rows(demo)
    rows[0]["setting"] = "scalp"
    rows[2]["age"] = "eighty"
    rows[3]["prior_treatments"] = "no-such-treatment"
    rows[4]["pmid"] = "99999999"
    rows[5]["demonstration_data"] = "false"  # a real case in the demonstration series
    rows[6]["recurrence"] = "false"
    rows[6]["recurrence_months"] = "4"
    rows[1]["adverse_events"] = "itching (awful)"
    rows[7]["site"] = "something else"  # a valid change, refused with the rest
    before = _snapshot(demo)
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv(rows))
    with pytest.raises(CommandError) as refused:
        _import(path)
    message = str(refused.value)
    assert "bad.csv, row 2, column setting: 'scalp' is not one of scalp_face," in message
    assert "bad.csv, row 4, column age: 'eighty' is not a number." in message
    assert "bad.csv, row 5, column prior_treatments: unknown treatment(s) no-such-treatment" in (
        message
    )
    assert "bad.csv, row 6, column pmid: no publication with PMID 99999999" in message
    assert "bad.csv, row 7, column demonstration_data:" in message
    assert "bad.csv, row 8, column recurrence_months:" in message
    assert "bad.csv, row 3, column adverse_events: 'itching (awful)': severity 'awful'" in message
    assert "nothing was imported" in message
    assert _snapshot(demo) == before


def test_duplicated_label_in_the_file(demo: Topic) -> None:
    rows = _rows(demo)
    errors = _errors(demo, _csv([*rows, dict(rows[0], case_id="")]))
    assert errors == [
        f"cases.csv, row {len(rows) + 2}, column label: {rows[0]['label']!r} of this "
        "publication is already on row 2."
    ]


def test_excel_csv_utf8_with_bom_and_crlf(demo: Topic) -> None:
    data = b"\xef\xbb\xbf" + _csv(_rows(demo), newline="\r\n")
    plan = plan_case_import(topic=demo, data=data, name="excel.csv")
    assert plan.errors == [] and plan.counts["unchanged"] == demo.patients.count()


def test_european_excel_semicolons_and_decimal_commas(demo: Topic) -> None:
    rows = _rows(demo)
    case_row = next(r for r in rows if r["follow_up_months"])
    case_row["follow_up_months"] = "18,5"
    plan = plan_case_import(topic=demo, data=_csv(rows, delimiter=";"), name="europe.csv")
    assert plan.errors == []
    changed = [c for c in plan.cases if c.action == "changed"]
    assert len(changed) == 1 and changed[0].changes[0].column == "follow_up_months"
    assert changed[0].changes[0].new == "18.5"


def test_utf16_unicode_text_with_tabs(demo: Topic) -> None:
    text = _csv(_rows(demo), delimiter="\t").decode()
    plan = plan_case_import(topic=demo, data=text.encode("utf-16"), name="unicode.txt")
    assert plan.errors == [] and plan.counts["unchanged"] == demo.patients.count()


def test_windows_1252_is_refused_with_a_clear_error(demo: Topic) -> None:
    rows = _rows(demo)
    rows[0]["site"] = "épaule"
    data = _csv(rows).decode().encode("cp1252")
    position = data.index("é".encode("cp1252"))
    assert _errors(demo, data, "latin.csv") == [
        f"latin.csv: not UTF-8 text (byte 0xe9 at position {position}). "
        "Save the sheet as “CSV UTF-8”, or as .xlsx."
    ]


def test_empty_rows_and_trailing_empty_cells_are_skipped(demo: Topic) -> None:
    rows = _rows(demo)
    data = _csv(rows).replace(b"\n", b"\n,,,,\n\n", 2)
    plan = plan_case_import(topic=demo, data=data, name="gaps.csv")
    assert plan.errors == [] and len(plan.cases) == len(rows)


def test_formula_looking_cells_are_refused_unless_quoted(demo: Topic) -> None:
    rows = _rows(demo)
    rows[0]["site"] = '=HYPERLINK("http://evil.example","x")'
    rows[1]["label"] = "+1 case"
    errors = _errors(demo, _csv(rows))
    assert len(errors) == 2
    assert errors[0].startswith("cases.csv, row 2, column site: '=HYPERLINK(")
    assert "starts like a spreadsheet formula" in errors[0]
    assert errors[1].startswith("cases.csv, row 3, column label: '+1 case'")
    rows[0]["site"], rows[1]["label"] = "'=scalp", rows[1]["label"]
    rows[1]["label"] = _rows(demo)[1]["label"]
    plan = plan_case_import(topic=demo, data=_csv(rows), name="quoted.csv")
    assert plan.errors == []
    assert plan.cases[0].changes[0].new == "=scalp"  # stored as text, exported quoted again


def test_formula_cells_in_a_workbook_are_refused(demo: Topic) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in _rows(demo):
        sheet.append([row[name] for name in HEADER])
    sheet["K2"] = "=1+1"  # site
    buffer = io.BytesIO()
    book.save(buffer)
    errors = _errors(demo, buffer.getvalue(), "book.xlsx")
    assert len(errors) == 1 and errors[0].startswith("book.xlsx, row 2, column site: '=1+1'")


def test_huge_files_and_too_many_rows_are_refused(
    demo: Topic, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = b"x" * (case_import.MAX_FILE_BYTES + 1)
    assert _errors(demo, big, "big.csv") == [
        f"big.csv: {len(big):,} bytes is more than the 2,000,000 allowed; split the file."
    ]
    monkeypatch.setattr(case_import, "MAX_ROWS", 3)
    assert _errors(demo, _csv(_rows(demo))) == ["cases.csv: more than 3 cases; split the file."]


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_reading(
    demo: Topic, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    book = _export(tmp_path, "xlsx").read_bytes()
    monkeypatch.setattr(case_import, "MAX_XLSX_UNPACKED_BYTES", 1000)
    errors = _errors(demo, book, "bomb.xlsx")
    assert len(errors) == 1 and errors[0].startswith("bomb.xlsx: the workbook unpacks to ")
    assert errors[0].endswith("more than the 1,000 allowed; split the file.")


def test_a_new_case_makes_its_publication_a_source_of_the_topic(demo: Topic) -> None:
    publication = Publication.objects.create(
        title="A real report", title_normalized="a real report", pmid="12345678", year=2020
    )
    row = dict(_rows(demo)[0], demonstration_data="false", pmid="12345678", label="Case 1")
    import_cases(topic=demo, data=_csv([row]), name="real.csv")
    assert publication.topics.filter(pk=demo.pk).exists()
    case = ReportedPatient.objects.get(publication=publication, label="Case 1")
    assert case.topic == demo and not case.is_demo


def test_header_problems(demo: Topic) -> None:
    data = _csv(_rows(demo)).replace(b"lesion_depth", b"depth", 1)
    assert _errors(demo, data) == [
        "cases.csv: unknown column(s) 'depth'; the columns are those of export_cases "
        "(docs/cases-spreadsheet.md)."
    ]
    assert _errors(demo, b"label,pmid\n") == [
        "cases.csv: missing column(s) " + ", ".join(c for c in HEADER if c not in ("label", "pmid"))
        + "."
    ]  # fmt: skip
    assert _errors(demo, b"\n\n") == ["cases.csv: the file is empty."]
    assert _errors(demo, b"PK\x03\x04 not a zip", "x.xlsx")[0].startswith(
        "x.xlsx: not a readable .xlsx workbook"
    )


def test_confirm_refuses_when_the_cases_changed_since_the_preview(demo: Topic) -> None:
    rows = _rows(demo)
    rows[0]["site"] = "left temple"
    data = _csv(rows)
    preview = plan_case_import(topic=demo, data=data, name="cases.csv")
    case = ReportedPatient.objects.get(pk=rows[0]["case_id"])
    case.site = "nose"  # someone edits the case between preview and confirm
    case.save()
    with pytest.raises(CaseImportRefused, match="changed since the preview"):
        import_cases(
            topic=demo, data=data, name="cases.csv", expected_fingerprint=preview.fingerprint
        )
    case.refresh_from_db()
    assert case.site == "nose"
    fresh = plan_case_import(topic=demo, data=data, name="cases.csv")
    result = import_cases(
        topic=demo, data=data, name="cases.csv", expected_fingerprint=fresh.fingerprint
    )
    assert result.changed == 1
    case.refresh_from_db()
    assert case.site == "left temple"


def test_unknown_topic_and_missing_file(demo: Topic, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No topic with slug 'nope'"):
        call_command("import_cases", str(tmp_path / "x.csv"), "--topic", "nope")
    with pytest.raises(CommandError, match=r"x\.csv: No such file"):
        _import(tmp_path / "x.csv")
