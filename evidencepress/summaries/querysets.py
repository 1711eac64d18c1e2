"""Reads of summary requests."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    pass


class SummaryRequestQuerySet(models.QuerySet["SummaryRequest"]):
    def with_status(self, status: str) -> SummaryRequestQuerySet:
        return self.filter(status=status) if status else self

    def closed_before(self, cutoff: datetime) -> SummaryRequestQuerySet:
        """Requests sent or declined at or before `cutoff` (due for deletion)."""
        return self.filter(
            Q(status="sent", sent_at__lte=cutoff) | Q(status="declined", declined_at__lte=cutoff)
        )
