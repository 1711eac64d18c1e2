"""Only superusers grant superuser status or Summary editors (issue #14, B7).

Each test is a hostile Admin (a member of the Admins group, signed in with the second factor)
trying one way to make someone, usually themselves, a superuser or a Summary editor, or to take
over an account that already is one; and the superuser doing the same legitimately.
"""

from __future__ import annotations

import re
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from evidencepress.core import roles
from evidencepress.core.models import AuditEvent

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def people(staff_roles: None) -> dict[str, Any]:
    return {
        "admin": make_user("hostile-admin", group=roles.ADMINS),
        "summary_editor": make_user("sue", group=roles.SUMMARY_EDITORS),
        "editor": make_user("edna", group=roles.EDITORS),
        "superuser": make_user("root", superuser=True),
        "summary_editors": Group.objects.get(name=roles.SUMMARY_EDITORS),
        "admins": Group.objects.get(name=roles.ADMINS),
    }


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)  # with a verified second factor (tests/conftest.py)
    return client


def new_user_form(username: str, **extra: Any) -> dict[str, Any]:
    return {
        "username": username,
        "email": f"{username}@example.org",
        "first_name": "New",
        "last_name": "Person",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }


def edit_form(user: Any, **extra: Any) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name or "First",
        "last_name": user.last_name or "Last",
        "is_active": "on",
        "groups": [g.pk for g in user.groups.all()],
        **extra,
    }


def refused(response: Any) -> bool:
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and response["Location"].split("?")[0] in (
        reverse("wagtailadmin_home"),
        reverse("wagtailusers_users:index"),
    )


def can_read_personal_data_or_audit(user: Any) -> bool:
    client = signed_in(user)
    return any(
        client.get(reverse(name)).status_code == 200
        for name in ("summaries_admin:index", "core_audit")
    )


# --- an Admin trying -------------------------------------------------------------------------


def test_admin_cannot_create_a_superuser(people: dict[str, Any]) -> None:
    client = signed_in(people["admin"])
    form = client.get(reverse("wagtailusers_users:add"))
    assert form.status_code == 200
    assert 'name="is_superuser"' in form.content.decode()  # shown, but locked
    response = client.post(
        reverse("wagtailusers_users:add"), new_user_form("mole", is_superuser="on")
    )
    assert response.status_code == 302
    mole = User.objects.get(username="mole")
    assert not mole.is_superuser
    assert not can_read_personal_data_or_audit(mole)


def test_admin_cannot_create_a_summary_editor(people: dict[str, Any]) -> None:
    client = signed_in(people["admin"])
    response = client.post(
        reverse("wagtailusers_users:add"),
        new_user_form("mole", groups=[people["summary_editors"].pk]),
    )
    assert response.status_code == 200  # the form again, with an error
    assert not User.objects.filter(username="mole").exists()
    page = client.get(reverse("wagtailusers_users:add")).content.decode()
    offered = {int(pk) for pk in re.findall(r'name="groups" value="(\d+)"', page)}
    assert people["admins"].pk in offered
    assert people["summary_editors"].pk not in offered


def test_admin_cannot_make_themselves_a_summary_editor_or_superuser(
    people: dict[str, Any],
) -> None:
    admin = people["admin"]
    client = signed_in(admin)
    url = reverse("wagtailusers_users:edit", args=[admin.pk])
    response = client.post(
        url,
        edit_form(
            admin,
            is_superuser="on",
            groups=[people["admins"].pk, people["summary_editors"].pk],
        ),
    )
    assert response.status_code == 200  # refused as a form error
    admin.refresh_from_db()
    assert not admin.is_superuser
    assert not admin.groups.filter(name=roles.SUMMARY_EDITORS).exists()
    assert not can_read_personal_data_or_audit(admin)


def test_admin_cannot_promote_another_user(people: dict[str, Any]) -> None:
    editor = people["editor"]
    client = signed_in(people["admin"])
    url = reverse("wagtailusers_users:edit", args=[editor.pk])
    client.post(url, edit_form(editor, is_superuser="on"))
    editor.refresh_from_db()
    assert not editor.is_superuser
    client.post(url, edit_form(editor, groups=[people["summary_editors"].pk]))
    assert not editor.groups.filter(name=roles.SUMMARY_EDITORS).exists()
    # Ordinary roles are still the Admin's to give.
    editors = Group.objects.get(name=roles.CLINICIAN_REVIEWERS)
    assert client.post(url, edit_form(editor, groups=[editors.pk])).status_code == 302
    assert editor.groups.filter(pk=editors.pk).exists()


@pytest.mark.parametrize("target", ["summary_editor", "superuser"])
def test_admin_cannot_touch_privileged_accounts(people: dict[str, Any], target: str) -> None:
    account = people[target]
    client = signed_in(people["admin"])
    edit = reverse("wagtailusers_users:edit", args=[account.pk])
    assert refused(client.get(edit))
    # Changing the email would let a password reset take the account over.
    assert refused(client.post(edit, edit_form(account, email="mole@evil.example")))
    assert refused(client.get(reverse("wagtailusers_users:delete", args=[account.pk])))
    assert refused(client.post(reverse("wagtailusers_users:delete", args=[account.pk])))
    account.refresh_from_db()
    assert account.email != "mole@evil.example"
    assert account.is_active
    assert AuditEvent.objects.filter(
        action="permission_denied", actor_id=people["admin"].pk, object_id=str(account.pk)
    ).exists()


def test_admin_cannot_change_rename_or_delete_the_summary_editors_group(
    people: dict[str, Any],
) -> None:
    group = people["summary_editors"]
    client = signed_in(people["admin"])
    edit = reverse("wagtailusers_groups:edit", args=[group.pk])
    assert refused(client.get(edit))
    assert refused(client.post(edit, {"name": "Old summary editors"}))
    delete = reverse("wagtailusers_groups:delete", args=[group.pk])
    assert refused(client.post(delete))
    group.refresh_from_db()
    assert group.name == roles.SUMMARY_EDITORS


def group_form(client: Client, url: str, name: str) -> dict[str, Any]:
    """What the group form posts: the name and the permission panels' management forms."""
    page = client.get(url).content.decode()
    data: dict[str, Any] = dict(
        re.findall(
            r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d*)"', page
        )
    )
    assert data, "no permission formsets found on the group form"
    data["name"] = name
    return data


@pytest.mark.parametrize("name", ["Summary editors", "summary editors"])
def test_admin_cannot_name_a_group_summary_editors(people: dict[str, Any], name: str) -> None:
    client = signed_in(people["admin"])
    people["summary_editors"].delete()  # even once the real group is gone
    # Make a new group under the privileged name, or rename an existing one to it.
    add = reverse("wagtailusers_groups:add")
    response = client.post(add, group_form(client, add, name))
    assert response.status_code == 200
    assert not Group.objects.filter(name__iexact=name).exists()
    editors = Group.objects.get(name=roles.EDITORS)
    edit = reverse("wagtailusers_groups:edit", args=[editors.pk])
    assert client.post(edit, group_form(client, edit, name)).status_code == 200
    assert Group.objects.filter(pk=editors.pk, name=roles.EDITORS).exists()
    # Any other name is the Admin's to choose.
    assert client.post(add, group_form(client, add, "Volunteers")).status_code == 302


def test_admin_cannot_use_bulk_actions_to_appoint_or_take_over(people: dict[str, Any]) -> None:
    admin, superuser = people["admin"], people["superuser"]
    client = signed_in(admin)

    def bulk(action: str, ids: list[int], data: dict[str, Any]) -> Any:
        url = reverse("wagtail_bulk_action", args=["auth", "user", action])
        query = "&".join(f"id={pk}" for pk in ids)
        return client.post(f"{url}?{query}", data)

    bulk("assign_role", [admin.pk], {"role": people["summary_editors"].pk})
    assert not admin.groups.filter(name=roles.SUMMARY_EDITORS).exists()
    bulk("set_active_state", [superuser.pk, people["editor"].pk], {"mark_as_active": "False"})
    superuser.refresh_from_db()
    assert superuser.is_active
    bulk("assign_role", [people["summary_editor"].pk], {"role": people["admins"].pk})
    assert not people["summary_editor"].groups.filter(name=roles.ADMINS).exists()
    # A legitimate bulk action still works.
    bulk("assign_role", [people["editor"].pk], {"role": people["admins"].pk})
    assert people["editor"].groups.filter(name=roles.ADMINS).exists()


# --- the superuser may ------------------------------------------------------------------------


def test_a_superuser_can_appoint_superusers_and_summary_editors(people: dict[str, Any]) -> None:
    client = signed_in(people["superuser"])
    response = client.post(
        reverse("wagtailusers_users:add"),
        new_user_form("newroot", is_superuser="on", groups=[people["summary_editors"].pk]),
    )
    assert response.status_code == 302
    created = User.objects.get(username="newroot")
    assert created.is_superuser
    assert created.groups.filter(name=roles.SUMMARY_EDITORS).exists()
    assert AuditEvent.objects.filter(
        action="user.privilege_granted", object_id=str(created.pk)
    ).exists()
    editor = people["editor"]
    response = client.post(
        reverse("wagtailusers_users:edit", args=[editor.pk]),
        edit_form(editor, groups=[people["summary_editors"].pk]),
    )
    assert response.status_code == 302
    assert editor.groups.filter(name=roles.SUMMARY_EDITORS).exists()
    assert (
        client.get(
            reverse("wagtailusers_groups:edit", args=[people["summary_editors"].pk])
        ).status_code
        == 200
    )


# --- the settings these guards hang on are checked at deployment -------------------------------


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("INSTALLED_APPS", ("evidencepress.core.users_app.UsersConfig", "wagtail.users"), "S020"),
        ("AXES_CLIENT_IP_CALLABLE", None, "S021"),
        ("WAGTAIL_FRONTEND_LOGIN_URL", "/_util/login/", "S022"),
        ("MIDDLEWARE", "evidencepress.core.confinement.RoleConfinementMiddleware", "S023"),
    ],
)
def test_deploy_checks_notice_a_guard_switched_off(name: str, value: Any, check_id: str) -> None:
    from django.conf import settings

    from evidencepress.core.checks import check_privilege_guards

    assert check_privilege_guards() == []
    if name == "INSTALLED_APPS":
        old, new = value
        value = [new if app == old else app for app in settings.INSTALLED_APPS]
    elif name == "MIDDLEWARE":
        value = [entry for entry in settings.MIDDLEWARE if entry != value]
    # Patched without the setting_changed signal: only the check reads it, no app reloads.
    with mock.patch.object(settings, name, value):
        ids = {message.id for message in check_privilege_guards()}
    assert ids == {f"evidencepress.{check_id}"}


def test_the_user_list_offers_no_edit_or_delete_of_privileged_accounts(
    people: dict[str, Any],
) -> None:
    """An Admin sees no Edit or Delete link that would only answer 403 (the guard still holds)."""
    page = signed_in(people["admin"]).get(reverse("wagtailusers_users:index")).content.decode()
    for target in ("summary_editor", "superuser"):
        pk = people[target].pk
        assert reverse("wagtailusers_users:edit", args=[pk]) not in page
        assert reverse("wagtailusers_users:delete", args=[pk]) not in page
    editor = people["editor"].pk
    assert reverse("wagtailusers_users:edit", args=[editor]) in page
    # A superuser still sees every account's links.
    page = signed_in(people["superuser"]).get(reverse("wagtailusers_users:index")).content.decode()
    assert reverse("wagtailusers_users:edit", args=[people["summary_editor"].pk]) in page
