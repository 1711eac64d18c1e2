"""python manage.py evidence_summary --topic SLUG --format json|text [--no-demo]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidencepress.evidence.models import Topic
from evidencepress.evidence.synthesis import Proportion, Synthesis
from evidencepress.evidence.topic_reports import CaseFilters, summarise_topic
from evidencepress.evidence.views import any_improvement_label
from evidencepress.evidence.vocabulary import vocabulary_for

DEMO_WARNING = (
    "Includes demonstration data: invented, illustrative cases that are not medical evidence."
)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _line(label: str, share: Proportion) -> str:
    if share.total == 0:
        return f"{label}: no cases"
    return (
        f"{label}: {share.count} of {share.total} ({_percent(share.proportion)}; "
        f"95% CI {_percent(share.ci_low)} to {_percent(share.ci_high)})"
    )


def as_text(topic: Topic, result: Synthesis) -> str:
    lines = [f"{topic.name}: {result.patients} cases in {result.publications} publications"]
    if result.demo_patients:
        lines.append(f"WARNING: {DEMO_WARNING} ({result.demo_patients} of {result.patients})")
    vocabulary = vocabulary_for(topic)
    labels = vocabulary.labels_for("response")
    lines += [_line(labels.get(name, name), share) for name, share in result.responses.items()]
    lines.append(_line(any_improvement_label(vocabulary), result.any_response))
    ttr = result.time_to_response_weeks
    if ttr.reported:
        lines.append(
            f"Time to response: median {ttr.median:g} weeks (IQR {ttr.q1:g}–{ttr.q3:g}, "
            f"range {ttr.minimum:g}–{ttr.maximum:g}), reported for {ttr.reported} responders"
        )
    fu = result.follow_up_months
    if fu.reported:
        lines.append(
            f"Follow-up: median {fu.median:g} months (IQR {fu.q1:g}–{fu.q3:g}, "
            f"range {fu.minimum:g}–{fu.maximum:g}), reported for {fu.reported} cases"
        )
    lines.append(
        _line("Recurrence among responders (where reported)", result.recurrence_among_responders)
    )
    for event in result.adverse_events:
        lines.append(
            f"Adverse event: {event.kind}: {event.patients} patients, {event.events} events"
        )
    missing = ", ".join(f"{name} {count}" for name, count in result.missing.items() if count)
    lines.append(f"Not reported (cases): {missing or 'none'}")
    date = result.evidence_date.date().isoformat() if result.evidence_date else "no cases"
    lines.append(f"Evidence as of: {date}")
    lines.append(
        "Case reports cannot show what will happen to one person: decide with a specialist."
    )
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the synthesis of a topic's cases (counts, proportions with exact 95% intervals)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", required=True, help="Topic slug.")
        parser.add_argument(
            "--format",
            choices=("json", "text"),
            default="text",
            help="json for programs (keys in docs/data-dictionary.md), text for people.",
        )
        parser.add_argument(
            "--no-demo", action="store_true", help="Leave out demonstration (invented) cases."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            topic = Topic.objects.get(slug=options["topic"])
        except Topic.DoesNotExist:
            raise CommandError(f"No topic with slug {options['topic']!r}.") from None
        result = summarise_topic(topic, CaseFilters(include_demo=not options["no_demo"]))
        if options["format"] == "json":
            data = {"topic": topic.slug, **result.as_dict()}
            if result.demo_patients:
                data["warning"] = DEMO_WARNING
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(as_text(topic, result))
