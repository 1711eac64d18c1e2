"""The review workflow: new → drafted → in review → approved → sent, or declined."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from evidencepress.core.models import AuditEvent
from evidencepress.summaries import services
from evidencepress.summaries.models import SummaryRequest

from .conftest import make_user, submit

Status = SummaryRequest.Status


def reviewed(summary_request: SummaryRequest, editor: Any) -> SummaryRequest:
    services.summary_request_draft(summary_request=summary_request, user=editor)
    return services.summary_request_review(summary_request=summary_request, user=editor)


def test_drafting_fills_text_grade_and_matched_cases_with_demo_flags(
    new_request: SummaryRequest, editor: Any
) -> None:
    services.summary_request_draft(summary_request=new_request, user=editor)
    stored = SummaryRequest.objects.get(pk=new_request.pk)
    assert stored.status == Status.DRAFTED
    assert stored.drafted_text.strip()
    assert stored.draft_grade is not None
    assert stored.draft_contains_demo is True
    labels = [match["label"] for match in stored.draft_matches]
    assert labels[0] == "Illustrative case A"  # the scalp, superficial case ranks first
    assert all(match["is_demo"] for match in stored.draft_matches)
    assert "setting" in stored.draft_matches[0]["matched"]


def test_a_generated_draft_and_the_same_text_edited_in_get_one_grade(
    topic: Any, new_request: SummaryRequest, editor: Any
) -> None:
    """The edited text is graded by the same function as the generated one (#16: was 6.3/4.0)."""
    generated = services.summary_request_draft(summary_request=new_request, user=editor)
    other = submit(topic, email="other@example.com")
    edited = services.summary_request_draft(
        summary_request=other, user=editor, text=generated.drafted_text.replace("\n", "\r\n")
    )
    assert edited.drafted_text == generated.drafted_text.strip()
    assert generated.draft_grade is not None and generated.draft_grade > 0
    assert edited.draft_grade == generated.draft_grade
    assert SummaryRequest.objects.get(pk=other.pk).draft_grade == generated.draft_grade


def test_full_path_needs_editor_and_clinician_then_sends(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    summary_request = reviewed(new_request, editor)
    assert summary_request.status == Status.IN_REVIEW
    services.summary_request_approve(summary_request=summary_request, user=editor, role="editor")
    assert summary_request.status == Status.IN_REVIEW  # one approval is not enough
    with pytest.raises(services.SummaryRequestError, match="clinician and an editor"):
        services.summary_request_send(summary_request=summary_request, user=editor)
    assert mail.outbox == []
    services.summary_request_approve(
        summary_request=summary_request, user=clinician, role="clinician"
    )
    assert summary_request.status == Status.APPROVED
    services.summary_request_send(summary_request=summary_request, user=editor)
    stored = SummaryRequest.objects.get(pk=summary_request.pk)
    assert stored.status == Status.SENT
    assert stored.sent_at is not None
    assert stored.editor_approved_by == editor
    assert stored.clinician_approved_by == clinician
    assert len(mail.outbox) == 1


def test_editor_without_clinical_permission_cannot_give_clinical_approval(
    new_request: SummaryRequest, editor: Any
) -> None:
    summary_request = reviewed(new_request, editor)
    with pytest.raises(PermissionError, match="clinician"):
        services.summary_request_approve(
            summary_request=summary_request, user=editor, role="clinician"
        )
    assert SummaryRequest.objects.get(pk=summary_request.pk).clinician_approved_at is None


def test_one_person_cannot_approve_as_both_editor_and_clinician(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    summary_request = reviewed(new_request, editor)
    services.summary_request_approve(summary_request=summary_request, user=clinician, role="editor")
    with pytest.raises(services.SummaryRequestError, match="another clinician"):
        services.summary_request_approve(
            summary_request=summary_request, user=clinician, role="clinician"
        )
    assert summary_request.status == Status.IN_REVIEW


def test_a_clinician_outside_the_editors_group_cannot_approve(
    new_request: SummaryRequest, editor: Any, outside_clinician: Any
) -> None:
    summary_request = reviewed(new_request, editor)
    with pytest.raises(PermissionError):
        services.summary_request_approve(
            summary_request=summary_request, user=outside_clinician, role="clinician"
        )


def test_editing_an_approved_draft_withdraws_the_approvals(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    summary_request = reviewed(new_request, editor)
    services.summary_request_approve(summary_request=summary_request, user=editor, role="editor")
    services.summary_request_approve(
        summary_request=summary_request, user=clinician, role="clinician"
    )
    services.summary_request_draft(
        summary_request=summary_request, user=editor, text="A new short text. It is plain."
    )
    stored = SummaryRequest.objects.get(pk=summary_request.pk)
    assert stored.status == Status.DRAFTED
    assert stored.editor_approved_at is None
    assert stored.clinician_approved_at is None
    assert stored.drafted_text == "A new short text. It is plain."
    assert stored.draft_grade is not None


@pytest.mark.parametrize(
    ("status", "call"),
    [
        ("new", "review"),
        ("new", "send"),
        ("drafted", "approve"),
        ("sent", "decline"),
        ("sent", "draft"),
        ("declined", "review"),
    ],
)
def test_illegal_transitions_give_a_clear_error_and_change_nothing(
    topic: Any, editor: Any, status: str, call: str
) -> None:
    summary_request = submit(topic)
    summary_request.drafted_text = "Draft text."
    summary_request.status = status
    if status == "sent":
        summary_request.sent_at = summary_request.submitted_at
    if status == "declined":
        summary_request.declined_at = summary_request.submitted_at
        summary_request.decline_reason = "Out of scope."
    summary_request.save()
    before = AuditEvent.objects.count()
    actions = {
        "review": lambda: services.summary_request_review(
            summary_request=summary_request, user=editor
        ),
        "send": lambda: services.summary_request_send(summary_request=summary_request, user=editor),
        "approve": lambda: services.summary_request_approve(
            summary_request=summary_request, user=editor, role="editor"
        ),
        "decline": lambda: services.summary_request_decline(
            summary_request=summary_request, user=editor, reason="No."
        ),
        "draft": lambda: services.summary_request_draft(
            summary_request=summary_request, user=editor
        ),
    }
    with pytest.raises(services.SummaryRequestError, match="cannot be"):
        actions[call]()
    assert SummaryRequest.objects.get(pk=summary_request.pk).status == status
    assert AuditEvent.objects.count() == before
    assert mail.outbox == []


def test_decline_needs_a_reason_and_records_it(new_request: SummaryRequest, editor: Any) -> None:
    with pytest.raises(services.SummaryRequestError, match="reason"):
        services.summary_request_decline(summary_request=new_request, user=editor, reason="  ")
    services.summary_request_decline(
        summary_request=new_request, user=editor, reason="We have no evidence on this topic."
    )
    stored = SummaryRequest.objects.get(pk=new_request.pk)
    assert stored.status == Status.DECLINED
    assert stored.declined_at is not None
    assert stored.decline_reason == "We have no evidence on this topic."


def test_people_outside_the_group_cannot_change_requests(
    new_request: SummaryRequest, plain_staff: Any
) -> None:
    with pytest.raises(PermissionError):
        services.summary_request_draft(summary_request=new_request, user=plain_staff)
    with pytest.raises(PermissionError):
        services.summary_request_decline(summary_request=new_request, user=plain_staff, reason="x")
    assert SummaryRequest.objects.get(pk=new_request.pk).status == Status.NEW


def test_superuser_counts_as_summary_editor(new_request: SummaryRequest, superuser: Any) -> None:
    services.summary_request_draft(summary_request=new_request, user=superuser)
    assert new_request.status == Status.DRAFTED


def test_inactive_editor_loses_access(new_request: SummaryRequest) -> None:
    former = make_user("former-editor", group=True, is_active=False)
    with pytest.raises(PermissionError):
        services.summary_request_draft(summary_request=new_request, user=former)


def test_a_topic_without_cases_still_gets_a_draft_with_no_matches(editor: Any, db: None) -> None:
    from evidencepress.evidence.models import Topic

    empty = Topic.objects.create(
        name="Timolol for angiosarcoma", slug="timolol", treatment="Timolol", condition="Test"
    )
    # The topic has no definition of its own: the neutral default's answers.
    summary_request = submit(empty, situation={"setting": "unsure", "lesion_depth": "unknown"})
    services.summary_request_draft(summary_request=summary_request, user=editor)
    stored = SummaryRequest.objects.get(pk=summary_request.pk)
    assert stored.status == Status.DRAFTED
    assert stored.drafted_text.strip()
    assert stored.draft_matches == []
    assert stored.draft_contains_demo is False
    assert "angiosarcoma" not in stored.drafted_text.replace(empty.name, "")


def test_answers_that_are_not_values_of_the_topic_are_refused_by_name(
    editor: Any, db: None
) -> None:
    from evidencepress.evidence.models import Topic

    empty = Topic.objects.create(name="Other topic", slug="other", treatment="T", condition="C")
    summary_request = submit(empty)  # the demo topic's answers: "scalp_face" is not a value here
    with pytest.raises(services.SummaryRequestError, match="setting: 'scalp_face'"):
        services.summary_request_draft(summary_request=summary_request, user=editor)
    stored = SummaryRequest.objects.get(pk=summary_request.pk)
    assert stored.status == Status.NEW
    assert stored.drafted_text == ""
    assert stored.drafted_at is None
