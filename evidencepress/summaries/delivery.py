"""Send an approved summary: an email with the text (plain + HTML) and the same text as a PDF.

The PDF is not stored: it is made again, byte for byte from the same encrypted text, whenever
it is needed (email, editor's download) until the request is purged. The subject line carries
no personal or health detail.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .exceptions import DeliveryFailed
from .models import SummaryRequest
from .rendering import has_demo_label, summary_html, text_for_email

logger = logging.getLogger(__name__)

SUBJECT = "Your plain-language summary from EvidencePress"


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # The PDF is made from our own template and text only: never fetch anything (no network,
    # no local files named by user text).
    raise ValueError(f"The summary PDF may not load external resources ({url[:40]!r}).")


def withdraw_url(token: str) -> str:
    base = (settings.SUMMARIES_PUBLIC_BASE_URL or settings.WAGTAILADMIN_BASE_URL).rstrip("/")
    return base + reverse("summaries:withdraw", kwargs={"token": token})


@functools.cache
def site_print_css() -> str:
    """The public site's stylesheet and its print styles, for the PDF (inlined: it fetches
    nothing)."""
    parts = []
    for name in ("css/site.css", "css/print.css", "css/summary-print.css"):
        found = finders.find(name)
        if found:
            parts.append(Path(str(found)).read_text(encoding="utf-8"))
    return "\n".join(parts)


def _context(summary_request: SummaryRequest, link: str | None) -> dict[str, Any]:
    text = summary_request.drafted_text
    parts = summary_html(text)
    return {
        "topic": summary_request.topic,
        "reference": summary_request.reference,
        "summary_title": parts.title or f"Plain-language summary: {summary_request.topic.name}",
        "summary_html": parts.body,
        "summary_text": text_for_email(text),
        "contains_demo": summary_request.draft_contains_demo,
        # The draft's own notice says exactly how many cases are invented; the label is added
        # only when an edited text lost it.
        "add_demo_label": summary_request.draft_contains_demo and not has_demo_label(text),
        "checked_on": summary_request.clinician_approved_at,
        "drafted_on": summary_request.drafted_at,
        "site_css": site_print_css(),
        "withdraw_url": link,
        "checked": bool(
            summary_request.editor_approved_at and summary_request.clinician_approved_at
        ),
        "retention_days": settings.SUMMARIES_RETENTION_DAYS,
    }


def summary_pdf(summary_request: SummaryRequest) -> bytes:
    """The summary as a PDF (WeasyPrint), from the stored text; escaped like every page."""
    from PIL import ImageFile
    from weasyprint import HTML

    # Importing WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES. Our PDFs load no
    # image (_refuse_fetch), and the rest of the process (image uploads, renditions) must keep
    # Pillow strict: a torn upload taken, or a rendition raising on it, otherwise.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    document = render_to_string("summaries/summary_pdf.html", _context(summary_request, None))
    pdf: bytes = HTML(string=document, url_fetcher=_refuse_fetch).write_pdf()
    return pdf


def summary_email(summary_request: SummaryRequest, *, token: str) -> EmailMultiAlternatives:
    """The email for one request: text body, HTML alternative, PDF attachment."""
    context = _context(summary_request, withdraw_url(token))
    message = EmailMultiAlternatives(
        subject=SUBJECT,
        body=render_to_string("summaries/summary_email.txt", context),
        to=[summary_request.email],
    )
    message.attach_alternative(
        render_to_string("summaries/summary_email.html", context), "text/html"
    )
    message.attach(
        f"evidencepress-summary-{summary_request.reference}.pdf",
        summary_pdf(summary_request),
        "application/pdf",
    )
    return message


def summary_send(summary_request: SummaryRequest, *, token: str) -> None:
    """Hand the email to the configured backend; raise DeliveryFailed if it is not accepted."""
    message = summary_email(summary_request, token=token)
    try:
        accepted = message.send(fail_silently=False)
    except Exception as error:
        # The reason is logged without the address or the text (they are personal data).
        logger.warning(
            "summary %s: sending failed (%s)", summary_request.reference, type(error).__name__
        )
        raise DeliveryFailed("The mail server did not accept the summary.") from error
    if accepted != 1:
        raise DeliveryFailed("The mail server did not accept the summary.")
