"""Wagtail's user and group admin, with the privilege rules of core/privileges.py.

Installed through `evidencepress.core.users_app.UsersConfig` (in place of "wagtail.users" in
INSTALLED_APPS), which is how Wagtail lets a project swap the viewsets and forms.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from wagtail.users.forms import GroupForm, UserCreationForm, UserEditForm
from wagtail.users.views import groups as wagtail_groups
from wagtail.users.views import users as wagtail_users

from .audit import audit_permission_denied, audit_record
from .privileges import (
    grantable_groups,
    grants_privileges,
    is_privileged_group,
    may_manage_account,
    may_manage_group,
)

ONLY_SUPERUSERS = "Only a superuser can grant this."


class _GrantLimits:
    """For a user manager who is not a superuser: the superuser box is locked at its current
    value (a disabled field ignores what is posted) and privileged groups are not choices, so
    posting one is a form error and nothing is saved."""

    fields: dict[str, forms.Field]

    def _limit_grants(self, acting_user: Any) -> None:
        if "is_superuser" in self.fields:
            # Wagtail calls it "Administrator", easily taken for our "Admins" role.
            self.fields["is_superuser"].label = "Superuser"
            self.fields[
                "is_superuser"
            ].help_text = (
                "Full access to everything, readers' summary requests and the audit log included."
            )
        if grants_privileges(acting_user):
            return
        if "is_superuser" in self.fields:
            self.fields["is_superuser"].disabled = True
            self.fields["is_superuser"].help_text = ONLY_SUPERUSERS
        if "groups" in self.fields:
            field = self.fields["groups"]
            field.queryset = grantable_groups(acting_user)  # type: ignore[attr-defined]
            field.help_text = "Summary editors can only be appointed by a superuser."


class LimitedUserCreationForm(_GrantLimits, UserCreationForm):  # type: ignore[misc]
    def __init__(self, *args: Any, acting_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_grants(acting_user)


class LimitedUserEditForm(_GrantLimits, UserEditForm):  # type: ignore[misc]
    def __init__(self, *args: Any, acting_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_grants(acting_user)


class _ActingUserFormKwargs:
    request: HttpRequest

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()  # type: ignore[misc]
        kwargs["acting_user"] = self.request.user
        return kwargs


def _refuse(request: HttpRequest, what: str, object_type: str, object_id: Any) -> None:
    audit_permission_denied(
        request=request, what=what, object_type=object_type, object_id=str(object_id)
    )
    raise PermissionDenied


class _GuardAccount:
    """Refuse a view of a privileged account to anyone but a superuser."""

    request: HttpRequest
    guard_what = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = self.get_object()  # type: ignore[attr-defined]
        if not may_manage_account(request.user, account):
            _refuse(request, self.guard_what, "user", account.pk)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc,no-any-return]


class UserCreateView(_ActingUserFormKwargs, wagtail_users.CreateView):  # type: ignore[misc]
    def save_instance(self) -> Any:
        user = super().save_instance()
        if user.is_superuser or any(is_privileged_group(g) for g in user.groups.all()):
            audit_record(
                action="user.privilege_granted",
                request=self.request,
                object_type="user",
                object_id=str(user.pk),
                detail={"superuser": user.is_superuser, "via": "create"},
            )
        return user


class UserEditView(_GuardAccount, _ActingUserFormKwargs, wagtail_users.EditView):  # type: ignore[misc]
    guard_what = "user.edit"

    def save_instance(self) -> Any:
        user = super().save_instance()
        if self.form.has_changed() and {"is_superuser", "groups"} & set(self.form.changed_data):
            audit_record(
                action="user.privilege_changed",
                request=self.request,
                object_type="user",
                object_id=str(user.pk),
                detail={
                    "superuser": user.is_superuser,
                    "groups": sorted(g.name for g in user.groups.all()),
                },
            )
        return user


class UserDeleteView(_GuardAccount, wagtail_users.DeleteView):  # type: ignore[misc]
    guard_what = "user.delete"


class UserIndexView(wagtail_users.IndexView):  # type: ignore[misc]
    """The user list, without Edit or Delete links to accounts the viewer may not manage."""

    def get_edit_url(self, instance: Any) -> str | None:
        if not may_manage_account(self.request.user, instance):
            return None
        return super().get_edit_url(instance)  # type: ignore[no-any-return]

    def get_delete_url(self, instance: Any) -> str | None:
        if not may_manage_account(self.request.user, instance):
            return None
        return super().get_delete_url(instance)  # type: ignore[no-any-return]


class UserViewSet(wagtail_users.UserViewSet):  # type: ignore[misc]
    index_view_class = UserIndexView
    add_view_class = UserCreateView
    edit_view_class = UserEditView
    delete_view_class = UserDeleteView

    def get_form_class(self, for_update: bool = False) -> type[forms.ModelForm[Any]]:
        return LimitedUserEditForm if for_update else LimitedUserCreationForm


class LimitedGroupForm(GroupForm):  # type: ignore[misc]
    def __init__(self, *args: Any, acting_user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acting_user = acting_user

    def clean_name(self) -> str:
        name: str = super().clean_name()
        if is_privileged_group(name) and not grants_privileges(self.acting_user):
            raise forms.ValidationError(
                "Only a superuser can create or rename a group to this name."
            )
        return name


class _GuardGroup:
    request: HttpRequest
    guard_what = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        group = self.get_object()  # type: ignore[attr-defined]
        if not may_manage_group(request.user, group):
            _refuse(request, self.guard_what, "group", group.pk)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc,no-any-return]


class GroupCreateView(_ActingUserFormKwargs, wagtail_groups.CreateView):  # type: ignore[misc]
    pass


class GroupEditView(_GuardGroup, _ActingUserFormKwargs, wagtail_groups.EditView):  # type: ignore[misc]
    guard_what = "group.edit"


class GroupDeleteView(_GuardGroup, wagtail_groups.DeleteView):  # type: ignore[misc]
    guard_what = "group.delete"


class GroupViewSet(wagtail_groups.GroupViewSet):  # type: ignore[misc]
    add_view_class = GroupCreateView
    edit_view_class = GroupEditView
    delete_view_class = GroupDeleteView

    def get_form_class(self, for_update: bool = False) -> type[forms.ModelForm[Any]]:
        return LimitedGroupForm
