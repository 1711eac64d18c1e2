"""python manage.py load_topic FILE [--note TEXT]: apply a topic definition file (JSON or YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidencepress.evidence.topic_definition import TopicDefinitionError
from evidencepress.evidence.topics import load_definition_text


class Command(BaseCommand):
    help = (
        "Check a topic definition file against the schema and apply it all-or-nothing: creates "
        "the topic or records a new version when it changed (docs/topic-definition.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The definition file (.json, .yaml, .yml).")
        parser.add_argument("--note", default="", help="Why, recorded with the new version.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file.") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: cannot be read as UTF-8 text ({error}).") from None
        note = options["note"] or f"Loaded from {path.name}"
        try:
            topic, version = load_definition_text(text, source=str(path), note=note)
        except TopicDefinitionError as error:
            problems = "\n".join(error.problems)
            raise CommandError(
                f"{path}: not loaded, nothing was changed ({len(error.problems)} problem(s)):\n"
                f"{problems}"
            ) from None
        if version is None:
            self.stdout.write(f"Topic {topic.slug!r}: unchanged (still version {_latest(topic)}).")
        else:
            self.stdout.write(f"Topic {topic.slug!r}: version {version.number} recorded.")


def _latest(topic: Any) -> str:
    number = topic.versions.order_by("-number").values_list("number", flat=True).first()
    return str(number) if number is not None else "none"
