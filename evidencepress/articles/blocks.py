"""Article blocks. Each has its own template in templates/blocks/.

Blocks that show numbers (evidence summary, case table, swimmer plot, limits, research
questions) have no number fields at all: they read the page's `evidence_report`, computed from
the topic's curated cases as a clinician reviewed them (articles/evidence_pins.py). Prose blocks
carry a list of cited publications, and their rich text may cite publications inside a sentence
(articles/rich_text.py); the article's numbered reference list is built from both.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images.blocks import ImageChooserBlock
from wagtail.snippets.blocks import SnippetChooserBlock

from evidencepress.evidence.vocabulary import vocabulary_for

from .citations import inline_citation_ids

# Publications already read for the page being converted (see `publications_prefetched`).
_PREFETCHED: ContextVar[Mapping[int, Any] | None] = ContextVar(
    "prefetched_publications", default=None
)
# Clinical reviewers already read, for clinician steps (see `publications_prefetched`).
_PREFETCHED_REVIEWERS: ContextVar[Mapping[int, Any] | None] = ContextVar(
    "prefetched_reviewers", default=None
)


@contextmanager
def publications_prefetched(
    found: Mapping[int, Any], reviewers: Mapping[int, Any] | None = None
) -> Iterator[None]:
    """While active, citation choosers take their publications from `found` (id -> instance),
    and clinician steps their clinician from `reviewers`, instead of querying the database once
    per block type (or per article). Ids missing from a mapping fall back to the normal
    lookup, so a stale or partial mapping can never drop a citation or a name."""
    token = _PREFETCHED.set(found)
    reviewers_token = _PREFETCHED_REVIEWERS.set(reviewers)
    try:
        yield
    finally:
        _PREFETCHED_REVIEWERS.reset(reviewers_token)
        _PREFETCHED.reset(token)


class PublicationChooserBlock(blocks.ChooserBlock):
    """Choose an evidence.Publication with the evidence app's admin chooser (search by title,
    PMID or DOI); a plain select list if that chooser is not installed."""

    def bulk_to_python(self, values: Any) -> list[Any]:
        """Wagtail's `ChooserBlock.bulk_to_python`, served from the prefetched publications
        when every id is there (one query per page instead of one per block type)."""
        values = list(values)
        found = _PREFETCHED.get()
        ids = [_as_pk(value) for value in values]
        if found is None or any(pk is not None and pk not in found for pk in ids):
            looked_up: list[Any] = super().bulk_to_python(values)
            return looked_up
        result: list[Any] = []
        seen: set[int] = set()
        for pk in ids:
            obj = found.get(pk) if pk is not None else None
            if obj is not None and pk in seen:
                obj = copy.copy(obj)  # as Wagtail does: one instance per occurrence
            result.append(obj)
            if pk is not None:
                seen.add(pk)
        return result

    @cached_property
    def target_model(self) -> Any:
        from evidencepress.evidence.models import Publication

        return Publication

    @cached_property
    def widget(self) -> forms.Widget:
        try:
            from evidencepress.evidence.viewsets import PublicationChooserWidget
        except ImportError:  # pragma: no cover - the evidence admin is part of the project
            return forms.Select()
        return PublicationChooserWidget()

    def get_form_state(self, value: Any) -> Any:
        if hasattr(self.widget, "get_value_data"):
            return self.widget.get_value_data(value)
        return str(value.pk) if value is not None else ""

    class Meta:
        icon = "doc-full"


def citations_block() -> blocks.ListBlock:
    return blocks.ListBlock(
        PublicationChooserBlock(),
        required=False,
        default=[],
        label="Sources cited",
        help_text="The publications this section relies on; they are numbered in the references.",
    )


# Rich-text features of article prose; "citation" cites a publication inside a sentence
# (articles/rich_text.py).
PROSE_FEATURES = ["bold", "italic", "link", "citation", "ol", "ul"]
CALLOUT_FEATURES = ["bold", "italic", "link", "citation", "ul"]


# A section heading is a few words: a long one wraps to many lines above a chart (plots._titles
# fills 44 characters a line) and crowds the table of contents.
HEADING_MAX_LENGTH = 80


def heading_block(default: str) -> blocks.CharBlock:
    return blocks.CharBlock(
        default=default,
        max_length=HEADING_MAX_LENGTH,
        help_text=f"A few words; at most {HEADING_MAX_LENGTH} characters.",
    )


class CitedRichTextBlock(blocks.StructBlock):
    text = blocks.RichTextBlock(features=[*PROSE_FEATURES, "h3"])
    citations = citations_block()

    class Meta:
        icon = "pilcrow"
        label = "Rich text"
        template = "blocks/rich_text.html"


class MechanismBlock(blocks.StructBlock):
    heading = heading_block("How it works")
    text = blocks.RichTextBlock(features=PROSE_FEATURES)
    citations = citations_block()

    class Meta:
        icon = "cogs"
        label = "How it works (mechanism)"
        template = "blocks/mechanism.html"


class ScenarioBlock(blocks.StructBlock):
    title = blocks.CharBlock(help_text='e.g. "A small patch on the scalp, and surgery is risky"')
    description = blocks.TextBlock()


class WhoMightBenefitBlock(blocks.StructBlock):
    heading = heading_block("Who might benefit")
    intro = blocks.TextBlock(required=False)
    scenarios = blocks.ListBlock(ScenarioBlock(), min_num=1)
    citations = citations_block()

    class Meta:
        icon = "group"
        label = "Who might benefit"
        template = "blocks/who_might_benefit.html"


class PracticalTipsBlock(blocks.StructBlock):
    heading = heading_block("Practical tips and downsides")
    tips = blocks.ListBlock(blocks.TextBlock(), min_num=1)
    downsides = blocks.ListBlock(blocks.TextBlock(), min_num=1)
    citations = citations_block()

    class Meta:
        icon = "tick"
        label = "Practical tips and downsides"
        template = "blocks/practical_tips.html"


class ClinicianStepsBlock(blocks.StructBlock):
    heading = heading_block("How a clinician might apply this")
    clinician = SnippetChooserBlock("articles.ClinicalReviewer", required=False)
    clinician_name = blocks.CharBlock(
        required=False, help_text="Only if the clinician is not in the reviewers list."
    )
    steps = blocks.ListBlock(blocks.TextBlock(), min_num=1, label="Steps, in order")
    citations = citations_block()

    class Meta:
        icon = "list-ol"
        label = "Clinician application steps"
        template = "blocks/clinician_steps.html"

    def bulk_to_python(self, values: Any) -> list[Any]:
        """StructBlock's conversion, with the clinicians taken from the prefetched reviewers
        when every one of them is there."""
        values = list(values)
        found = _PREFETCHED_REVIEWERS.get()
        ids = [_as_pk(raw.get("clinician")) if isinstance(raw, Mapping) else None for raw in values]
        if found is None or any(pk is not None and pk not in found for pk in ids):
            looked_up: list[Any] = super().bulk_to_python(values)
            return looked_up
        stripped = [
            {**raw, "clinician": None} if isinstance(raw, Mapping) else raw for raw in values
        ]
        converted: list[Any] = super().bulk_to_python(stripped)
        for value, pk in zip(converted, ids, strict=True):
            value["clinician"] = copy.copy(found[pk]) if pk is not None else None
        return converted

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value.get("clinician") and not (value.get("clinician_name") or "").strip():
            raise StructBlockValidationError(
                block_errors={
                    "clinician": ValidationError("Name the clinician these steps come from.")
                }
            )
        return value


class CaseImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        max_length=300,
        help_text="Required: describe what the image shows for people who cannot see it.",
    )
    caption = blocks.TextBlock(required=False)
    source_publication = PublicationChooserBlock(
        required=False, help_text="The publication the image comes from, if any."
    )
    credit = blocks.CharBlock(help_text='e.g. "Diagram: EvidencePress (own work)".')
    licence = blocks.CharBlock(help_text='e.g. "CC BY 4.0".')
    consent = blocks.CharBlock(
        label="Consent statement",
        help_text='e.g. "Patient consent for publication reported by the authors", or '
        '"Not applicable: a drawing, no patient shown".',
    )
    sensitive = blocks.BooleanBlock(
        required=False,
        help_text="Blur the image until the reader chooses to see it (e.g. wounds, surgery).",
    )

    class Meta:
        icon = "image"
        label = "Case image"
        template = "blocks/case_image.html"


class ProsConsBlock(blocks.StructBlock):
    heading = heading_block("Pros and cons")
    pros = blocks.ListBlock(blocks.TextBlock(), min_num=1, label="For")
    cons = blocks.ListBlock(blocks.TextBlock(), min_num=1, label="Against")
    citations = citations_block()

    class Meta:
        icon = "resubmit"
        label = "Pros and cons"
        template = "blocks/pros_cons.html"


class _ReportBlock(blocks.StructBlock):
    """A block that reads the page topic's computed evidence report."""

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> Any:
        context = super().get_context(value, parent_context)
        page = (parent_context or {}).get("page")
        context["report"] = getattr(page, "evidence_report", None)
        return context


class EvidenceSummaryBlock(_ReportBlock):
    heading = heading_block("What the reports show")
    intro = blocks.TextBlock(required=False)

    class Meta:
        icon = "table"
        label = "Live evidence summary"
        template = "blocks/evidence_summary.html"


class CaseTableBlock(_ReportBlock):
    heading = heading_block("Every reported case")
    caption = blocks.CharBlock(required=False)

    class Meta:
        icon = "table"
        label = "Case table"
        template = "blocks/case_table.html"


class SwimmerPlotBlock(_ReportBlock):
    heading = heading_block("Each patient's course")
    caption = blocks.TextBlock(required=False)

    class Meta:
        icon = "time"
        label = "Swimmer plot"
        template = "blocks/swimmer_plot.html"

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> Any:
        context = super().get_context(value, parent_context)
        context.update(swimmer_plot(context["report"], title=value.get("heading") or ""))
        return context


def swimmer_plot(report: Any, *, title: str) -> dict[str, Any]:
    """The SVG and data-table rows from evidence.plots, or None for either when unavailable."""
    if report is None or not report.cases:
        return {"svg": None, "rows": None}
    try:
        from evidencepress.evidence import plots
    except ImportError:
        return {"svg": None, "rows": None}
    svg = rows = None
    # Outcomes in the topic's own words (plots keeps the charts it drew: same input, same SVG).
    vocabulary = vocabulary_for(getattr(report, "topic", None))
    if hasattr(plots, "swimmer_plot_svg"):
        svg = plots.swimmer_plot_svg(tuple(report.cases), title=title, vocabulary=vocabulary)
    if hasattr(plots, "swimmer_rows"):
        rows = list(plots.swimmer_rows(report.cases, vocabulary=vocabulary))
    return {"svg": svg, "rows": rows}


class LimitsBlock(_ReportBlock):
    heading = heading_block("Limits of the evidence")
    text = blocks.RichTextBlock(features=CALLOUT_FEATURES)
    citations = citations_block()

    class Meta:
        icon = "warning"
        label = "Limits of the evidence"
        template = "blocks/limits.html"


class KeyTakeawaysBlock(blocks.StructBlock):
    heading = heading_block("Key takeaways")
    items = blocks.ListBlock(blocks.TextBlock(), min_num=1)
    citations = citations_block()

    class Meta:
        icon = "pick"
        label = "Key takeaways"
        template = "blocks/takeaways.html"


class QuickPointersBlock(blocks.StructBlock):
    heading = heading_block("Quick pointers")
    items = blocks.ListBlock(blocks.CharBlock(), min_num=1)

    class Meta:
        icon = "arrow-right"
        label = "Quick pointers"
        template = "blocks/quick_pointers.html"


class ResearchQuestionsBlock(_ReportBlock):
    heading = heading_block("What research still needs to answer")
    intro = blocks.TextBlock(required=False)

    class Meta:
        icon = "help"
        label = "Research questions (computed gaps)"
        template = "blocks/research_questions.html"


class DoctorQuestionsBlock(blocks.StructBlock):
    heading = heading_block("Questions to ask your doctor")
    questions = blocks.ListBlock(blocks.CharBlock(), min_num=1)

    class Meta:
        icon = "help"
        label = "Questions to ask your doctor"
        template = "blocks/doctor_questions.html"


class SafetyCalloutBlock(blocks.StructBlock):
    heading = heading_block("Safety")
    level = blocks.ChoiceBlock(
        choices=[("caution", "Caution"), ("urgent", "Get help now")], default="caution"
    )
    text = blocks.RichTextBlock(features=CALLOUT_FEATURES)
    citations = citations_block()

    class Meta:
        icon = "warning"
        label = "Safety callout"
        template = "blocks/safety_callout.html"


class ArticleStreamBlock(blocks.StreamBlock):
    rich_text = CitedRichTextBlock()
    mechanism = MechanismBlock()
    who_might_benefit = WhoMightBenefitBlock()
    practical_tips = PracticalTipsBlock()
    clinician_steps = ClinicianStepsBlock()
    case_image = CaseImageBlock()
    pros_cons = ProsConsBlock()
    evidence_summary = EvidenceSummaryBlock()
    case_table = CaseTableBlock()
    swimmer_plot = SwimmerPlotBlock()
    limits = LimitsBlock()
    takeaways = KeyTakeawaysBlock()
    quick_pointers = QuickPointersBlock()
    research_questions = ResearchQuestionsBlock()
    doctor_questions = DoctorQuestionsBlock()
    safety = SafetyCalloutBlock()


# Sections an article needs before it may be submitted for clinical review.
REQUIRED_SECTIONS = {
    "mechanism": "How it works (mechanism)",
    "who_might_benefit": "Who might benefit",
    "pros_cons": "Pros and cons",
    "limits": "Limits of the evidence",
    "takeaways": "Key takeaways",
    "doctor_questions": "Questions to ask your doctor",
}
# Blocks that show the topic's cases: the case publications count as cited by them.
CASE_BLOCKS = frozenset({"evidence_summary", "case_table", "swimmer_plot"})
# Of those, the ones that put a reference number next to each case.
CASE_BLOCKS_WITH_MARKERS = frozenset({"case_table"})
# Struct fields that are not reader-facing prose (left out of the reading level).
_NOT_PROSE = frozenset(
    {"heading", "credit", "licence", "consent", "alt_text", "clinician_name", "level"}
)


def missing_required_sections(body: Iterable[Any]) -> list[str]:
    """Labels of required sections with no block, or only blocks without text."""
    present = {
        child.block_type
        for child in body
        if any(t.strip() for t in block_text(child.block, child.value))
    }
    return [label for name, label in REQUIRED_SECTIONS.items() if name not in present]


def _as_pk(value: Any) -> int | None:
    value = getattr(value, "pk", value)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _raw_leaves(block: blocks.Block, raw: Any) -> Iterator[tuple[blocks.Block, Any]]:
    """(leaf block, stored value) for every non-container block in a stored (JSON) value,
    in reading order (struct fields in their declared order)."""
    if raw is None:
        return
    if isinstance(block, blocks.StructBlock):
        if isinstance(raw, Mapping):
            for name, child in block.child_blocks.items():
                yield from _raw_leaves(child, raw.get(name))
    elif isinstance(block, blocks.ListBlock):
        for item in raw if isinstance(raw, list) else ():
            if isinstance(item, Mapping) and item.get("type") == "item" and "value" in item:
                item = item["value"]  # the list's block format: {"type", "value", "id"}
            yield from _raw_leaves(block.child_block, item)
    elif isinstance(block, blocks.StreamBlock):
        for item in raw if isinstance(raw, list) else ():
            child = block.child_blocks.get(item.get("type")) if isinstance(item, Mapping) else None
            if child is not None:
                yield from _raw_leaves(child, item.get("value"))
    else:
        yield block, raw


def raw_chosen_ids(block: blocks.Block, raw: Any) -> Iterator[tuple[blocks.ChooserBlock, int]]:
    """(chooser block, id) for every object chosen in a block's stored (JSON) value —
    publications, images, reviewers — without converting it to Python objects."""
    for leaf, value in _raw_leaves(block, raw):
        if isinstance(leaf, blocks.ChooserBlock):
            pk = _as_pk(value)
            if pk is not None:
                yield leaf, pk


def raw_publication_ids(block: blocks.Block, raw: Any) -> Iterator[int]:
    """Publication ids a block's stored value cites, in reading order — chosen in "Sources
    cited" lists and image sources, and cited inline in its rich text — without converting it:
    what a page needs to number and read all its citations in one query."""
    for leaf, value in _raw_leaves(block, raw):
        if isinstance(leaf, PublicationChooserBlock):
            pk = _as_pk(value)
            if pk is not None:
                yield pk
        elif isinstance(leaf, blocks.RichTextBlock) and isinstance(value, str):
            yield from inline_citation_ids(value)


def cited_publication_ids(block: blocks.Block, value: Any) -> Iterator[int]:
    """Primary keys of the publications a block value cites, in order (inline citations in
    rich text included)."""
    if value is None:
        return
    if isinstance(block, PublicationChooserBlock):
        pk = getattr(value, "pk", value)
        if pk:
            yield int(pk)
    elif isinstance(block, blocks.RichTextBlock):
        yield from inline_citation_ids(getattr(value, "source", str(value)))
    elif isinstance(block, blocks.StructBlock):
        for name, child in block.child_blocks.items():
            yield from cited_publication_ids(child, value.get(name))
    elif isinstance(block, blocks.ListBlock):
        for item in value:
            yield from cited_publication_ids(block.child_block, item)


def block_text(block: blocks.Block, value: Any) -> list[str]:
    """The reader-facing prose an editor wrote in a block, one string per paragraph or item."""
    if value is None:
        return []
    if isinstance(block, blocks.RichTextBlock):
        source = getattr(value, "source", str(value))
        paragraphs = source.replace("</p>", "</p>\n").replace("</li>", "</li>\n").split("\n")
        return [" ".join(strip_tags(p).split()) for p in paragraphs if strip_tags(p).strip()]
    if isinstance(block, (blocks.CharBlock, blocks.TextBlock)):
        return [str(value)] if str(value).strip() else []
    if isinstance(block, blocks.StructBlock):
        out: list[str] = []
        for name, child in block.child_blocks.items():
            if name not in _NOT_PROSE:
                out.extend(block_text(child, value.get(name)))
        return out
    if isinstance(block, blocks.ListBlock):
        return [text for item in value for text in block_text(block.child_block, item)]
    return []
