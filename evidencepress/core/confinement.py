"""Summary editors reach the summary requests and nothing else in the admin (docs/roles.yaml).

Wagtail opens a number of admin views to every user who may enter the admin at all: choosers
for pages, documents, images and snippets, the admin API's page listing, the site history
report. A member of "Summary editors" and of no other group is confined, deny by default, to
the admin views named below: their own account, the second-factor steps, the summary request
queue and the topics' safety rules, and what every admin page loads (icons, translations,
dismissed hints). Anything else under /admin/ is refused (403) and the refusal audited
(rate-limited, core/audit.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from .audit import audit_permission_denied
from .roles import SUMMARY_EDITORS

ADMIN_PREFIX = "/admin/"

# Roles confined to a list of admin views: group name -> (URL namespaces, URL names).
CONFINED_ROLES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    SUMMARY_EDITORS: (
        frozenset({"summaries_admin", "summaries_rules", "core"}),
        frozenset(
            {
                "wagtailadmin_home",
                "wagtailadmin_account",
                "wagtailadmin_login",
                "wagtailadmin_logout",
                "wagtailadmin_password_reset",
                "wagtailadmin_password_reset_done",
                "wagtailadmin_password_reset_confirm",
                "wagtailadmin_password_reset_complete",
                "wagtailadmin_sprite",
                "wagtailadmin_javascript_catalog",
                "wagtailadmin_dismissibles",
            }
        ),
    ),
}


def confined_to(user: Any) -> tuple[frozenset[str], frozenset[str]] | None:
    """The (namespaces, names) a user is confined to, or None when not confined."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return None
    groups = set(user.groups.values_list("name", flat=True))
    if len(groups) == 1:
        return CONFINED_ROLES.get(groups.pop())
    return None


class RoleConfinementMiddleware:
    """Refuse a confined role's request for any admin view outside its list."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> None:
        if not request.path_info.startswith(ADMIN_PREFIX):
            return None
        allowed = confined_to(getattr(request, "user", None))
        if allowed is None:
            return None
        namespaces, names = allowed
        match = request.resolver_match
        if match is not None and (
            match.url_name in names or any(ns in namespaces for ns in match.namespaces)
        ):
            return None
        what = match.view_name if match is not None else request.path_info
        audit_permission_denied(request=request, what=f"confined:{what}"[:200])
        raise PermissionDenied
