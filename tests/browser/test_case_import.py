"""Issue #16 §2 in a real browser: an Editor uploads a spreadsheet, reads the preview, confirms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from evidencepress.core import roles
from evidencepress.demo.loader import load_demo
from evidencepress.evidence.export import case_rows, xlsx_bytes
from evidencepress.evidence.models import ReportedPatient, Topic

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS, sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def editor(transactional_db: None) -> Any:
    ensure_wagtail_tree()
    roles.ensure_roles()
    load_demo()
    user = get_user_model().objects.create_user("eddie", "eddie@example.org", PASSWORD)
    user.groups.add(Group.objects.get(name=roles.EDITORS))
    return user


def _workbook(tmp_path: Path, topic: Topic) -> tuple[Path, ReportedPatient]:
    """The topic's export as .xlsx, with one site changed and one case added, as a team would."""
    rows = list(case_rows(topic))
    path = tmp_path / "cases.xlsx"
    path.write_bytes(xlsx_bytes(rows, note="invented cases"))
    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[2]]
    site, label, case_id = (header.index(n) + 1 for n in ("site", "label", "case_id"))
    sheet.cell(row=3, column=site, value="left temple")
    sheet.append([cell.value for cell in sheet[4]])
    sheet.cell(row=sheet.max_row, column=label, value="Illustrative case Z")
    sheet.cell(row=sheet.max_row, column=case_id, value=None)
    book.save(path)
    return path, ReportedPatient.objects.get(pk=rows[0]["case_id"])


def test_an_editor_uploads_previews_and_confirms(
    live_server: Any, page: Any, editor: Any, tmp_path: Path
) -> None:
    topic = Topic.objects.get(slug="imiquimod-angiosarcoma")
    path, first = _workbook(tmp_path, topic)
    old_site = first.site
    sign_in_to_admin(page, live_server.url, "eddie", PASSWORD)
    page.goto(live_server.url + "/admin/reportedpatient/")
    page.get_by_role("link", name="Import from spreadsheet").click()
    page.wait_for_url("**/admin/reportedpatient/import/")
    page.select_option("select[name=topic]", label=topic.name)
    page.set_input_files("input[name=file]", str(path))
    page.get_by_role("button", name="Preview").click()

    counts = page.locator("#import-counts").inner_text()
    assert counts.startswith("1 new, 1 changed")
    changed = page.locator("#import-changed").inner_text()
    assert "site" in changed and old_site in changed and "left temple" in changed
    assert "Illustrative case Z" in page.locator("#import-new").inner_text()
    first.refresh_from_db()
    assert first.site == old_site  # nothing written by the preview
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "case-import-preview.png"), full_page=True)

    page.get_by_role("button", name="Import 1 new and 1 changed case").click()
    page.wait_for_url("**/admin/reportedpatient/")
    assert "cases.xlsx imported into" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "case-import-done.png"), full_page=True)
    first.refresh_from_db()
    assert first.site == "left temple"
    assert ReportedPatient.objects.filter(topic=topic, label="Illustrative case Z").exists()
