"""Load the demo content: real references, illustrative cases and the site's home page."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evidencepress.demo.loader import load_demo


class Command(BaseCommand):
    help = (
        "Load the demo topics, treatments, real reference publications and the illustrative "
        "(invented) cases, and make the home page the site root. Safe to run again: it creates "
        "only what is missing and never overwrites an editor's changes to real publications."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = load_demo()
        created = {
            k.removesuffix("_created"): v for k, v in counts.items() if k.endswith("_created")
        }
        updated = {
            k.removesuffix("_updated"): v for k, v in counts.items() if k.endswith("_updated")
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: created {_describe(created)}; updated {_describe(updated)}."
            )
        )


def _describe(counts: dict[str, int]) -> str:
    parts = [f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(counts.items()) if n]
    return ", ".join(parts) if parts else "nothing"
