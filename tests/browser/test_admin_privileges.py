"""Issue #14 in a real browser: what a hostile Admin, a Summary editor and a superuser see."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from evidencepress.core import roles
from evidencepress.core.models import AuditEvent

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS, sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def staff(transactional_db: None) -> dict[str, Any]:
    ensure_wagtail_tree()
    roles.ensure_roles()
    users = get_user_model().objects
    people = {
        "admin": users.create_user("hostile-admin", "a@example.org", PASSWORD),
        "sue": users.create_user("sue", "sue@example.org", PASSWORD),
        "root": users.create_superuser("root", "root@example.org", PASSWORD),
    }
    people["admin"].groups.add(Group.objects.get(name=roles.ADMINS))
    people["sue"].groups.add(Group.objects.get(name=roles.SUMMARY_EDITORS))
    return people


def _stored_request() -> Any:
    from evidencepress.evidence.models import Topic
    from evidencepress.summaries.services import summary_request_submit

    topic = Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
    )
    return summary_request_submit(
        topic=topic,
        email="reader@example.com",
        situation={"setting": "scalp_face", "question": "could the cream help me?"},
        detail="short",
        consent_version="test",
    )


def failed_requests(page: Any) -> list[str]:
    failures: list[str] = []
    page.on(
        "response",
        lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return failures


def test_an_admin_finds_the_superuser_box_locked_and_no_summary_editors_role(
    live_server: Any, page: Any, staff: dict[str, Any]
) -> None:
    sign_in_to_admin(page, live_server.url, "hostile-admin", PASSWORD)
    page.goto(live_server.url + "/admin/users/new/")
    page.locator("#tab-label-roles").click()
    superuser_box = page.locator("input[name=is_superuser]")
    assert superuser_box.is_disabled()
    roles_tab = page.locator("#tab-roles").inner_text()
    assert roles.ADMINS in roles_tab and roles.EDITORS in roles_tab
    assert "Summary editors can only be appointed by a superuser" in roles_tab
    labels = page.locator("#tab-roles input[name=groups]").evaluate_all(
        "boxes => boxes.map(b => b.closest('label').innerText.trim())"
    )
    assert roles.SUMMARY_EDITORS not in labels and roles.ADMINS in labels
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-add-user-roles.png"), full_page=True)
    # The Summary editor's account cannot be opened at all.
    response = page.goto(live_server.url + f"/admin/users/edit/{staff['sue'].pk}/")
    assert response.status == 403 or "/admin/users/edit/" not in page.url


def test_a_summary_editor_sees_their_queue_and_nothing_else(
    live_server: Any, page: Any, staff: dict[str, Any]
) -> None:
    failures = failed_requests(page)
    sign_in_to_admin(page, live_server.url, "sue", PASSWORD)
    menu = page.locator("#wagtail-sidebar").inner_text()
    assert "Summary requests" in menu
    assert "Reports" not in menu and "Pages" not in menu and "Audit log" not in menu
    summary_request = _stored_request()
    page.get_by_role("link", name="Summary requests").click()
    page.wait_for_url("**/admin/summaries/")
    assert page.get_by_role("heading", name="Summary requests").first.is_visible()
    page.get_by_role("link", name=summary_request.reference).first.click()
    page.wait_for_url(f"**/admin/summaries/{summary_request.public_id}/")
    assert "could the cream help" in page.inner_text("main")
    page.goto(live_server.url + "/admin/account/")
    assert failures == []  # their pages load nothing that the confinement refuses
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "summary-editor-account.png"), full_page=True)
    response = page.goto(live_server.url + "/admin/reports/review-due/")
    assert response.status == 403 or "review-due" not in page.url


def test_a_superuser_filters_the_audit_log(
    live_server: Any, page: Any, staff: dict[str, Any]
) -> None:
    AuditEvent.objects.create(
        actor_username="sue",
        action="summary_request.exported",
        object_type="summary_request",
        object_id="needle-0001",
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(actor_username="busy", action="summary_request.viewed", object_id=f"hay-{i}")
        for i in range(120)
    )
    sign_in_to_admin(page, live_server.url, "root", PASSWORD)
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/admin/audit/")
    assert "needle-0001" not in page.inner_text("main")  # far down, behind 120 later events
    # The filters drawer, as a person uses it: the results refresh on each change.
    page.get_by_role("button", name="Show filters").click()
    page.locator("button[aria-controls=drilldown-id_action]").click()
    page.get_by_label("Action", exact=True).select_option("summary_request.exported")
    page.wait_for_url("**action=summary_request.exported**")
    page.get_by_text("There is 1 match").wait_for()
    main = page.inner_text("main")
    assert "needle-0001" in main and "hay-" not in main
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "audit-log-filtered.png"), full_page=True)
