"""Issue #16 §2 in the admin: upload a spreadsheet of cases, preview, confirm."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import ModelLogEntry

from evidencepress.core.models import AuditEvent
from evidencepress.demo.loader import load_demo
from evidencepress.evidence.export import COLUMNS, case_rows
from evidencepress.evidence.import_views import SESSION_KEY
from evidencepress.evidence.models import ReportedPatient, Topic

pytestmark = pytest.mark.django_db
URL = "/admin/reportedpatient/import/"


@pytest.fixture
def demo() -> Topic:
    load_demo()
    return Topic.objects.get(slug="imiquimod-angiosarcoma")


def _user(django_user_model: Any, name: str, *codenames: str) -> Any:
    group = Group.objects.create(name=f"group {name}")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(content_type__app_label="evidence", codename__in=codenames),
    )
    user = django_user_model.objects.create_user(name, f"{name}@example.org", "a-passphrase-42")
    user.groups.add(group)
    return user


@pytest.fixture
def curator(django_user_model: Any) -> Any:
    return _user(django_user_model, "curator", "add_reportedpatient", "change_reportedpatient")


def _file(topic: Topic, *, edit: Any = None, name: str = "cases.csv") -> SimpleUploadedFile:
    rows = [
        {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
         for k, v in row.items()}
        for row in case_rows(topic)
    ]  # fmt: skip
    if edit:
        edit(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[name for name, _ in COLUMNS])
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def _change_first_site(rows: list[dict[str, str]]) -> None:
    rows[0]["site"] = "left temple"


def test_url_is_the_viewsets(demo: Topic) -> None:
    assert reverse("reportedpatient:import") == URL


def test_preview_shows_changes_and_writes_nothing_then_confirm_applies_them(
    client: Any, curator: Any, demo: Topic
) -> None:
    client.force_login(curator)
    assert "Import from spreadsheet" in client.get(reverse("reportedpatient:index")).text
    first = ReportedPatient.objects.get(pk=next(case_rows(demo))["case_id"])
    old_site = first.site
    preview = client.post(URL, {"topic": demo.pk, "file": _file(demo, edit=_change_first_site)})
    page = preview.text
    assert preview.status_code == 200
    assert "<strong>0 new</strong>, <strong>1 changed</strong>" in page
    assert f"<del>{old_site}</del>" in page and "<ins>left temple</ins>" in page
    first.refresh_from_db()
    assert first.site == old_site  # the preview wrote nothing

    fingerprint = preview.context["plan"].fingerprint
    done = client.post(URL, {"confirm": "1", "fingerprint": fingerprint}, follow=True)
    assert "0 new, 1 changed" in done.text
    first.refresh_from_db()
    assert first.site == "left temple"
    event = AuditEvent.objects.get(action="evidence.cases_imported")
    assert event.actor_id == curator.pk and event.detail["changed"] == 1
    # The evidence history (evidence/history.py) has the change, by whom, and from which row.
    entry = ModelLogEntry.objects.for_instance(first).get(action="evidence.change")
    assert entry.user_id == curator.pk
    assert entry.data["reason"] == "Imported from cases.csv, row 2"
    assert list(entry.data["changes"].values()) == [[old_site, "left temple"]]
    assert SESSION_KEY not in client.session


def test_confirm_refuses_what_was_not_previewed(client: Any, curator: Any, demo: Topic) -> None:
    client.force_login(curator)
    preview = client.post(URL, {"topic": demo.pk, "file": _file(demo, edit=_change_first_site)})
    fingerprint = preview.context["plan"].fingerprint
    first = ReportedPatient.objects.get(pk=next(case_rows(demo))["case_id"])
    first.site = "nose"  # someone else edits the case meanwhile
    first.save()
    refused = client.post(URL, {"confirm": "1", "fingerprint": fingerprint})
    assert "changed since the preview" in refused.text
    first.refresh_from_db()
    assert first.site == "nose"
    assert not AuditEvent.objects.filter(action="evidence.cases_imported").exists()
    # A forged fingerprint is refused the same way, and without a preview nothing happens.
    client.post(URL, {"topic": demo.pk, "file": _file(demo, edit=_change_first_site)})
    client.post(URL, {"confirm": "1", "fingerprint": "0" * 64})
    first.refresh_from_db()
    assert first.site == "nose"
    expired = client.post(URL, {"confirm": "1", "fingerprint": fingerprint}, follow=True)
    assert "The preview has expired" in expired.text


def test_errors_are_listed_and_there_is_nothing_to_confirm(
    client: Any, curator: Any, demo: Topic
) -> None:
    client.force_login(curator)

    def bad(rows: list[dict[str, str]]) -> None:
        rows[1]["setting"] = "<b>scalp</b>"

    page = client.post(URL, {"topic": demo.pk, "file": _file(demo, edit=bad)}).text
    assert "1 error: nothing can be imported." in page
    assert "&#x27;&lt;b&gt;scalp&lt;/b&gt;&#x27; is not one of" in page  # escaped
    assert 'name="confirm"' not in page
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    "codenames",
    [
        (),
        ("view_reportedpatient",),
        ("change_reportedpatient",),  # may edit, but not add: an import adds cases
        ("add_reportedpatient",),
    ],
)
def test_only_people_who_may_add_and_change_cases_may_import(
    client: Any, django_user_model: Any, demo: Topic, codenames: tuple[str, ...]
) -> None:
    client.force_login(_user(django_user_model, "someone", *codenames))
    first = ReportedPatient.objects.get(pk=next(case_rows(demo))["case_id"])
    for response in (
        client.get(URL),
        client.post(URL, {"topic": demo.pk, "file": _file(demo, edit=_change_first_site)}),
        client.post(URL, {"confirm": "1", "fingerprint": "x"}),
    ):
        assert response.status_code in (302, 403)
        assert "Import cases" not in response.text
    first.refresh_from_db()
    assert first.site != "left temple"
    if "view_reportedpatient" in codenames or "change_reportedpatient" in codenames:
        index = client.get(reverse("reportedpatient:index")).text
        assert "Import from spreadsheet" not in index


def test_anonymous_is_sent_to_sign_in(client: Any, demo: Topic) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_file_over_the_limit_is_refused_by_the_form(
    client: Any, curator: Any, demo: Topic
) -> None:
    client.force_login(curator)
    big = SimpleUploadedFile("big.csv", b"x" * 2_000_001, content_type="text/csv")
    page = client.post(URL, {"topic": demo.pk, "file": big}).text
    assert "big.csv is larger than the 2,000,000 bytes allowed" in page
