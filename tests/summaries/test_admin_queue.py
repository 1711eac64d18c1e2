"""The review queue as an editor uses it: buttons call the services and every step is audited."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client

from evidencepress.core.models import AuditEvent
from evidencepress.summaries.models import SummaryRequest

from .conftest import submit


def press(client: Client, summary_request: SummaryRequest, name: str, **data: str) -> str:
    response = client.post(
        f"/admin/summaries/{summary_request.public_id}/{name}/", data, follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


def test_an_editor_and_a_clinician_take_a_request_from_new_to_sent(
    client: Client, new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    client.force_login(editor)
    page = press(client, new_request, "draft")
    assert "Drafted from the evidence." in page
    assert "Reading grade (Flesch–Kincaid)" in page
    assert "Illustrative case A" in page
    assert "Demonstration data — not medical evidence" in page
    page = press(client, new_request, "save", text="A short text.\n\nIt is plain and kind.")
    assert "Summary saved" in page
    page = press(client, new_request, "review")
    assert "Approve as editor" in page
    assert "A clinician reviewer must also approve" in page  # this editor is no clinician
    press(client, new_request, "approve_editor")
    page = press(client, new_request, "send")
    assert "must both approve" in page
    assert mail.outbox == []
    client.force_login(clinician)
    page = press(client, new_request, "approve_clinician")
    assert "Send to the reader" in page
    page = press(client, new_request, "send")
    assert "The summary was emailed." in page
    assert SummaryRequest.objects.get(pk=new_request.pk).status == "sent"
    assert "A short text." in mail.outbox[0].body
    actions = set(
        AuditEvent.objects.for_object("summary_request", str(new_request.public_id)).values_list(
            "action", flat=True
        )
    )
    assert {
        "summary_request.drafted",
        "summary_request.edited",
        "summary_request.submitted_for_review",
        "summary_request.approved_editor",
        "summary_request.approved_clinician",
        "summary_request.sent",
        "summary_request.viewed",
    } <= actions
    staff_events = AuditEvent.objects.exclude(actor_id=None).filter(
        object_id=str(new_request.public_id)
    )
    assert all(event.source_ip == "127.0.0.1" for event in staff_events)
    assert {event.actor_username for event in staff_events} == {"sam-editor", "dr-clin"}


def test_decline_with_and_without_a_reason(
    client: Client, new_request: SummaryRequest, editor: Any
) -> None:
    client.force_login(editor)
    page = press(client, new_request, "decline", reason="")
    assert "Give a reason for declining" in page
    assert SummaryRequest.objects.get(pk=new_request.pk).status == "new"
    page = press(client, new_request, "decline", reason="We cover this topic next month.")
    assert "The request was declined." in page
    assert "We cover this topic next month." in page
    assert AuditEvent.objects.filter(action="summary_request.declined").count() == 1


def test_erase_deletes_at_once_and_leaves_an_audit_fact(
    client: Client, topic: Any, editor: Any
) -> None:
    summary_request = submit(topic)
    client.force_login(editor)
    page = press(client, summary_request, "erase")
    assert "deleted" in page
    assert not SummaryRequest.objects.filter(pk=summary_request.pk).exists()
    event = AuditEvent.objects.get(action="summary_request.erased")
    assert event.actor_username == "sam-editor"
    assert event.object_id == str(summary_request.public_id)


def test_the_queue_filters_by_status(client: Client, topic: Any, editor: Any) -> None:
    first, second = submit(topic), submit(topic)
    second.status = "declined"
    second.declined_at = second.submitted_at
    second.decline_reason = "x"
    second.save()
    client.force_login(editor)
    page = client.get("/admin/summaries/?status=declined").content.decode()
    assert second.reference in page and first.reference not in page
    page = client.get("/admin/summaries/?status=nonsense").content.decode()
    assert second.reference in page and first.reference in page


def test_audit_rows_cannot_be_changed_or_deleted(new_request: SummaryRequest) -> None:
    import pytest

    event = AuditEvent.objects.first()
    assert event is not None
    event.action = "forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="forged")
    assert not AuditEvent.objects.filter(action="forged").exists()


def test_a_draft_that_found_no_match_does_not_ask_to_draft_first(
    client: Client, topic: Any, editor: Any
) -> None:
    """Issue 15 §2: "No matched cases yet: draft from the evidence first" showed after a draft."""
    nothing_alike = submit(
        topic,
        situation={"setting": "other", "site": "foot", "lesion_depth": "unknown"},
    )
    client.force_login(editor)
    before = client.get(f"/admin/summaries/{nothing_alike.public_id}/").content.decode()
    assert "No matched cases yet: draft from the evidence first." in before
    page = press(client, nothing_alike, "draft")
    assert SummaryRequest.objects.get(pk=nothing_alike.pk).draft_matches == []
    assert "No matched cases yet" not in page
    assert "The draft from the evidence found no reported case like theirs" in page
    # An editor's own text, never drafted from the evidence, still says to draft first.
    typed = submit(topic)
    press(client, typed, "save", text="Written by hand.")
    assert "No matched cases yet: draft from the evidence first." in (
        client.get(f"/admin/summaries/{typed.public_id}/").content.decode()
    )


def test_the_preview_shows_the_drafts_structure(
    client: Client, new_request: SummaryRequest, editor: Any
) -> None:
    client.force_login(editor)
    page = press(client, new_request, "draft")
    preview = page.split('<div class="summary-preview">')[1].split("</div>")[0]
    assert "<h1>Plain-language summary: Imiquimod for cutaneous angiosarcoma</h1>" in preview
    assert "<h2>What to expect</h2>" in preview
    assert '<section class="summary-section summary-demo">' in preview
    assert "<ul><li>" in preview
    assert "<ol><li>" in preview.split("<h2>Sources</h2>")[1]
    assert "## " not in preview
