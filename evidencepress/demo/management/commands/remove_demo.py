"""Remove all demonstration data, keeping the real publications."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evidencepress.demo.loader import remove_demo


class Command(BaseCommand):
    help = (
        "Delete every demonstration publication with its illustrative cases, adverse events, "
        "source spans and appraisal, and the demo topics and treatments that nothing else "
        "uses. Real publications are kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = remove_demo()
        summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data removed: {summary}."))
