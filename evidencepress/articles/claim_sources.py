"""Turn pages into the claim audit's plain data (articles/claim_audit.py) and run it.

Reads the stored body (no block conversion): rich text is split into sentences, each with the
inline citations inside it (and the passages they name); a block's "Sources cited" apply to every
sentence of the block and point at all the passages read in each publication.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.utils.html import strip_tags

from evidencepress.evidence.models import Passage, Publication

from . import claim_audit as ca
from .citations import inline_citations

# Keys of a block value that are not reader-facing prose or are not claims.
_SKIP_KEYS = frozenset(
    {
        "heading",
        "citations",
        "image",
        "clinician",
        "clinician_name",
        "source_publication",
        "level",
        "sensitive",
        "licence",
        "consent",
        "credit",
        "alt_text",
    }
)
_LINK = re.compile(r'<a\b[^>]*linktype="publication"[^>]*>', re.I)
_MARK = re.compile(r"\[\[cite:(\d+)\]\]")


def _item_value(item: Any) -> Any:
    return item.get("value") if isinstance(item, dict) and "type" in item else item


def _prose(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(where, text) of every prose string in a raw block value."""
    if isinstance(value, str):
        if value.strip():
            yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            if key not in _SKIP_KEYS:
                yield from _prose(child, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value, 1):
            yield from _prose(_item_value(item), f"{path}[{n}]")


def _block_citations(value: Any) -> list[int]:
    out: list[int] = []
    if isinstance(value, dict):
        for item in value.get("citations") or []:
            pk = _item_value(item)
            if isinstance(pk, int) or (isinstance(pk, str) and pk.isdigit()):
                out.append(int(pk))
    return out


class _Sources:
    """Publications and their passages, read once per audit."""

    def __init__(self) -> None:
        self.publications: dict[int, Publication] = {}
        self.passages: dict[int, list[Passage]] = {}

    def load(self, ids: Iterable[int]) -> None:
        wanted = set(ids) - set(self.publications)
        if not wanted:
            return
        self.publications.update(Publication.objects.in_bulk(wanted))
        for passage in Passage.objects.filter(publication_id__in=wanted):
            self.passages.setdefault(passage.publication_id, []).append(passage)

    def source(self, pk: int, passage_ids: tuple[int, ...] | None) -> ca.Source:
        pub = self.publications.get(pk)
        record = tuple(_ref(p) for p in self.passages.get(pk, []))
        if passage_ids is None:  # a block's "Sources cited": everything read in it
            chosen = tuple(r for r in record if r.seen)
        else:
            by_id = {p.pk: _ref(p) for p in self.passages.get(pk, [])}
            chosen = tuple(by_id[i] for i in passage_ids if i in by_id)
        label = f"publication {pk}" if pub is None else str(pub)
        return ca.Source(
            label=label,
            passages=chosen,
            record=record,
            is_demo=bool(pub and pub.is_demo),
            explicit=passage_ids is not None,
        )


def _ref(passage: Passage) -> ca.PassageRef:
    return ca.PassageRef(
        key=passage.key,
        text=passage.text,
        seen=passage.seen,
        second_hand=passage.attribution == Passage.Attribution.CITED,
    )


def _sentences_of(
    text: str, where: str, block_sources: list[int], sources: _Sources
) -> Iterator[ca.Sentence]:
    inline = list(inline_citations(text))
    sources.load([pk for pk, _ in inline] + block_sources)
    counter = iter(range(len(inline)))
    marked = _LINK.sub(lambda m: f"[[cite:{next(counter)}]]", text)
    for paragraph in re.split(r"</p>|</li>|\n", marked):
        plain = " ".join(html.unescape(strip_tags(paragraph)).split())
        for sentence in ca.split_sentences(plain):
            cited = [inline[int(n)] for n in _MARK.findall(sentence)]
            clean = _MARK.sub("", sentence)
            found = [sources.source(pk, passages or ()) for pk, passages in cited]
            found += [sources.source(pk, None) for pk in block_sources]
            yield ca.Sentence(text=clean, where=where, sources=tuple(found))


def page_sentences(page: Any, sources: _Sources | None = None) -> list[ca.Sentence]:
    """Every prose sentence of an article, topic page or archive page, with its citations."""
    from .models import ArchiveIndexPage, ArticlePage, TopicPage

    sources = sources or _Sources()
    out: list[ca.Sentence] = []
    if isinstance(page, ArticlePage):
        out.extend(_sentences_of(page.summary, "summary", [], sources))
        for n, raw in enumerate(page.body.raw_data, 1):
            if not isinstance(raw, dict):
                continue
            value = raw.get("value")
            cites = _block_citations(value)
            for where, text in _prose(value, f"body[{n}] {raw.get('type')}"):
                out.extend(_sentences_of(text, where, cites, sources))
    elif isinstance(page, TopicPage):
        out.extend(_sentences_of(page.introduction, "introduction", [], sources))
    elif isinstance(page, ArchiveIndexPage):
        out.extend(_sentences_of(page.intro, "intro", [], sources))
        for month in page.months.all():
            where = f"month {month.year}-{month.month:02d}"
            out.extend(_sentences_of(month.intro, where, [], sources))
    return out


def _percent(value: float | None) -> Decimal | None:
    """A proportion as the summary shows it ("40%": the `percent` filter's rounding)."""
    return None if value is None else Decimal(f"{value * 100:.0f}")


def summary_figures(synthesis: Any) -> ca.SummaryFigures:
    """The figures the evidence summary block states (templates/includes/evidence_summary.html,
    and the demo notice): the counts of patients and publications, every share "N of M" and its
    percentage and 95% interval, the patients with each side effect, and how many patients a
    time or follow-up was reported for. Other values of the synthesis (medians and ranges in
    weeks or months, ids, dates) are not counts a sentence can quote as such."""
    shares = [
        *synthesis.responses.values(),
        synthesis.any_response,
        synthesis.recurrence_among_responders,
        synthesis.patients_with_adverse_events,
    ]
    people = {
        synthesis.patients,
        synthesis.demo_patients,
        synthesis.time_to_response_weeks.reported,
        synthesis.follow_up_months.reported,
        *(event.patients for event in synthesis.adverse_events),
        *(share.count for share in shares),
        *(share.total for share in shares),
    }
    percents = {
        _percent(value)
        for share in shares
        for value in (share.proportion, share.ci_low, share.ci_high)
    }
    return ca.SummaryFigures(
        people=frozenset(Decimal(n) for n in people),
        reports=frozenset({Decimal(synthesis.publications)}),
        shares=frozenset((Decimal(s.count), Decimal(s.total)) for s in shares if s.total),
        percents=frozenset(p for p in percents if p is not None),
    )


def audit_page(page: Any) -> tuple[ca.Finding, ...]:
    """The claim audit's findings for one page (the latest revision's content as given)."""
    from evidencepress.evidence.topic_definition import definition_for
    from evidencepress.evidence.topic_reports import topic_report

    # The topic's current evidence (what a reviewer checks the text against), not a pin.
    topic = getattr(page, "topic", None)
    report = topic_report(topic) if topic is not None else None
    certainty = None
    summary = ca.NO_SUMMARY
    if report is not None:
        certainty = report.certainty.level.replace(" ", "_")
        summary = summary_figures(report.synthesis)
    # The topic definition's words for the treatment; without any, the topic's treatment name.
    words: tuple[str, ...] = ()
    if topic is not None:
        words = definition_for(topic).treatment_words or tuple(filter(None, [topic.treatment]))
    return ca.audit(
        page_sentences(page), summary=summary, certainty=certainty, treatment_words=words
    )
