"""Admin hooks of the platform layer: privilege rules on the users' bulk actions, the second
factor on restricted pages and documents, and the audit log (core/audit_views.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem

from .audit import audit_permission_denied
from .audit_views import AuditLogView
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


# --- The second factor for restricted pages and documents -------------------------------------
# Wagtail lets any signed-in session through a "login" or "groups" restriction; a session that
# has only given the password (at /admin/login/, or at Wagtail's own /_util/login/, which
# evidencepress/urls.py now sends to the admin login) must pass the second factor first.


def _needs_second_factor(request: HttpRequest, restrictions: Any) -> HttpResponse | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_verified():
        return None  # anonymous visitors get Wagtail's own login redirect
    if not any(r.restriction_type in (r.LOGIN, r.GROUPS) for r in restrictions):
        return None
    response = HttpResponseRedirect(
        f"{reverse('core:otp_verify')}?{urlencode({'next': request.get_full_path()})}"
    )
    add_never_cache_headers(response)
    return response


@hooks.register("before_serve_page")
def second_factor_for_restricted_pages(
    page: Any, request: HttpRequest, serve_args: Any, serve_kwargs: Any
) -> HttpResponse | None:
    return _needs_second_factor(request, page.get_view_restrictions())


@hooks.register("before_serve_document")
def second_factor_for_restricted_documents(
    document: Any, request: HttpRequest
) -> HttpResponse | None:
    return _needs_second_factor(request, document.collection.get_view_restrictions())


# --- The audit log ----------------------------------------------------------------------------


class SuperuserMenuItem(MenuItem):  # type: ignore[misc]
    def is_shown(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@hooks.register("register_admin_urls")
def register_audit_log_urls() -> list[Any]:
    return [
        path("audit/", AuditLogView.as_view(), name="core_audit"),
        path("audit/results/", AuditLogView.as_view(results_only=True), name="core_audit_results"),
    ]


@hooks.register("register_admin_menu_item")
def register_audit_log_menu_item() -> MenuItem:
    return SuperuserMenuItem("Audit log", reverse("core_audit"), icon_name="list-ul", order=10000)
