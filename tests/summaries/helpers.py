"""Shared helpers for the summaries tests."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from typing import Any

from evidencepress.summaries import services
from evidencepress.summaries.models import SummaryRequest


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.handlers: list[str] = []
        self.script_bodies: list[str] = []
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}={value}")
            if (
                name in ("href", "src")
                and value
                and value.strip().lower().startswith(("javascript:", "data:text"))
            ):
                self.urls.append(value)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_bodies.append(data)


def assert_inert(html: str, marker: str) -> None:
    """No event handler, no script running `marker`, no javascript: URL in `html`."""
    scan = _Scan()
    scan.feed(html)
    assert scan.handlers == [], scan.handlers
    assert not [body for body in scan.script_bodies if marker in body]
    assert scan.urls == []


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def approved(summary_request: SummaryRequest, editor: Any, clinician: Any) -> SummaryRequest:
    """Draft, review and approve a request (editor + clinician)."""
    services.summary_request_draft(summary_request=summary_request, user=editor)
    services.summary_request_review(summary_request=summary_request, user=editor)
    services.summary_request_approve(summary_request=summary_request, user=editor, role="editor")
    services.summary_request_approve(
        summary_request=summary_request, user=clinician, role="clinician"
    )
    return summary_request
