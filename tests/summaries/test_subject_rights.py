"""A reader's rights by email: access (JSON export) and erasure, with nothing of anyone else."""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.management import call_command

from evidencepress.core.models import AuditEvent
from evidencepress.summaries.models import SummaryRequest

from .conftest import submit


def test_export_contains_all_of_x_and_none_of_y(topic: Any) -> None:
    for number in range(3):
        submit(topic, email="X.Reader@example.com", situation={"question": f"X question {number}"})
    submit(topic, email="y@example.com", situation={"question": "Y-SECRET"})
    output = io.StringIO()
    call_command("export_summary_requests", "x.reader@example.com", stdout=output)
    exported = json.loads(output.getvalue())["requests"]
    assert [item["answers"]["question"] for item in exported] == [
        "X question 0",
        "X question 1",
        "X question 2",
    ]
    assert all(item["email"] == "X.Reader@example.com" for item in exported)
    assert {"consent_version", "consented_at", "summary", "topic", "status"} <= set(exported[0])
    assert "Y-SECRET" not in output.getvalue() and "y@example.com" not in output.getvalue()
    assert AuditEvent.objects.filter(action="summary_request.exported").count() == 3


def test_erasure_deletes_only_x(topic: Any) -> None:
    submit(topic, email="x@example.com")
    submit(topic, email="X@example.com ")
    kept = submit(topic, email="y@example.com")
    output = io.StringIO()
    call_command("erase_summary_requests", "x@example.com", stdout=output)
    assert "Deleted 2 summary request(s)" in output.getvalue()
    assert list(SummaryRequest.objects.values_list("pk", flat=True)) == [kept.pk]
    erased = AuditEvent.objects.filter(action="summary_request.erased")
    assert erased.count() == 2
    assert "x@example.com" not in str(list(erased.values_list("detail", flat=True)))
