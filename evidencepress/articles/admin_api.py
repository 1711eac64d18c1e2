"""The admin API's pages endpoint, with a reason required to unpublish a signed-off page.

Registered through Wagtail's `construct_admin_api` hook (wagtail_hooks.py); every other action
is Wagtail's. The body of `…/action/unpublish/` must then carry `"reason": "<code>"`, one of
`publishing.WITHDRAWAL_REASONS`; the unpublishing is audited like the admin view's.
"""

from __future__ import annotations

from typing import Any

from rest_framework import fields
from rest_framework.exceptions import ValidationError
from wagtail.admin.api.actions.unpublish import (
    UnpublishPageAPIAction,
    UnpublishPageAPIActionSerializer,
)
from wagtail.admin.api.views import PagesAdminAPIViewSet

from .publishing import WITHDRAWAL_REASONS, withdrawal_needs_reason
from .services import page_withdrawal_record


class ReasonedUnpublishSerializer(UnpublishPageAPIActionSerializer):
    reason = fields.ChoiceField(choices=sorted(WITHDRAWAL_REASONS), required=False)


class ReasonedUnpublishAPIAction(UnpublishPageAPIAction):
    serializer = ReasonedUnpublishSerializer

    def execute(self, instance: Any, data: dict[str, Any]) -> Any:
        page = instance.specific
        needs_reason = withdrawal_needs_reason(page)
        if needs_reason and not data.get("reason"):
            raise ValidationError(
                {"reason": ["A signed-off page is unpublished only with a reason code."]}
            )
        response = super().execute(instance, data)
        if needs_reason:
            page_withdrawal_record(
                page=page,
                reason=data["reason"],
                descendants=bool(data.get("recursive")),
                via="admin API",
                request=self.request,
            )
        return response


class ReviewedPagesAdminAPIViewSet(PagesAdminAPIViewSet):
    actions = {**PagesAdminAPIViewSet.actions, "unpublish": ReasonedUnpublishAPIAction}
