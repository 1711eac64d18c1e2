"""Fired safety rules in drafts, in the reviewer's checklist, and as a condition of approval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from evidencepress.evidence.models import Topic
from evidencepress.evidence.rulesets import safety_rules_approve_for_demo
from evidencepress.summaries import services
from evidencepress.summaries.exceptions import SummaryRequestError
from evidencepress.summaries.models import SummaryRequest

from .conftest import submit

RULES = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "evidencepress/demo/data/topics/imiquimod-angiosarcoma.json"
    ).read_text(encoding="utf-8")
)["safety_rules"]
STATEMENTS = {rule["id"]: rule["statements"] for rule in RULES}


@pytest.fixture
def rules(topic: Topic) -> None:
    safety_rules_approve_for_demo(topic=topic, rules=RULES)


def pregnant_request(topic: Topic) -> SummaryRequest:
    return submit(
        topic,
        situation={
            "lesion_depth": "nodular",
            "question": "I found out I'm pregnant. Could the cream replace the surgery?",
        },
    )


def test_a_draft_carries_each_fired_rules_statements_near_the_top(
    topic: Topic, rules: None, editor: Any
) -> None:
    summary_request = pregnant_request(topic)
    services.summary_request_draft(summary_request=summary_request, user=editor)
    text = summary_request.drafted_text
    for rule_id in ("pregnancy", "beyond-reach", "instead-of"):
        for statement in STATEMENTS[rule_id]:
            assert statement in text
    for statement in STATEMENTS["child"] + STATEMENTS["nothing-known"]:
        assert statement not in text
    # A heading of its own (plain text may mark headings with "## ").
    headings = [line.lstrip("# ") for line in text.split("\n\n")]
    assert "Important for this situation" in headings
    assert text.index("Important for this situation") < text.index("How sure can anyone be?")


def test_no_rules_fire_before_a_clinician_approves_them(topic: Topic, editor: Any) -> None:
    summary_request = pregnant_request(topic)
    services.summary_request_draft(summary_request=summary_request, user=editor)
    assert "Important for this situation" not in summary_request.drafted_text


def test_approval_is_refused_while_an_edit_leaves_a_statement_out(
    topic: Topic, rules: None, editor: Any, clinician: Any
) -> None:
    summary_request = pregnant_request(topic)
    services.summary_request_draft(summary_request=summary_request, user=editor)
    full = summary_request.drafted_text
    cut = full.replace(STATEMENTS["pregnancy"][0], "Tell your doctor.")
    services.summary_request_draft(summary_request=summary_request, user=editor, text=cut)
    services.summary_request_review(summary_request=summary_request, user=editor)
    for user, role in ((editor, "editor"), (clinician, "clinician")):
        with pytest.raises(SummaryRequestError, match="Pregnancy, breastfeeding or trying"):
            services.summary_request_approve(summary_request=summary_request, user=user, role=role)
    summary_request.refresh_from_db()
    assert summary_request.status == "in_review" and summary_request.editor_approved_at is None
    # Rewrapped, the statement still counts; put back, approval goes through.
    rewrapped = full.replace(
        STATEMENTS["pregnancy"][0], STATEMENTS["pregnancy"][0].replace(" before ", "\nbefore ")
    )
    services.summary_request_draft(summary_request=summary_request, user=editor, text=rewrapped)
    services.summary_request_review(summary_request=summary_request, user=editor)
    services.summary_request_approve(summary_request=summary_request, user=editor, role="editor")
    services.summary_request_approve(
        summary_request=summary_request, user=clinician, role="clinician"
    )
    assert summary_request.status == "approved"


def test_the_reviewer_sees_the_checklist_beside_the_draft(
    client: Client, topic: Topic, rules: None, editor: Any
) -> None:
    summary_request = pregnant_request(topic)
    client.force_login(editor)
    url = f"/admin/summaries/{summary_request.public_id}/"
    page = client.get(url).content.decode()
    assert "Safety checklist" in page
    assert "Pregnancy, breastfeeding or trying for a baby" in page
    assert "Free text (their question): “pregnant”" in page
    services.summary_request_draft(summary_request=summary_request, user=editor)
    page = client.get(url).content.decode()
    assert "missing from the draft" not in page and "in the draft" in page
    services.summary_request_draft(
        summary_request=summary_request,
        user=editor,
        text=summary_request.drafted_text.replace(STATEMENTS["instead-of"][1], ""),
    )
    page = client.get(url).content.decode()
    assert page.count("missing from the draft") == 1
    assert "Missing:</span> " + STATEMENTS["instead-of"][1] in page


def test_no_rule_applies_says_so(client: Client, topic: Topic, rules: None, editor: Any) -> None:
    summary_request = submit(topic)
    client.force_login(editor)
    page = client.get(f"/admin/summaries/{summary_request.public_id}/").content.decode()
    assert "No safety rule applies to this reader." in page
