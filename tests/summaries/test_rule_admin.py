"""The safety rules' admin in the Summary editors' area: who sees, edits and approves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from evidencepress.evidence.models import SafetyRuleSet, Topic
from evidencepress.evidence.rulesets import active_safety_rules

from .conftest import make_user

RULES = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "evidencepress/demo/data/topics/imiquimod-angiosarcoma.json"
    ).read_text(encoding="utf-8")
)["safety_rules"]
BASE = "/admin/summaries/rules"


def rules_clinician(name: str) -> Any:
    user = make_user(name, group=True, clinician=True)
    user.user_permissions.add(Permission.objects.get(codename="approve_safetyruleset"))
    return type(user).objects.get(pk=user.pk)


def post(client: Client, url: str, **data: str) -> str:
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("path", ["/", "/imiquimod-angiosarcoma/"])
def test_only_summary_editors_see_the_rules(
    client: Client, topic: Topic, plain_staff: Any, outside_clinician: Any, path: str
) -> None:
    assert client.get(f"{BASE}{path}").status_code == 302  # to the sign-in page
    for user in (plain_staff, outside_clinician):
        client.force_login(user)
        response = client.get(f"{BASE}{path}")
        # Wagtail turns a refused admin page into a redirect to the dashboard.
        assert response.status_code == 403 or response["Location"] == "/admin/"
        response = client.post(f"{BASE}/{topic.slug}/save/", {"rules": json.dumps(RULES)})
        assert response.status_code == 403 or response["Location"] == "/admin/"
    assert not SafetyRuleSet.objects.exists()


def test_an_editor_drafts_and_a_clinician_approves(
    client: Client, topic: Topic, editor: Any
) -> None:
    client.force_login(editor)
    page = client.get(f"{BASE}/").content.decode()
    assert "None: drafts apply no rules" in page
    page = post(
        client, f"{BASE}/{topic.slug}/save/", rules=json.dumps(RULES), note="From the issue"
    )
    assert "Draft version 1 saved." in page
    assert "A clinician reviewer must approve this draft" in page
    assert RULES[0]["statements"][0] in page
    # The editor cannot approve, by the button's address either.
    page = post(client, f"{BASE}/{topic.slug}/1/approve/")
    assert "Only a clinician reviewer can approve" in page
    assert active_safety_rules(topic) == ()

    clinician = rules_clinician("dr-rules")
    client.force_login(clinician)
    page = client.get(f"{BASE}/{topic.slug}/").content.decode()
    assert "Approve version 1 as clinician" in page
    page = post(client, f"{BASE}/{topic.slug}/1/approve/")
    assert "Version 1 approved" in page
    assert [r["id"] for r in active_safety_rules(topic)] == [r["id"] for r in RULES]


def test_a_clinician_cannot_approve_their_own_edit(client: Client, topic: Topic) -> None:
    clinician = rules_clinician("dr-rules")
    client.force_login(clinician)
    post(client, f"{BASE}/{topic.slug}/save/", rules=json.dumps(RULES))
    page = post(client, f"{BASE}/{topic.slug}/1/approve/")
    assert "another clinician must approve it" in page
    assert SafetyRuleSet.objects.get().status == "draft"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[{", "not valid JSON (line 1, column 3)"),
        (json.dumps([{"id": "x"}]), "is a required property"),
        (
            json.dumps([{**RULES[0], "statements": ["Put it on 5 times a week."]}]),
            "must not give a dose",
        ),
    ],
)
def test_bad_rules_are_refused_with_a_reason_and_nothing_changes(
    client: Client, topic: Topic, editor: Any, text: str, message: str
) -> None:
    client.force_login(editor)
    page = post(client, f"{BASE}/{topic.slug}/save/", rules=text)
    assert message in page
    assert not SafetyRuleSet.objects.exists()
