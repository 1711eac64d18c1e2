"""HTML and script typed into any field render as text: in the admin, the email and the PDF."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client

from evidencepress.evidence.models import Publication, ReportedPatient
from evidencepress.summaries import services
from evidencepress.summaries.models import SummaryRequest
from evidencepress.summaries.services import summary_request_submit

from .helpers import assert_inert, pdf_text

PAYLOAD = (
    '"><script>alert("xss1")</script><img src=x onerror=alert("xss2")>'
    '<a href="javascript:alert(3)">x</a>'
)
MARKER = "xss1"


def hostile_request(topic: Any) -> SummaryRequest:
    return summary_request_submit(
        topic=topic,
        email="reader@example.com",
        situation={
            "setting": "scalp_face",
            "site": PAYLOAD,
            "lesion_depth": "superficial",
            "surgery_possible": "no",
            "prior_treatments": [PAYLOAD],
            "prior_treatments_other": PAYLOAD,
            "current_treatments": [PAYLOAD],
            "current_treatments_other": PAYLOAD,
            "question": PAYLOAD,
        },
        detail="short",
        consent_version="test",
    )


def test_a_hostile_case_label_and_answers_render_inert_in_the_admin(
    client: Client, topic: Any, editor: Any
) -> None:
    ReportedPatient.objects.create(
        publication=Publication.objects.get(is_demo=True),
        topic=topic,
        label=PAYLOAD[:100],
        setting="scalp_face",
        site="scalp",
        lesion_depth="superficial",
        is_demo=True,
    )
    summary_request = hostile_request(topic)
    services.summary_request_draft(summary_request=summary_request, user=editor)
    services.summary_request_draft(
        summary_request=summary_request, user=editor, text=f"Intro.\n\n{PAYLOAD}\n\n- {PAYLOAD}"
    )
    client.force_login(editor)
    for url in (
        f"/admin/summaries/{summary_request.public_id}/",
        "/admin/summaries/",
    ):
        html = client.get(url).content.decode()
        assert_inert(html, MARKER)
    detail = client.get(f"/admin/summaries/{summary_request.public_id}/").content.decode()
    assert "&lt;script&gt;alert(&quot;xss1&quot;)&lt;/script&gt;" in detail


def test_a_hostile_draft_and_reason_render_inert_in_email_and_pdf(
    client: Client, topic: Any, editor: Any, clinician: Any
) -> None:
    summary_request = hostile_request(topic)
    services.summary_request_draft(summary_request=summary_request, user=editor)
    services.summary_request_draft(
        summary_request=summary_request, user=editor, text=f"Intro.\n\n{PAYLOAD}"
    )
    services.summary_request_review(summary_request=summary_request, user=editor)
    services.summary_request_approve(summary_request=summary_request, user=editor, role="editor")
    services.summary_request_approve(
        summary_request=summary_request, user=clinician, role="clinician"
    )
    services.summary_request_send(summary_request=summary_request, user=editor)
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert_inert(html, MARKER)
    assert "&lt;script&gt;" in html
    pdf = message.attachments[0][1]
    assert b"/JavaScript" not in pdf and b"/JS " not in pdf
    text = pdf_text(pdf)
    assert '<script>alert("xss1")</script>' in text  # shown as the characters typed


def test_a_declined_reason_with_markup_renders_inert(
    client: Client, topic: Any, editor: Any
) -> None:
    summary_request = hostile_request(topic)
    services.summary_request_decline(summary_request=summary_request, user=editor, reason=PAYLOAD)
    client.force_login(editor)
    html = client.get(f"/admin/summaries/{summary_request.public_id}/").content.decode()
    assert_inert(html, MARKER)


def test_hostile_answers_echoed_by_the_public_form_are_inert(client: Client, topic: Any) -> None:
    response = client.post(
        "/summaries/request/",
        {
            "topic": topic.slug,
            "setting": "unsure",
            "lesion_depth": "unknown",
            "surgery_possible": "unsure",
            "detail": "short",
            "site": PAYLOAD[:100],
            "question": PAYLOAD,
            "email": "not an email " + PAYLOAD,
        },
    )
    assert response.status_code == 200
    assert_inert(response.content.decode(), MARKER)
