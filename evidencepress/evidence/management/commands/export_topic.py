"""python manage.py export_topic SLUG [-o FILE]: write a topic's definition file (JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidencepress.evidence.models import Topic
from evidencepress.evidence.topics import export_definition


class Command(BaseCommand):
    help = (
        "Write a topic's definition as a JSON file that load_topic reads back unchanged "
        "(docs/topic-definition.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The topic's slug.")
        parser.add_argument("-o", "--output", type=Path, help="Write to this file, not stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        topic = Topic.objects.filter(slug=options["slug"]).first()
        if topic is None:
            raise CommandError(f"No topic with slug {options['slug']!r}.")
        text = export_definition(topic)
        if options["output"]:
            options["output"].write_text(text, encoding="utf-8")
            self.stderr.write(f"Topic {topic.slug!r} written to {options['output']}")
        else:
            self.stdout.write(text, ending="")
