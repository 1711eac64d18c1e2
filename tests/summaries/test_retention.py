"""Personal data is deleted N days after sending or declining; the audit keeps only facts."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings

from evidencepress.core.models import AuditEvent
from evidencepress.summaries import services
from evidencepress.summaries.models import SummaryRequest
from evidencepress.summaries.retention import purge_summary_requests

from .conftest import submit
from .helpers import approved

T0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
CANARY = "RETENTIONCANARY"


def closed_request(topic: Any, editor: Any, clinician: Any, *, how: str) -> SummaryRequest:
    summary_request = submit(topic, situation={"question": CANARY}, email="keep-out@example.com")
    if how == "sent":
        approved(summary_request, editor, clinician)
        services.summary_request_send(summary_request=summary_request, user=editor)
    else:
        services.summary_request_decline(
            summary_request=summary_request, user=editor, reason="Outside our topics."
        )
    return summary_request


@pytest.mark.parametrize("how", ["sent", "declined"])
@pytest.mark.parametrize(
    ("days_later", "kept"),
    [(29, True), (30, False), (31, False)],
    ids=["N-1", "N", "N+1"],
)
@override_settings(SUMMARIES_RETENTION_DAYS=30)
def test_purge_at_n_minus_1_n_and_n_plus_1_days(
    topic: Any, editor: Any, clinician: Any, how: str, days_later: int, kept: bool
) -> None:
    with time_machine.travel(T0, tick=False):
        summary_request = closed_request(topic, editor, clinician, how=how)
    with time_machine.travel(T0 + dt.timedelta(days=days_later), tick=False):
        output = io.StringIO()
        call_command("purge_requests", stdout=output)
        assert SummaryRequest.objects.filter(pk=summary_request.pk).exists() is kept
        assert f"Deleted {0 if kept else 1} summary request(s)" in output.getvalue()
        # A second run deletes nothing more.
        assert services.summary_request_purge() == 0
    purged = AuditEvent.objects.filter(action="summary_request.purged")
    assert purged.count() == (0 if kept else 1)
    if not kept:
        event = purged.get()
        assert event.object_id == str(summary_request.public_id)
        assert event.detail == {"status": how, "topic": topic.slug, "retention_days": 30}


def test_open_requests_are_never_purged(topic: Any, editor: Any) -> None:
    with time_machine.travel(T0, tick=False):
        summary_request = submit(topic)
        services.summary_request_draft(summary_request=summary_request, user=editor)
    with time_machine.travel(T0 + dt.timedelta(days=400), tick=False):
        assert services.summary_request_purge() == 0
    assert SummaryRequest.objects.filter(pk=summary_request.pk).exists()


@override_settings(SUMMARIES_RETENTION_DAYS=30)
def test_the_scheduled_task_purges_too(topic: Any, editor: Any, clinician: Any) -> None:
    with time_machine.travel(T0, tick=False):
        closed_request(topic, editor, clinician, how="declined")
    with time_machine.travel(T0 + dt.timedelta(days=30), tick=False):
        result = purge_summary_requests.enqueue()
    assert result.return_value == 1
    assert SummaryRequest.objects.count() == 0


@override_settings(SUMMARIES_ENCRYPTION_KEYS=[], SUMMARIES_ENCRYPTION_KEY_FILE="")
def test_purge_works_even_when_the_key_is_lost(topic: Any, editor: Any) -> None:
    with (
        override_settings(
            SUMMARIES_ENCRYPTION_KEYS=["ZXZpZGVuY2VwcmVzcy10ZXN0LWtleS1ub3QtcmVhbCE="]
        ),
        time_machine.travel(T0, tick=False),
    ):
        summary_request = submit(topic)
        services.summary_request_decline(
            summary_request=summary_request, user=editor, reason="Duplicate."
        )
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        assert services.summary_request_purge() == 1


def test_the_audit_of_a_whole_lifecycle_holds_no_personal_data(
    topic: Any, editor: Any, clinician: Any
) -> None:
    summary_request = closed_request(topic, editor, clinician, how="sent")
    services.summary_request_purge(now=summary_request.sent_at + dt.timedelta(days=30))
    actions = list(
        AuditEvent.objects.for_object("summary_request", str(summary_request.public_id))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "summary_request.submitted",
        "summary_request.drafted",
        "summary_request.submitted_for_review",
        "summary_request.approved_editor",
        "summary_request.approved_clinician",
        "summary_request.sent",
        "summary_request.purged",
    ]
    everything = " ".join(
        f"{e.actor_username} {e.action} {e.object_id} {e.detail}" for e in AuditEvent.objects.all()
    )
    assert CANARY not in everything and "keep-out@example.com" not in everything
    assert "scalp" not in everything  # no situation detail


def test_the_command_rejects_a_negative_period(topic: Any) -> None:
    with pytest.raises(SystemExit):
        call_command("purge_requests", "--days", "-1", stderr=io.StringIO())
