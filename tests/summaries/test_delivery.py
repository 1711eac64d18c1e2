"""Sending: email body + HTML + PDF, no health detail in the subject, failures lose nothing,
and the reader's withdrawal link deletes the request."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings

from evidencepress.core.models import AuditEvent
from evidencepress.summaries import services
from evidencepress.summaries.delivery import DeliveryFailed, summary_pdf
from evidencepress.summaries.models import SummaryRequest

from .helpers import approved, pdf_text

FAILING = "tests.summaries.failing_backend.FailingEmailBackend"


def sent(summary_request: SummaryRequest, editor: Any, clinician: Any) -> Any:
    approved(summary_request, editor, clinician)
    services.summary_request_send(summary_request=summary_request, user=editor)
    assert len(mail.outbox) == 1
    return mail.outbox[0]


def withdraw_path(message: Any) -> str:
    match = re.search(r"https?://[^/\s]+(/summaries/withdraw/[A-Za-z0-9_-]+/)", message.body)
    assert match, "no withdrawal link in the email"
    return match.group(1)


def test_the_email_carries_the_summary_as_text_html_and_pdf(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    message = sent(new_request, editor, clinician)
    stored = SummaryRequest.objects.get(pk=new_request.pk)
    assert message.to == ["reader@example.com"]
    assert message.subject == "Your plain-language summary from EvidencePress"
    first_paragraph = stored.drafted_text.split("\n\n")[2].strip()  # after title and heading
    assert first_paragraph in message.body
    assert "Demonstration data — not medical evidence" in message.body
    assert "not medical advice" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Demonstration data — not medical evidence" in html
    name, pdf, pdf_type = message.attachments[0]
    assert pdf_type == "application/pdf" and name.endswith(".pdf")
    assert pdf.startswith(b"%PDF")
    text = " ".join(pdf_text(pdf).split())
    assert " ".join(first_paragraph.split())[:60] in text
    assert "Demonstration data — not medical evidence" in text
    assert "not medical advice" in text
    assert "Checked by an editor and a doctor before sending" in text


def test_the_subject_and_headers_carry_no_personal_or_health_detail(
    topic: Any, editor: Any, clinician: Any
) -> None:
    from .conftest import submit

    summary_request = submit(topic, situation={"question": "HEALTHCANARY-91", "site": "scalp"})
    message = sent(summary_request, editor, clinician)
    headers = str(message.message()).split("\n\n", 1)[0]
    assert "HEALTHCANARY" not in headers
    for word in ("angiosarcoma", "scalp", "imiquimod", "reader@"):
        assert word not in message.subject.lower()


def test_a_failing_mail_server_leaves_the_request_approved_and_audited(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    approved(new_request, editor, clinician)
    with override_settings(EMAIL_BACKEND=FAILING), pytest.raises(DeliveryFailed):
        services.summary_request_send(summary_request=new_request, user=editor)
    stored = SummaryRequest.objects.get(pk=new_request.pk)
    assert stored.status == SummaryRequest.Status.APPROVED
    assert stored.sent_at is None and stored.withdraw_token_hash == ""
    assert stored.drafted_text == new_request.drafted_text
    assert AuditEvent.objects.filter(action="summary_request.send_failed").exists()
    # Once the server is back, sending works.
    services.summary_request_send(summary_request=stored, user=editor)
    assert SummaryRequest.objects.get(pk=new_request.pk).status == SummaryRequest.Status.SENT


def test_the_send_button_reports_a_failure_in_plain_words(
    client: Client, new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    approved(new_request, editor, clinician)
    client.force_login(editor)
    with override_settings(EMAIL_BACKEND=FAILING):
        response = client.post(f"/admin/summaries/{new_request.public_id}/send/", follow=True)
    assert "The email could not be sent" in response.content.decode()
    assert SummaryRequest.objects.get(pk=new_request.pk).status == "approved"


def test_the_withdrawal_link_asks_then_deletes_the_request(
    client: Client, new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    path = withdraw_path(sent(new_request, editor, clinician))
    stored = SummaryRequest.objects.get(pk=new_request.pk)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in stored.withdraw_token_hash  # only a hash is kept
    confirm = client.get(path)
    assert confirm.status_code == 200
    assert "Delete your request?" in confirm.content.decode()
    assert confirm["Referrer-Policy"] == "no-referrer"
    assert SummaryRequest.objects.filter(pk=new_request.pk).exists()  # GET changes nothing
    done = client.post(path)
    assert done.status_code == 200
    assert "Your request has been deleted" in done.content.decode()
    assert not SummaryRequest.objects.filter(pk=new_request.pk).exists()
    event = AuditEvent.objects.get(action="summary_request.withdrawn")
    assert event.object_id == str(new_request.public_id) and event.source_ip is None
    again = client.post(path)
    assert again.status_code == 404
    assert "could not find this request" in again.content.decode()


def test_a_made_up_withdrawal_link_finds_nothing(client: Client, new_request: Any) -> None:
    response = client.get("/summaries/withdraw/not-a-real-token/")
    assert response.status_code == 404
    assert client.post("/summaries/withdraw/not-a-real-token/").status_code == 404
    assert SummaryRequest.objects.filter(pk=new_request.pk).exists()


def test_the_pdf_copy_is_made_again_identically_until_the_purge(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    message = sent(new_request, editor, clinician)
    stored = SummaryRequest.objects.get(pk=new_request.pk)
    again = summary_pdf(stored)
    assert pdf_text(again) == pdf_text(message.attachments[0][1])


def test_making_a_pdf_leaves_pillow_strict_for_image_uploads(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    """WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported; after a
    PDF the process must still refuse torn images (uploads, renditions)."""
    from PIL import ImageFile

    sent(new_request, editor, clinician)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_withdrawal_works_even_if_the_key_was_lost(
    client: Client, new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    path = withdraw_path(sent(new_request, editor, clinician))
    with override_settings(SUMMARIES_ENCRYPTION_KEYS=[], SUMMARIES_ENCRYPTION_KEY_FILE=""):
        assert client.get(path).status_code == 200
        assert client.post(path).status_code == 200
    assert not SummaryRequest.objects.filter(pk=new_request.pk).exists()


def test_a_draft_pdf_says_it_is_not_checked_yet(
    client: Client, new_request: SummaryRequest, editor: Any
) -> None:
    services.summary_request_draft(summary_request=new_request, user=editor)
    client.force_login(editor)
    response = client.get(f"/admin/summaries/{new_request.public_id}/pdf/")
    assert response["Content-Disposition"].startswith("attachment;")
    text = " ".join(pdf_text(response.content).split())
    drafted = SummaryRequest.objects.get(pk=new_request.pk).drafted_at
    assert f"Draft of {drafted.day} {drafted:%B %Y}: not yet checked by an editor and a doctor" in (
        text
    )
    assert "Checked by an editor and a doctor before sending" not in text


def test_a_second_send_while_one_is_under_way_sends_nothing(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    from django.utils import timezone

    approved(new_request, editor, clinician)
    # Another worker has claimed the send (the claim is in the database, seen by every worker).
    SummaryRequest.objects.filter(pk=new_request.pk).update(send_claimed_at=timezone.now())
    with pytest.raises(services.SummaryRequestError, match="being sent right now"):
        services.summary_request_send(summary_request=new_request, user=editor)
    assert mail.outbox == []
    assert SummaryRequest.objects.get(pk=new_request.pk).status == "approved"


def test_a_claim_left_by_a_crashed_worker_lapses(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    import datetime

    from django.utils import timezone

    approved(new_request, editor, clinician)
    long_ago = timezone.now() - datetime.timedelta(seconds=services.SEND_LOCK_SECONDS + 1)
    SummaryRequest.objects.filter(pk=new_request.pk).update(send_claimed_at=long_ago)
    services.summary_request_send(summary_request=new_request, user=editor)
    assert len(mail.outbox) == 1
    sent = SummaryRequest.objects.get(pk=new_request.pk)
    assert sent.status == "sent" and sent.send_claimed_at is None
    with pytest.raises(services.SummaryRequestError, match="cannot be sent now"):
        services.summary_request_send(summary_request=sent, user=editor)
    assert len(mail.outbox) == 1


# --- the draft's structure in the preview, the email and the PDF (issue 15 §2) ---------------


def _headings(stored: SummaryRequest) -> list[str]:
    return [line[3:] for line in stored.drafted_text.splitlines() if line.startswith("## ")]


def test_email_and_pdf_show_headings_lists_and_numbered_sources_once(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    from django.template.loader import render_to_string

    from evidencepress.summaries.delivery import _context

    message = sent(new_request, editor, clinician)
    stored = SummaryRequest.objects.get(pk=new_request.pk)
    headings = _headings(stored)
    assert "What to expect" in headings and headings[-1] == "Sources"
    title = "Plain-language summary: Imiquimod for cutaneous angiosarcoma"
    html, _ = message.alternatives[0]
    for heading in headings:
        assert f"<h2>{heading}</h2>" in html
    assert html.count(f"<h1>{title}</h1>") == 1
    assert "<ol><li>" in html.split("<h2>Sources</h2>")[1]  # sources: a numbered list
    assert "<ul><li>" in html  # lists stay lists
    assert "##" not in html
    # The plain-text email: headings underlined, not marked with "#".
    assert f"\n{title}\n{'=' * len(title)}\n" in message.body
    assert "\nWhat to expect\n--------------\n" in message.body
    assert "## " not in message.body
    # The demonstration notice is the draft's own, exact, and said once.
    label = "Demonstration data — not medical evidence"
    assert html.count(f"<h2>{label}</h2>") == 1
    assert message.body.count(f"{label}\n{'-' * len(label)}") == 1
    for body in (html, message.body):
        # Elsewhere only on the demonstration series in Sources.
        assert body.count(label) == 2
        assert body.count(f"({label})") == 1
        assert "All 3 reported cases in this summary are invented" in body
        assert "Some of the cases mentioned were invented" not in body

    page = render_to_string("summaries/summary_pdf.html", _context(stored, None))
    assert 'class="site-header"' in page and ".site-header" in page  # the site's own styles
    assert "@page" in page and "counter(pages)" in page  # its print styles, page numbers
    assert page.count(f"<h1>{title}</h1>") == 1
    for heading in headings:
        assert f"<h2>{heading}</h2>" in page
    text = " ".join(pdf_text(message.attachments[0][1]).split())
    assert text.count(title) == 1
    assert text.count(label) == 2 and text.count(f"({label})") == 1
    assert f"Reference {stored.reference}" in text
    checked = stored.clinician_approved_at
    assert f"before sending, {checked.day} {checked:%B %Y}." in text
    assert f"reference {stored.reference} Page 1 of" in text


def test_an_edited_text_without_the_notice_gets_the_label_once(
    new_request: SummaryRequest, editor: Any, clinician: Any
) -> None:
    services.summary_request_draft(summary_request=new_request, user=editor)
    services.summary_request_draft(
        summary_request=new_request,
        user=editor,
        text="# My summary\n\n## What we found\n\n- one\n- two\n\n1. A source.",
    )
    services.summary_request_review(summary_request=new_request, user=editor)
    services.summary_request_approve(summary_request=new_request, user=editor, role="editor")
    services.summary_request_approve(summary_request=new_request, user=clinician, role="clinician")
    services.summary_request_send(summary_request=new_request, user=editor)
    message = mail.outbox[0]
    html, _ = message.alternatives[0]
    assert html.count("Demonstration data — not medical evidence") == 1
    assert "<h1>My summary</h1>" in html and "<h2>What we found</h2>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html and "<ol><li>A source.</li></ol>" in html
    text = " ".join(pdf_text(message.attachments[0][1]).split())
    assert text.count("Demonstration data — not medical evidence") == 1
    assert text.count("My summary") == 1
