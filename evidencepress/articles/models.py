"""Public pages. The home page lists topics with their curated cases (articles arrive later)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from evidencepress.evidence.models import Topic


class HomePage(Page):
    introduction = RichTextField(blank=True)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    max_count = 1

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["topics"] = Topic.objects.annotate(
            publication_count=models.Count("publications", distinct=True),
            case_source_count=models.Count("patients__publication", distinct=True),
            patient_count=models.Count("patients", distinct=True),
            demo_patient_count=models.Count(
                "patients", filter=models.Q(patients__is_demo=True), distinct=True
            ),
        )
        return context
