"""The summary review queue in the Wagtail admin, shown only to Summary editors."""

from __future__ import annotations

from typing import Any

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .access import can_access_requests
from .admin_views import admin_urls
from .rule_admin_views import rule_urls


class SummaryEditorsMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return can_access_requests(request.user)


@hooks.register("register_admin_urls")
def register_summary_admin_urls() -> list[Any]:
    return [
        path("summaries/rules/", include((rule_urls(), "summaries_rules"))),
        path("summaries/", include((admin_urls(), "summaries_admin"))),
    ]


@hooks.register("register_admin_menu_item")
def register_summary_menu_item() -> MenuItem:
    return SummaryEditorsMenuItem(
        "Summary requests", reverse("summaries_admin:index"), icon_name="doc-full", order=450
    )


@hooks.register("register_admin_menu_item")
def register_safety_rules_menu_item() -> MenuItem:
    return SummaryEditorsMenuItem(
        "Summary safety rules", reverse("summaries_rules:index"), icon_name="warning", order=460
    )
