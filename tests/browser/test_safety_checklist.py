"""A Summary editor drafts a pregnant reader's summary and sees the safety checklist beside it;
the rules' admin lists the active version. Screenshots at desktop width."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from evidencepress.core import roles
from evidencepress.evidence.models import Topic
from evidencepress.evidence.rulesets import safety_rules_approve_for_demo
from evidencepress.summaries.services import summary_request_submit

from ..conftest import ensure_wagtail_tree
from ..summaries.definitions import DEMO_DATA
from .conftest import ARTIFACTS, sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 42"
RULES = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "evidencepress/demo/data/topics/imiquimod-angiosarcoma.json"
    ).read_text(encoding="utf-8")
)["safety_rules"]


def test_the_reviewer_sees_which_rules_fired_why_and_what_is_missing(
    live_server: Any, page: Any
) -> None:
    ensure_wagtail_tree()
    roles.ensure_roles()
    sue = get_user_model().objects.create_user("sue", "sue@example.org", PASSWORD)
    sue.groups.add(Group.objects.get(name=roles.SUMMARY_EDITORS))
    topic = Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma", slug="imiquimod-angiosarcoma",
        treatment="Imiquimod", condition="Cutaneous angiosarcoma", definition=DEMO_DATA,
    )  # fmt: skip
    safety_rules_approve_for_demo(topic=topic, rules=RULES)
    summary_request = summary_request_submit(
        topic=topic,
        email="reader@example.com",
        situation={
            "setting": "scalp_face",
            "lesion_depth": "nodular",
            "question": "I'm pregnant. Could the cream be used instead of surgery?",
            "for_whom": "self",
        },
        detail="short",
        consent_version="test",
    )
    sign_in_to_admin(page, live_server.url, "sue", PASSWORD)
    page.goto(live_server.url + f"/admin/summaries/{summary_request.public_id}/")
    page.get_by_role("button", name="Draft from the evidence").click()
    checklist = page.locator(".safety-checklist")
    text = checklist.inner_text()
    for title in (
        "A lump, or disease that is deep, large or widespread",
        "Pregnancy, breastfeeding or trying for a baby",
        "Using the cream instead of another treatment",
    ):
        assert title in text
    assert "missing from the draft" not in text
    assert "“pregnant” in" in text
    # The checklist sits beside the draft on a wide screen.
    draft_box = page.locator(".summary-review__draft").bounding_box()
    check_box = checklist.bounding_box()
    assert draft_box is not None and check_box is not None
    assert check_box["x"] > draft_box["x"] + draft_box["width"] - 1
    # The editor cuts a statement: the checklist says it is missing.
    area = page.get_by_label("Summary text")
    area.fill(area.input_value().replace(RULES[1]["statements"][0], ""))
    page.get_by_role("button", name="Save my edits").click()
    assert "missing from the draft" in page.locator(".safety-checklist").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    # The admin scrolls inside its own pane: take the draft and the checklist themselves.
    page.locator(".summary-review").screenshot(path=str(ARTIFACTS / "safety-checklist.png"))
    page.get_by_role("link", name="Summary safety rules").click()
    page.wait_for_url("**/admin/summaries/rules/")
    assert "Version 1, 6 rules (demo: not approved by a clinician)" in page.inner_text("main")
