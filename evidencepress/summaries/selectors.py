"""Reads that turn a stored request into the drafting's plain data."""

from __future__ import annotations

from typing import Any

from .matching import FOR_WHOM, Situation
from .models import SummaryRequest
from .safety import FiredRule, reader_answers


def _optional_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _surgery(value: Any) -> bool | None:
    return {"yes": True, "no": False}.get(str(value))


def request_situation(summary_request: SummaryRequest) -> Situation:
    """The reader's answers as a matching.Situation (decrypted in memory only)."""
    answers = summary_request.situation or {}
    return Situation(
        setting=str(answers.get("setting") or "unsure"),
        site=str(answers.get("site") or ""),
        lesion_size_mm=_optional_int(answers.get("lesion_size_mm")),
        lesion_count=_optional_int(answers.get("lesion_count")),
        lesion_depth=str(answers.get("lesion_depth") or "unknown"),
        surgery_possible=_surgery(answers.get("surgery_possible")),
        prior_treatments=tuple(answers.get("prior_treatments") or ()),
        current_treatments=tuple(answers.get("current_treatments") or ()),
        question=str(answers.get("question") or ""),
        detail=summary_request.detail,
        for_whom=_for_whom(answers.get("for_whom")),
    )


def _for_whom(value: Any) -> str:
    """Who the summary is for ("self" unless the reader said someone they care for)."""
    return str(value) if value in FOR_WHOM else "self"


def request_fired_rules(summary_request: SummaryRequest) -> tuple[FiredRule, ...]:
    """The topic's approved safety rules that this request's answers and free text meet."""
    from .evidence_inputs import fired_rules

    return fired_rules(summary_request.topic, reader_answers(summary_request.situation or {}))


def requests_for_email(email: str) -> list[SummaryRequest]:
    """Every request made with `email` (case-insensitive), for access and erasure requests.

    Emails are encrypted with a random IV, so the database cannot search them: each request is
    decrypted in memory and compared. Fine for the few hundred requests a team keeps at once.
    """
    wanted = email.strip().lower()
    return [
        summary_request
        for summary_request in SummaryRequest.objects.select_related("topic").order_by("pk")
        if summary_request.email.strip().lower() == wanted
    ]


def request_export(summary_request: SummaryRequest) -> dict[str, Any]:
    """Everything stored about one request, as plain data (a subject access export)."""
    return {
        "reference": str(summary_request.public_id),
        "topic": summary_request.topic.name,
        "status": summary_request.status,
        "email": summary_request.email,
        "answers": summary_request.situation,
        "detail": summary_request.detail,
        "consent_version": summary_request.consent_version,
        "consented_at": summary_request.consented_at.isoformat(),
        "submitted_at": summary_request.submitted_at.isoformat(),
        "summary": summary_request.drafted_text,
        "sent_at": summary_request.sent_at.isoformat() if summary_request.sent_at else None,
        "declined_at": (
            summary_request.declined_at.isoformat() if summary_request.declined_at else None
        ),
        "decline_reason": summary_request.decline_reason,
    }
