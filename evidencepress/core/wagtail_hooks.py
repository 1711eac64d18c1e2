"""Admin hooks of the platform layer: privilege rules on the users' bulk actions, the second
factor on restricted pages and documents, and the audit log (core/audit_views.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from wagtail import hooks
from wagtail.admin import messages

from .audit import audit_permission_denied
from .privileges import grants_privileges, is_privileged_group, may_manage_account


@hooks.register("before_bulk_action")
def refuse_bulk_actions_on_privileged_accounts(
    request: HttpRequest, action_type: str, objects: list[Any], action_class_instance: Any
) -> HttpResponse | None:
    """The users listing's bulk actions (assign role, (de)activate, delete) follow the same
    rules as the user forms: no privileged group handed out, no privileged account touched,
    unless by a superuser."""
    if getattr(action_class_instance, "model", None) is not get_user_model():
        return None
    if grants_privileges(request.user):
        return None
    form = getattr(action_class_instance, "cleaned_form", None)
    role = form.cleaned_data.get("role") if form is not None else None
    privileged_role = role is not None and is_privileged_group(role)
    held = [account for account in objects if not may_manage_account(request.user, account)]
    if not privileged_role and not held:
        return None
    audit_permission_denied(request=request, what=f"bulk.{action_type}", object_type="user")
    messages.error(
        request,
        "Nothing was changed: only a superuser can appoint Summary editors, or change "
        "superusers and Summary editors.",
    )
    return redirect("wagtailusers_users:index")
