"""The audit log in the Wagtail admin, for superusers: paginated, filterable, exportable.

A Wagtail ReportView: 50 events a page, newest first, filtered by who, action, object and a
date range (django-filter); the CSV/XLSX export takes the same filters and every matching event
(not the latest N), so an old event stays findable however many came after it.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView

from .audit import audit_permission_denied, audit_record
from .models import AuditEvent

ANONYMOUS = "anonymous"
# A spreadsheet cell starting with one of these is read as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _plain_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


class AuditEventFilterSet(WagtailFilterSet):  # type: ignore[misc]
    who = django_filters.CharFilter(
        label="Who",
        method="filter_who",
        help_text=f"A username, exactly (any case), or “{ANONYMOUS}”.",
    )
    action = django_filters.ChoiceFilter(label="Action", empty_label="Any action")
    object_id = django_filters.CharFilter(label="Object id", lookup_expr="exact")
    occurred_at = django_filters.DateFromToRangeFilter(
        label="Date (UTC)", widget=DateRangePickerWidget
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actions = AuditEvent.objects.order_by("action").values_list("action", flat=True)
        self.filters["action"].extra["choices"] = [(a, a) for a in actions.distinct()]

    def filter_who(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> Any:
        value = value.strip()
        if value.casefold() == ANONYMOUS:
            return queryset.filter(Q(actor_id__isnull=True) | Q(actor_username=""))
        return queryset.filter(actor_username__iexact=value)


@method_decorator(never_cache, name="dispatch")
class AuditLogView(ReportView):  # type: ignore[misc]
    """Every audit event, newest first; superusers only (refusals are audited themselves)."""

    page_title = "Audit log"
    header_icon = "list-ul"
    index_url_name = "core_audit"
    index_results_url_name = "core_audit_results"
    model = AuditEvent
    filterset_class = AuditEventFilterSet
    paginate_by = 50
    columns = [
        Column(
            "occurred_at",
            label="Time (UTC)",
            accessor=lambda e: e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
        ),
        Column("actor_username", label="Who", accessor=lambda e: e.actor_username or ANONYMOUS),
        Column("action", label="Action"),
        Column("object", label="Object", accessor=lambda e: f"{e.object_type} {e.object_id}"),
        Column("source_ip", label="Source IP"),
        Column("detail", label="Detail", accessor=lambda e: e.detail or ""),
    ]
    list_export = [
        "occurred_at",
        "actor_id",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "source_ip",
        "detail",
    ]
    export_headings = {
        "occurred_at": "Time (UTC)",
        "actor_id": "User id",
        "actor_username": "Username",
        "action": "Action",
        "object_type": "Object type",
        "object_id": "Object id",
        "source_ip": "Source IP",
        "detail": "Detail",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.custom_field_preprocess = {
            **self.custom_field_preprocess,
            "occurred_at": {
                self.FORMAT_CSV: lambda v: v.strftime("%Y-%m-%d %H:%M:%S"),
                self.FORMAT_XLSX: lambda v: v.replace(tzinfo=None),
            },
            **{
                field: {self.FORMAT_CSV: _plain_cell, self.FORMAT_XLSX: _plain_cell}
                for field in ("actor_username", "action", "object_type", "object_id", "detail")
            },
        }

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not (request.user.is_active and request.user.is_superuser):
            audit_permission_denied(request=request, what="audit_log", object_type="audit_log")
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.order_by("-occurred_at", "-pk")

    def filter_queryset(self, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        # Wagtail lists everything when a filter is invalid (an unknown action, a malformed
        # date); for an audit log, and its export, that would pass for an answer.
        if self.filters is not None and self.filters.is_bound and not self.filters.is_valid():
            return queryset.none()
        return super().filter_queryset(queryset)  # type: ignore[no-any-return]

    def get_filename(self) -> str:
        return "audit-log"

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> Any:
        if self.is_export:
            # Who took a copy of the audit log, and which part of it.
            audit_record(
                action="audit_log.exported",
                request=self.request,
                object_type="audit_log",
                detail={
                    "format": self.request.GET.get("export", ""),
                    "filters": {
                        key: value
                        for key, value in self.request.GET.items()
                        if key not in ("export", "p") and value
                    },
                },
            )
        return super().render_to_response(context, **response_kwargs)
