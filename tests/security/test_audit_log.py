"""The audit log (issue #14): paginated, filterable by who/action/date, exports that find old
events, superusers only, and refusals rate-limited per user so nobody can flood it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evidencepress.core import roles
from evidencepress.core.models import AuditEvent

from .conftest import make_user

pytestmark = pytest.mark.django_db

EXPORT_ID = "4f1c2b7e-0000-4000-8000-00000000e55e"


@pytest.fixture
def root(staff_roles: None) -> Any:
    return make_user("root", superuser=True)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)  # verified second factor (tests/conftest.py)
    return client


def later_events(count: int, start: Any) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            occurred_at=start + timedelta(seconds=i),
            actor_id=9,
            actor_username="busy-bee",
            action="summary_request.viewed",
            object_type="summary_request",
            object_id=f"other-{i}",
        )
        for i in range(count)
    )


@pytest.fixture
def old_export(root: Any) -> AuditEvent:
    """An export of a reader's request two days ago, then 600 later events."""
    now = timezone.now()
    event = AuditEvent.objects.create(
        occurred_at=now - timedelta(days=2),
        actor_id=41,
        actor_username="Sue",
        action="summary_request.exported",
        object_type="summary_request",
        object_id=EXPORT_ID,
        source_ip="203.0.113.5",
        detail={"format": "pdf"},
    )
    later_events(600, now - timedelta(days=1))
    return event


def listed(response: Any) -> list[AuditEvent]:
    assert response.status_code == 200
    return list(response.context["object_list"])


def test_the_log_is_paginated_newest_first(root: Any, old_export: AuditEvent) -> None:
    client = signed_in(root)
    first = listed(client.get(reverse("core_audit")))
    assert len(first) == 50
    assert first[0].occurred_at >= first[-1].occurred_at
    total = AuditEvent.objects.count()
    last_page = (total + 49) // 50
    last = listed(client.get(reverse("core_audit"), {"p": last_page}))
    assert old_export in last  # the oldest event is on the last page, not cut off at 500


@pytest.mark.parametrize(
    "filters",
    [
        {"action": "summary_request.exported"},
        {"who": "sue"},
        {"object_id": EXPORT_ID},
        {"occurred_at_from": "{two_days_ago}", "occurred_at_to": "{two_days_ago}"},
    ],
)
def test_an_old_export_is_found_by_each_filter(
    root: Any, old_export: AuditEvent, filters: dict[str, str]
) -> None:
    day = (timezone.now() - timedelta(days=2)).date().isoformat()
    query = {key: value.format(two_days_ago=day) for key, value in filters.items()}
    events = listed(signed_in(root).get(reverse("core_audit"), query))
    assert events == [old_export]


def test_filters_combine_and_anonymous_is_a_who(root: Any, old_export: AuditEvent) -> None:
    AuditEvent.objects.create(action="summary_request.honeypot", source_ip="198.51.100.1")
    client = signed_in(root)
    anonymous = listed(client.get(reverse("core_audit"), {"who": "anonymous"}))
    assert [e.action for e in anonymous] == ["summary_request.honeypot"]
    query = {"who": "sue", "action": "summary_request.viewed"}
    assert listed(client.get(reverse("core_audit"), query)) == []
    # A filter that cannot be read finds nothing, rather than passing everything for an answer.
    assert listed(client.get(reverse("core_audit"), {"action": "x.unknown"})) == []
    assert listed(client.get(reverse("core_audit"), {"occurred_at_from": "yesterday"})) == []
    busy = listed(client.get(reverse("core_audit"), {"who": "busy-bee", "p": 12}))
    assert len(busy) == 50 and all(e.actor_username == "busy-bee" for e in busy)


def test_the_export_takes_the_filters_and_every_match(root: Any, old_export: AuditEvent) -> None:
    client = signed_in(root)
    response = client.get(
        reverse("core_audit"), {"action": "summary_request.exported", "export": "csv"}
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["Object id"] for row in rows] == [EXPORT_ID]
    assert rows[0]["Username"] == "Sue" and rows[0]["Source IP"] == "203.0.113.5"
    response = client.get(reverse("core_audit"), {"who": "busy-bee", "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 600  # not the latest N: all of them
    assert AuditEvent.objects.filter(action="audit_log.exported", actor_id=root.pk).count() == 2


def test_export_cells_cannot_become_formulas(root: Any) -> None:
    AuditEvent.objects.create(action="=HYPERLINK(1)", object_id="+1", actor_username="@x")
    response = signed_in(root).get(reverse("core_audit"), {"export": "csv"})
    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)" in text and "'+1" in text and "'@x" in text


@pytest.mark.parametrize("group", [roles.ADMINS, roles.SUMMARY_EDITORS, roles.EDITORS])
def test_only_superusers_open_the_log_or_its_export(staff_roles: None, group: str) -> None:
    user = make_user("not-root", group=group)
    client = signed_in(user)
    for query in ({}, {"export": "csv"}):
        response = client.get(reverse("core_audit"), query)
        assert response.status_code in (302, 403)
        assert "Audit log" not in client.get(reverse("wagtailadmin_home")).content.decode()
    response = client.get(reverse("core_audit_results"))
    assert response.status_code in (302, 403)
    assert AuditEvent.objects.filter(action="permission_denied", actor_id=user.pk).count() == 3


def test_refusals_are_rate_limited_per_user(staff_roles: None, settings: Any) -> None:
    settings.AUDIT_DENIED_LIMIT, settings.AUDIT_DENIED_WINDOW = 10, 60
    flooder = make_user("flooder", group=roles.ADMINS)
    bystander = make_user("bystander", group=roles.EDITORS)
    flood, calm = signed_in(flooder), signed_in(bystander)
    start = timezone.now()
    with time_machine.travel(start.replace(second=1), tick=False):
        for _ in range(200):
            assert flood.get(reverse("summaries_admin:index")).status_code in (302, 403)
        calm.get(reverse("summaries_admin:index"))  # another user's refusal is still recorded
    denied = AuditEvent.objects.filter(action="summary_request.permission_denied")
    assert denied.filter(actor_id=flooder.pk).count() == 10
    assert denied.filter(actor_id=flooder.pk, detail__limit_reached=True).count() == 1
    assert denied.filter(actor_id=bystander.pk).count() == 1
    # In the next window the next refusal is recorded, with how many were left out.
    with time_machine.travel(start.replace(second=1) + timedelta(seconds=61), tick=False):
        flood.get(reverse("summaries_admin:index"))
    latest = denied.filter(actor_id=flooder.pk).order_by("-pk").first()
    assert latest is not None and latest.detail["suppressed"] == 190
    assert denied.filter(actor_id=flooder.pk).count() == 11
