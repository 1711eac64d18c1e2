"""Read paths for the evidence base, as QuerySet methods named as adjectives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from .models import Topic


# Publication columns that no public page, feed, export or draft shows, and that an import can
# make very large (an abstract of hundreds of megabytes): pages never read them, so one huge
# record cannot make every view of it slow and memory-hungry (docs/security.md, "One huge
# record"). The admin's edit form reads them as usual.
UNSHOWN_PUBLICATION_FIELDS = ("abstract", "mesh_terms", "keywords", "publication_types")


def unshown_publication_fields(prefix: str = "") -> tuple[str, ...]:
    """UNSHOWN_PUBLICATION_FIELDS, prefixed for a relation (e.g. "publication__")."""
    return tuple(f"{prefix}{name}" for name in UNSHOWN_PUBLICATION_FIELDS)


class PublicationQuerySet(models.QuerySet):
    def for_display(self) -> PublicationQuerySet:
        """Without the columns no public page shows (see UNSHOWN_PUBLICATION_FIELDS)."""
        return self.defer(*UNSHOWN_PUBLICATION_FIELDS)

    def for_topic(self, topic: Topic) -> PublicationQuerySet:
        return self.filter(topics=topic)

    def real(self) -> PublicationQuerySet:
        return self.filter(is_demo=False)

    def demo(self) -> PublicationQuerySet:
        return self.filter(is_demo=True)


class PatientQuerySet(models.QuerySet):
    def for_topic(self, topic: Topic) -> PatientQuerySet:
        return self.filter(topic=topic)

    def real(self) -> PatientQuerySet:
        return self.filter(is_demo=False)

    def demo(self) -> PatientQuerySet:
        return self.filter(is_demo=True)

    def with_related(self) -> PatientQuerySet:
        return (
            self.select_related("publication", "topic")
            .defer(*unshown_publication_fields("publication__"))
            .prefetch_related(
                "prior_treatments", "concurrent_treatments", "adverse_events", "source_spans"
            )
        )

    def matching(self, **filters: Any) -> PatientQuerySet:
        """Filter on the case fields used by the synthesis (None means: do not filter)."""
        qs = self
        for key in ("setting", "site__iexact", "lesion_depth", "surgery_candidate"):
            value = filters.get(key)
            if value is not None:
                qs = qs.filter(**{key: value})
        treatment = filters.get("concurrent_treatment")
        if treatment:
            qs = qs.filter(concurrent_treatments__slug=treatment).distinct()
        return qs
