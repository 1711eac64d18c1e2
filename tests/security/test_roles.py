"""Role × URL × method matrix (B2), anonymous reach (B1) and group permissions (B7).

The truth table is docs/roles.yaml; this test walks it with one user per role (signed in
with a verified second factor) and an anonymous client, and compares every outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from evidencepress.core import roles

from .conftest import make_user

pytestmark = pytest.mark.django_db

TABLE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "roles.yaml").read_text())
ROLE_GROUPS = {
    "editor": roles.EDITORS,
    "clinician_reviewer": roles.CLINICIAN_REVIEWERS,
    "summary_editor": roles.SUMMARY_EDITORS,
    "admin": roles.ADMINS,
}


@pytest.fixture
def world(staff_roles: None) -> dict[str, Any]:
    """One user per role, a stored summary request, and the demo home page."""
    from evidencepress.demo.loader import ensure_home_page
    from evidencepress.evidence.models import Topic
    from evidencepress.summaries.services import summary_request_submit

    ensure_home_page()
    users = {
        role: make_user(role.replace("_", "-"), group=group) for role, group in ROLE_GROUPS.items()
    }
    topic = Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
    )
    request = summary_request_submit(
        topic=topic,
        email="canary-7f3a-roles@example.com",
        situation={
            "setting": "scalp_face",
            "site": "scalp",
            "lesion_size_mm": 15,
            "lesion_count": 1,
            "lesion_depth": "superficial",
            "surgery_possible": "no",
            "prior_treatments": ["radiotherapy"],
            "prior_treatments_other": "",
            "current_treatments": [],
            "current_treatments_other": "",
            "question": "CANARY-7f3a: could the cream help me?",
        },
        detail="short",
        consent_version="test",
    )
    placeholders = {
        "<summary_request>": str(request.public_id),
        "<editor_user>": users["editor"].pk,
        "<editors_group>": Group.objects.get(name=roles.EDITORS).pk,
        "<summary_editor_user>": users["summary_editor"].pk,
        "<summary_editors_group>": Group.objects.get(name=roles.SUMMARY_EDITORS).pk,
    }
    return {"users": users, "placeholders": placeholders}


def rule_path(rule: dict[str, Any], placeholders: dict[str, Any]) -> str:
    if "path" in rule:
        return str(rule["path"])
    kwargs = {k: placeholders.get(v, v) for k, v in (rule.get("kwargs") or {}).items()}
    return reverse(rule["url"], kwargs=kwargs)


def outcome(response: Any) -> str:
    """'allowed' or 'refused' (anything else is reported as it is)."""
    status = response.status_code
    if status in (403, 404, 405):
        return "refused"
    if status in (301, 302):
        location = response["Location"]
        if location.startswith((reverse("wagtailadmin_login"), reverse("core:otp_verify"))):
            return "refused"
        if location.split("?")[0] == reverse("wagtailadmin_home"):
            return "refused"  # Wagtail's "Sorry, you do not have permission" redirect
        return "allowed"
    if status == 200:
        return "allowed"
    return f"status {status}"


def client_for(role: str, world: dict[str, Any]) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world["users"][role])  # also verifies the second factor (conftest)
    return client


def test_every_role_reaches_exactly_what_the_table_allows(world: dict[str, Any]) -> None:
    mismatches = []
    checked = 0
    for role in TABLE["roles"]:
        client = client_for(role, world)
        for rule in TABLE["rules"]:
            path = rule_path(rule, world["placeholders"])
            for method in ("GET", "POST"):
                if method not in rule:
                    continue
                expected = "allowed" if role in rule[method] else "refused"
                response = client.get(path) if method == "GET" else client.post(path, {})
                got = outcome(response)
                checked += 1
                if got != expected:
                    mismatches.append(f"{role} {method} {path}: expected {expected}, got {got}")
    assert mismatches == []
    assert checked >= 5 * len(TABLE["rules"])


def test_personal_data_never_appears_outside_summary_editor_pages(world: dict[str, Any]) -> None:
    """The canary in the stored request shows for Summary editors and nobody else."""
    detail = rule_path(
        {"url": "summaries_admin:detail", "kwargs": {"public_id": "<summary_request>"}},
        world["placeholders"],
    )
    for role in TABLE["roles"]:
        body = client_for(role, world).get(detail).content
        assert (b"CANARY-7f3a" in body) == (role == "summary_editor"), role


def test_the_table_covers_every_installed_role_and_admin_area(world: dict[str, Any]) -> None:
    assert set(TABLE["roles"]) == {"anonymous", *ROLE_GROUPS}
    names = {rule.get("url") for rule in TABLE["rules"]}
    for required in ("summaries_admin:index", "wagtailusers_users:index", "publication:index"):
        assert required in names


def test_only_admins_can_manage_users_and_groups(world: dict[str, Any]) -> None:
    holders = {
        group.name
        for group in Group.objects.all()
        for perm in group.permissions.all()
        if perm.codename in roles.USER_MANAGEMENT
    }
    assert holders == {roles.ADMINS}


def test_ensure_roles_is_idempotent_and_undoes_hand_made_grants(world: dict[str, Any]) -> None:
    editors = Group.objects.get(name=roles.EDITORS)
    before = set(editors.permissions.values_list("pk", flat=True))
    assert roles.ensure_roles() == dict.fromkeys(roles.ROLE_NAMES, 0)
    editors.permissions.add(Permission.objects.get(codename="change_user"))
    assert roles.ensure_roles()[roles.EDITORS] == 1
    assert set(editors.permissions.values_list("pk", flat=True)) == before


def test_editors_cannot_publish_but_clinician_reviewers_can(world: dict[str, Any]) -> None:
    from wagtail.models import Page

    home = Page.objects.get(depth=2, slug="home")
    editor = world["users"]["editor"]
    reviewer = world["users"]["clinician_reviewer"]
    assert home.permissions_for_user(editor).can_edit()
    assert not home.permissions_for_user(editor).can_publish()
    assert home.permissions_for_user(reviewer).can_publish()


def _admin_url_names(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace) if n)
            names |= _admin_url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


# What a Summary editor reaches in the admin without arguments (GET), and nothing more.
SUMMARY_EDITOR_REACH = {
    "wagtailadmin_home",
    "wagtailadmin_account",
    "wagtailadmin_sprite",
    "wagtailadmin_javascript_catalog",
    "wagtailadmin_dismissibles",
    "summaries_admin:index",
    "summaries_rules:index",  # the topics' safety rules (issue #15 §2)
}
# Not walked: the logout (ends the session), the password-reset pages (open to anyone), and
# Wagtail's deliberate test error page.
NOT_WALKED = ("logout", "password_reset", "failwhale")


def test_summary_editors_reach_their_queue_and_nothing_else(
    world: dict[str, Any], settings: Any
) -> None:
    """Every admin URL that needs no argument, walked as a Summary editor (deny by default)."""
    settings.AUDIT_DENIED_LIMIT = 1000
    client = client_for("summary_editor", world)
    reached, walked = set(), 0
    for name in sorted(_admin_url_names(get_resolver().url_patterns)):
        try:
            path = reverse(name)
        except NoReverseMatch:
            continue
        if not path.startswith("/admin/") or any(word in path for word in NOT_WALKED):
            continue
        walked += 1
        if outcome(client.get(path)) == "allowed":
            reached.add(name)
    assert reached == SUMMARY_EDITOR_REACH
    assert walked > 40  # the walk is real: Wagtail's choosers, reports, listings...
