"""Only Summary editors and superusers reach requests: every URL, every role, GET and POST."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from evidencepress.core.models import AuditEvent
from evidencepress.summaries.admin_views import ACTIONS
from evidencepress.summaries.models import SummaryRequest

from .conftest import submit

CANARY = "CANARY-ACCESS-5b1e"


@pytest.fixture
def secret_request(topic: Any) -> SummaryRequest:
    summary_request = submit(
        topic, email=f"{CANARY.lower()}@example.com", situation={"question": CANARY}
    )
    summary_request.drafted_text = f"Draft for {CANARY}."
    summary_request.save()
    return summary_request


def admin_urls(summary_request: SummaryRequest) -> list[tuple[str, str]]:
    """(method, url) for every admin URL of the app: GET views and POST actions."""
    public_id = summary_request.public_id
    urls = [
        ("GET", reverse("summaries_admin:index")),
        ("GET", reverse("summaries_admin:index") + "?status=new"),
        ("GET", reverse("summaries_admin:detail", args=[public_id])),
        ("GET", reverse("summaries_admin:pdf", args=[public_id])),
    ]
    urls += [
        ("POST", reverse("summaries_admin:action", args=[public_id, name])) for name in ACTIONS
    ]
    return urls


def _names(patterns: list[Any], namespace: str = "") -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            found |= _names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and namespace in ("summaries", "summaries_admin"):
            found.add(f"{namespace}:{pattern.name}")
    return found


def test_the_url_list_below_covers_every_url_of_the_app() -> None:
    assert _names(get_resolver().url_patterns) == {
        "summaries:request",
        "summaries:request_sent",
        "summaries:withdraw",
        "summaries_admin:index",
        "summaries_admin:detail",
        "summaries_admin:pdf",
        "summaries_admin:action",
    }


def _assert_refused(response: Any, url: str) -> None:
    assert response.status_code in (302, 403, 404), url
    if response.status_code == 302:
        assert not response["Location"].startswith(url), url
    body = response.content.decode(errors="replace")
    assert CANARY not in body and CANARY.lower() not in body, url


def test_anonymous_users_are_sent_to_login_everywhere(
    client: Client, secret_request: SummaryRequest
) -> None:
    for method, url in admin_urls(secret_request):
        response = client.get(url) if method == "GET" else client.post(url, {"reason": "x"})
        _assert_refused(response, url)
        assert "/login/" in response["Location"], url
    assert SummaryRequest.objects.get(pk=secret_request.pk).status == "new"


@pytest.mark.parametrize("role", ["plain_staff", "outside_clinician"])
def test_staff_outside_the_group_reach_nothing_and_are_audited(
    client: Client, secret_request: SummaryRequest, role: str, request: Any, settings: Any
) -> None:
    settings.AUDIT_DENIED_LIMIT = 100  # every refusal, below the flood limit
    user = request.getfixturevalue(role)
    client.force_login(user)
    urls = admin_urls(secret_request)
    for method, url in urls:
        response = client.get(url) if method == "GET" else client.post(url, {"reason": "x"})
        _assert_refused(response, url)
    stored = SummaryRequest.objects.get(pk=secret_request.pk)
    assert stored.status == "new" and stored.drafted_text == f"Draft for {CANARY}."
    denied = AuditEvent.objects.filter(
        action="summary_request.permission_denied", actor_id=user.pk
    ).count()
    assert denied == len(urls)


def test_staff_outside_the_group_do_not_see_the_menu_item(
    client: Client, plain_staff: Any, editor: Any
) -> None:
    client.force_login(plain_staff)
    assert "Summary requests" not in client.get("/admin/").content.decode()
    client.force_login(editor)
    assert "Summary requests" in client.get("/admin/").content.decode()


@pytest.mark.parametrize("role", ["editor", "superuser"])
def test_summary_editors_and_superusers_open_the_queue_and_the_request(
    client: Client, secret_request: SummaryRequest, role: str, request: Any
) -> None:
    user = request.getfixturevalue(role)
    client.force_login(user)
    queue = client.get(reverse("summaries_admin:index"))
    assert queue.status_code == 200
    assert secret_request.reference in queue.content.decode()
    assert CANARY not in queue.content.decode()  # the queue decrypts nothing
    assert "no-store" in queue["Cache-Control"]
    detail = client.get(reverse("summaries_admin:detail", args=[secret_request.public_id]))
    assert detail.status_code == 200
    assert CANARY in detail.content.decode()
    assert "no-store" in detail["Cache-Control"]
    pdf = client.get(reverse("summaries_admin:pdf", args=[secret_request.public_id]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    actions = set(AuditEvent.objects.filter(actor_id=user.pk).values_list("action", flat=True))
    assert {
        "summary_request.listed",
        "summary_request.viewed",
        "summary_request.exported",
    } <= actions


def test_only_superusers_read_the_audit_log(
    client: Client, editor: Any, superuser: Any, secret_request: SummaryRequest
) -> None:
    client.force_login(editor)
    _assert_refused(client.get(reverse("core_audit")), reverse("core_audit"))
    client.force_login(superuser)
    response = client.get(reverse("core_audit"))
    assert response.status_code == 200
    assert "summary_request.submitted" in response.content.decode()
    assert CANARY not in response.content.decode()


def test_actions_need_post(client: Client, editor: Any, secret_request: SummaryRequest) -> None:
    client.force_login(editor)
    url = reverse("summaries_admin:action", args=[secret_request.public_id, "decline"])
    assert client.get(url).status_code == 405
    assert SummaryRequest.objects.get(pk=secret_request.pk).status == "new"


def test_unknown_request_ids_are_not_found(client: Client, editor: Any, topic: Any) -> None:
    client.force_login(editor)
    url = reverse("summaries_admin:detail", args=["00000000-0000-4000-8000-000000000000"])
    assert client.get(url).status_code == 404


def test_the_data_migration_makes_the_editors_group_idempotently(db: None) -> None:
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    migration = importlib.import_module(
        "evidencepress.summaries.migrations.0002_summary_editors_group"
    )
    migration.create_group(apps, None)
    migration.create_group(apps, None)  # running it again changes nothing
    group = Group.objects.get(name="Summary editors")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {
        "access_admin",
        "view_summaryrequest",
        "change_summaryrequest",
        "delete_summaryrequest",
    } <= codenames
    # Clinical approval is given person by person; user management never to this group.
    assert not codenames & {"approve_clinically", "add_user", "change_user", "change_group"}
