"""Public pages: home, topics, articles and the monthly archive, with clinical review fields.

Numbers on these pages are never typed: blocks that show them read `evidence_report`, the
topic's report as a clinician approved it in Clinical review (`evidence_pins`: rebuilt from the
pinned `evidence.EvidenceSnapshot` by the same synthesis); previews show the current report.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index
from wagtail.snippets.models import register_snippet

from evidencepress.core.content_version import VersionedMemo, current_version
from evidencepress.core.readability import ReadingLevel, reading_level
from evidencepress.core.text import VisibleTitleMixin
from evidencepress.evidence.models import EvidenceSnapshot, Passage, Publication, Topic
from evidencepress.evidence.references import FormattedReference, format_ama, reference_data

from . import blocks
from .citations import citation_anchor, inline_citations
from .forms import ArticlePageForm
from .panels import ClaimAuditPanel, ReadingLevelPanel
from .publishing import ReviewedPublishingMixin, ReviewPermissionsMixin
from .signoff import SignOffTask  # noqa: F401  (the review workflow's task model)

# Read per content version (core.content_version) and shared by the threads of a process.
_publications_memo = VersionedMemo(size=256)
_archive_memo = VersionedMemo(size=8)
_month_memo = VersionedMemo(size=64)

if TYPE_CHECKING:
    from evidencepress.evidence.topic_reports import TopicReport

    from .evidence_pins import EvidenceState


@register_snippet
class ClinicalReviewer(models.Model):
    """A person with clinical credentials who reviews pages before they are published."""

    name = models.CharField(max_length=120)
    credentials = models.CharField(max_length=160, help_text='e.g. "MD, dermatologist".')
    bio = models.TextField("profile", blank=True, help_text="A short public profile.")

    panels = [FieldPanel("name"), FieldPanel("credentials"), FieldPanel("bio")]

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "credentials"], name="reviewer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.credentials}"


def _for_display() -> Any:
    """Publications as pages show them, with what was read in each (the reference notes)."""
    return Publication.objects.for_display().prefetch_related("passages")


class ReviewFields(models.Model):
    """Who checked a page clinically, when, and when it is due again."""

    reviewed_by = models.ForeignKey(
        ClinicalReviewer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The clinician who last checked this page.",
    )
    last_reviewed = models.DateField(null=True, blank=True)
    next_review_due = models.DateField(null=True, blank=True)

    review_panels = [
        MultiFieldPanel(
            [FieldPanel("reviewed_by"), FieldPanel("last_reviewed"), FieldPanel("next_review_due")],
            heading="Clinical review",
        )
    ]

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        if (
            self.last_reviewed
            and self.next_review_due
            and self.next_review_due <= self.last_reviewed
        ):
            raise ValidationError(
                {"next_review_due": "The next review must come after the last review."}
            )

    @property
    def review_overdue(self) -> bool:
        return bool(self.next_review_due and self.next_review_due < datetime.date.today())


class EvidencePageMixin:
    """Shared by pages that show a topic's evidence: the evidence a clinician reviewed.

    The public page shows the evidence pinned when its revision passed Clinical review
    (`evidence_pins`); a preview shows the current evidence, which is what a reviewer approves.
    """

    topic_id: int | None
    topic: Topic | None

    @cached_property
    def evidence_state(self) -> EvidenceState:
        """What evidence the page shows, and whether newer evidence waits for review."""
        from .evidence_pins import published_state

        return published_state(self)

    @cached_property
    def evidence_report(self) -> TopicReport | None:
        """The report the page shows, once per page instance (i.e. once per render)."""
        return self.evidence_state.report

    def serve_preview(self, request: HttpRequest, mode_name: str) -> HttpResponse:
        from .evidence_pins import preview_state

        self.__dict__["evidence_state"] = preview_state(self)
        return super().serve_preview(request, mode_name)  # type: ignore[misc,no-any-return]


class PageEvidencePin(models.Model):
    """The evidence a clinician reviewed with one page revision (set on Clinical review)."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(
        "wagtailcore.Revision", on_delete=models.CASCADE, related_name="evidence_pins"
    )
    # The Clinical review approval that made the pin (none for the demo loader's pins).
    task_state = models.OneToOneField(
        "wagtailcore.TaskState",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="evidence_pin",
    )
    snapshot = models.ForeignKey(EvidenceSnapshot, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-revision_id", "-pk"]
        indexes = [models.Index(fields=["page", "revision"], name="pin_page_revision")]

    def __str__(self) -> str:
        return f"Evidence pinned to revision {self.revision_id}: {self.snapshot}"


def _reviewed_synthesis(page: Any) -> Any:
    report = page.evidence_report if page is not None else None
    return report.synthesis if report is not None else None


class HomePage(VisibleTitleMixin, ReviewPermissionsMixin, Page):
    introduction = RichTextField(blank=True)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    max_count = 1

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        topics = Topic.objects.annotate(
            publication_count=models.Count("publications", distinct=True),
        )
        # Case counts come from the evidence a clinician reviewed for the topic page, as on the
        # page itself (articles.evidence_pins); none are shown before that review.
        live_pages = list(TopicPage.objects.live().public().select_related("topic"))
        from .evidence_pins import prefetch_states

        prefetch_states(live_pages)
        pages = {page.topic_id: page for page in live_pages}
        context["topics"] = [
            (topic, pages.get(topic.pk), _reviewed_synthesis(pages.get(topic.pk)))
            for topic in topics
        ]
        context["latest_articles"] = (
            ArticlePage.objects.live().public().order_by("-date", "-pk")[:5]
        )
        context["archive"] = ArchiveIndexPage.objects.live().public().first()
        return context

    def route(self, request: HttpRequest, path_components: list[str]) -> Any:
        """Wagtail's routing, without loading a topic page's own fields when the request only
        passes through it (an article below it): TopicPage.route needs none of them."""
        if not path_components:
            return super().route(request, path_components)
        child = self.get_children().filter(slug=path_components[0]).first()
        if child is None:
            raise Http404
        child._cached_parent_obj = self  # as Wagtail's Page.route: spares get_parent() a query
        if len(path_components) > 1 and child.specific_class is TopicPage:
            return child.specific_deferred.route(request, path_components[1:])
        return child.specific.route(request, path_components[1:])


class TopicPage(VisibleTitleMixin, ReviewedPublishingMixin, EvidencePageMixin, ReviewFields, Page):
    """A treatment × condition: overview, the live evidence summary, and the articles on it."""

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="topic_pages")
    introduction = RichTextField(blank=True, help_text="A plain-language overview.")

    content_panels = [
        *Page.content_panels,
        ClaimAuditPanel(heading="Claim audit"),
        FieldPanel("topic"),
        FieldPanel("introduction"),
        *ReviewFields.review_panels,
    ]
    search_fields = [*Page.search_fields, index.SearchField("introduction")]
    parent_page_types = ["articles.HomePage"]
    subpage_types = ["articles.ArticlePage"]

    def __str__(self) -> str:
        return self.title

    def articles(self) -> models.QuerySet[ArticlePage]:
        return ArticlePage.objects.live().public().child_of(self).order_by("-date", "-pk")

    def route(self, request: HttpRequest, path_components: list[str]) -> Any:
        """Wagtail's routing, reading an article child in one query (base and specific row
        together) instead of two; any other child goes the usual way."""
        if path_components:
            article = ArticlePage.objects.child_of(self).filter(slug=path_components[0]).first()
            if article is not None:
                article._cached_parent_obj = self
                return article.route(request, path_components[1:])
        return super().route(request, path_components)

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["articles"] = self.articles()
        context["report"] = self.evidence_report
        return context


class ArticlePage(
    VisibleTitleMixin, ReviewedPublishingMixin, EvidencePageMixin, ReviewFields, Page
):
    """An evidence-backed article. Its blocks cite publications; numbers come from the synthesis."""

    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="article_pages"
    )
    summary = models.TextField(
        help_text="A plain-language standfirst, shown in the archive, feeds and search results."
    )
    date = models.DateField("publication date", default=datetime.date.today)
    updated = models.DateField(
        "substantially updated on",
        null=True,
        blank=True,
        help_text="Set only for a substantial update: the article then appears in that month.",
    )
    body = StreamField(blocks.ArticleStreamBlock(), blank=True)

    base_form_class = ArticlePageForm
    content_panels = [
        *Page.content_panels,
        ReadingLevelPanel(heading="Reading level"),
        ClaimAuditPanel(heading="Claim audit"),
        FieldPanel("topic"),
        FieldPanel("summary"),
        MultiFieldPanel([FieldPanel("date"), FieldPanel("updated")], heading="Dates"),
        FieldPanel("body"),
        *ReviewFields.review_panels,
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("date"),
    ]
    parent_page_types = ["articles.TopicPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "article"

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.updated and self.date and self.updated < self.date:
            raise ValidationError({"updated": "An update cannot come before publication."})

    # --- sections -----------------------------------------------------------------------------

    def missing_required_sections(self) -> list[str]:
        """Labels of the required sections the body lacks (needed before review)."""
        return blocks.missing_required_sections(self.body)

    # --- citations and references --------------------------------------------------------------

    def _raw_body(self) -> list[Any]:
        """The body as stored (JSON-like dicts), read without converting any block."""
        return list(self.body.raw_data)

    def _cited_ids(self, *, marked_only: bool = False) -> Iterator[int]:
        """Cited publication ids in reading order, from the stored body (no query): inline
        citations in rich text, "Sources cited" lists and image sources, and, for a block
        showing the topic's cases, the case sources in id order. With `marked_only`, only those
        the body shows a reference number next to (the evidence summary and plot show none)."""
        report = self.evidence_report
        case_publications = sorted({case.publication_id for case in report.cases}) if report else []
        stream_block = self.body.stream_block
        for raw in self._raw_body():
            if not isinstance(raw, dict):
                continue
            block_type = raw.get("type")
            child = stream_block.child_blocks.get(block_type)
            if child is None:
                continue
            if block_type in blocks.CASE_BLOCKS and (
                not marked_only or block_type in blocks.CASE_BLOCKS_WITH_MARKERS
            ):
                yield from case_publications
            yield from blocks.raw_publication_ids(child, raw.get("value"))

    @cached_property
    def _publications_by_id(self) -> dict[int, Publication]:
        """Every publication the page shows (citations, image sources, case sources), read in
        one query per render; `ArchiveIndexPage` fills it for many articles at once. Kept per
        content version (`core.content_version`); callers only read the mapping."""
        wanted = frozenset(self._cited_ids())
        return _publications_memo.get(
            current_version(self._state.db or "default"),
            wanted,
            lambda: _for_display().in_bulk(wanted),
        )

    @cached_property
    def _reviewers_by_id(self) -> dict[int, ClinicalReviewer]:
        """The clinicians named in clinician steps, in one query (none when there are none)."""
        return ClinicalReviewer.objects.in_bulk(self._reviewer_ids())

    def _reviewer_ids(self) -> set[int]:
        return {
            pk
            for chooser, pk in blocks.raw_chosen_ids(self.body.stream_block, self._raw_body())
            if getattr(chooser, "model_class", None) is ClinicalReviewer
        }

    @cached_property
    def _cited(self) -> list[Publication]:
        order: list[int] = []
        seen: set[int] = set()
        for pk in self._cited_ids():
            if pk not in seen:
                seen.add(pk)
                order.append(pk)
        found = self._publications_by_id
        missing = [pk for pk in order if pk not in found]
        if missing:  # only if the body changed after the prefetch
            found = {
                **found,
                **_for_display().in_bulk(missing),
            }
        return [found[pk] for pk in order if pk in found]

    def cited_publications(self) -> list[Publication]:
        """Publications the body cites, in order of first citation."""
        return list(self._cited)

    @cached_property
    def citation_numbers(self) -> dict[int, int]:
        """Publication id -> reference number."""
        return {pub.pk: number for number, pub in enumerate(self._cited, start=1)}

    @cached_property
    def _references(self) -> list[FormattedReference]:
        numbers = self.citation_numbers
        # References the body shows a number for; the first such number gets the id
        # `cite-N` (citations.number_citations), where the entry's "back to text" link points.
        marked = {numbers[pk] for pk in self._cited_ids(marked_only=True) if pk in numbers}
        return [
            replace(
                format_ama(reference_data(pub), number=n),
                back_link=citation_anchor(n) if n in marked else "",
            )
            for n, pub in enumerate(self._cited, 1)
        ]

    def read_passages(self) -> dict[int, list[Passage]]:
        """What we read in each cited publication, as this page cites it.

        The passages the inline citations name; for a publication the page cites only as a
        whole ("Sources cited"), every passage of it that an editor saw."""
        named: dict[int, set[int]] = {}
        stream_block = self.body.stream_block
        for raw in self._raw_body():
            child = (
                stream_block.child_blocks.get(raw.get("type")) if isinstance(raw, dict) else None
            )
            if child is None:
                continue
            for leaf, value in blocks._raw_leaves(child, raw.get("value")):
                if isinstance(leaf, blocks.blocks.RichTextBlock) and isinstance(value, str):
                    for pk, ids in inline_citations(value):
                        named.setdefault(pk, set()).update(ids)
        out: dict[int, list[Passage]] = {}
        for pub in self._cited:  # passages prefetched with the publications (no query here)
            wanted = named.get(pub.pk)
            for passage in pub.passages.all():
                if passage.pk in wanted if wanted else passage.seen:
                    out.setdefault(pub.pk, []).append(passage)
        return out

    def references(self) -> list[FormattedReference]:
        """The numbered AMA reference list, with PubMed/DOI links and demo labels."""
        return list(self._references)

    def missing_citation_ids(self) -> list[int]:
        """Ids of publications the body cites (inline or in a list) that no longer exist: they
        are left out of the references and shown as plain text, and editors are warned."""
        found = {pub.pk for pub in self._cited}
        return sorted({pk for pk in self._cited_ids() if pk not in found})

    def clinician_tips(self) -> list[Any]:
        """The clinician application steps blocks' values, for the archive."""
        return list(self._clinician_tips)

    @cached_property
    def _clinician_tips(self) -> list[Any]:
        with blocks.publications_prefetched(self._publications_by_id, self._reviewers_by_id):
            return [b.value for b in self.body.blocks_by_name("clinician_steps")]

    # --- text ---------------------------------------------------------------------------------

    def plain_text(self) -> str:
        """The text editors wrote (title, summary, blocks), one sentence per item."""
        parts = [_sentence(self.title), _sentence(self.summary)]
        for block in self.body:
            parts.extend(_sentence(t) for t in blocks.block_text(block.block, block.value))
        return "\n".join(p for p in parts if p)

    def reading_level(self) -> ReadingLevel:
        """Flesch–Kincaid grade and SMOG of plain_text() (textstat)."""
        return reading_level(self.plain_text())

    def archive_month(self) -> tuple[int, int]:
        """(year, month) of the latest of publication and substantial update."""
        day = self.updated or self.date
        return day.year, day.month

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["report"] = self.evidence_report
        context["archive"] = _archive_memo.get(
            current_version(self._state.db or "default"),
            "archive",
            lambda: ArchiveIndexPage.objects.live().public().first(),
        )
        return context


def prefetch_articles(articles: list[ArticlePage]) -> None:
    """Read what a list of articles shows in a fixed number of queries, however many blocks
    and citations they have: one query for their evidence pins (a reviewed snapshot's report is
    shared by the articles that show it), one query
    for every publication they cite and one for the clinicians their clinician steps name."""
    from .evidence_pins import prefetch_states

    prefetch_states(articles)
    wanted: set[int] = set()
    reviewer_ids: set[int] = set()
    for article in articles:
        wanted.update(article._cited_ids())
        reviewer_ids.update(article._reviewer_ids())
    found = _for_display().in_bulk(wanted)  # in_bulk of nothing makes no query
    reviewers = ClinicalReviewer.objects.in_bulk(reviewer_ids)
    for article in articles:
        article.__dict__["_publications_by_id"] = found
        article.__dict__["_reviewers_by_id"] = reviewers


def _sentence(text: str) -> str:
    text = " ".join(strip_tags(text).split())
    if text and text[-1] not in ".!?:":
        text += "."
    return text


class ArchiveMonth(Orderable):
    """The editable introduction of one archive month."""

    page = ParentalKey("articles.ArchiveIndexPage", on_delete=models.CASCADE, related_name="months")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(
        choices=[(m, calendar.month_name[m]) for m in range(1, 13)]
    )
    title = models.CharField(
        max_length=200, blank=True, help_text='e.g. "September 2024 — What We Published".'
    )
    intro = RichTextField("introduction", blank=True)

    panels = [FieldPanel("year"), FieldPanel("month"), FieldPanel("title"), FieldPanel("intro")]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(fields=["page", "year", "month"], name="archive_month_unique")
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.title or default_month_title(self.year, self.month)


def default_month_title(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {year} — What We Published"


def _in_month(year: int, month: int) -> models.Q:
    return models.Q(date__year=year, date__month=month) | models.Q(
        updated__year=year, updated__month=month
    )


class ArchiveIndexPage(VisibleTitleMixin, RoutablePageMixin, Page):
    """Every article by month: /archive/, /archive/YYYY/, /archive/YYYY/MM/."""

    intro = RichTextField(blank=True)

    content_panels = [
        *Page.content_panels,
        ClaimAuditPanel(heading="Claim audit"),
        FieldPanel("intro"),
        InlinePanel("months", heading="Month introductions", label="Month"),
    ]
    parent_page_types = ["articles.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    def articles(self) -> models.QuerySet[ArticlePage]:
        """The one queryset every route reads: live, public articles by date."""
        return (
            ArticlePage.objects.live()
            .public()
            .select_related("reviewed_by", "topic")
            .order_by("date", "pk")
        )

    def month_list(self, year: int | None = None) -> list[datetime.date]:
        """First days of the months with an article published or updated, newest first."""
        qs = self.articles()
        if year is not None:
            qs = qs.filter(models.Q(date__year=year) | models.Q(updated__year=year))
        months = {d.replace(day=1) for d in qs.dates("date", "month")}
        months |= {
            d.replace(day=1) for d in qs.filter(updated__isnull=False).dates("updated", "month")
        }
        if year is not None:
            months = {m for m in months if m.year == year}
        return sorted(months, reverse=True)

    def month_intro(self, year: int, month: int) -> ArchiveMonth | None:
        return self.months.filter(year=year, month=month).first()

    def _month_content(
        self, year: int, month: int
    ) -> tuple[tuple[ArticlePage, ...], ArchiveMonth | None]:
        articles = list(self.articles().filter(_in_month(year, month)))
        prefetch_articles(articles)
        for article in articles:
            article.clinician_tips()  # keep the block values with the shared instances
        return tuple(articles), self.month_intro(year, month)

    @path("")
    def index_route(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, context_overrides={"months": self.month_list()})

    @path("<int:year>/")
    def year_route(self, request: HttpRequest, year: int) -> HttpResponse:
        months = self.month_list(year)
        if not months:
            raise Http404("Nothing was published that year.")
        return self.render(
            request,
            context_overrides={"year": year, "months": months},
            template="articles/archive_year.html",
        )

    @path("<int:year>/<int:month>/")
    def month_route(self, request: HttpRequest, year: int, month: int) -> HttpResponse:
        if not 1 <= month <= 12:
            raise Http404("No such month.")
        # The month's articles, with everything they show, are read once per content version
        # (core.content_version) and shared by the process's threads, which only read them.
        version = (
            None
            if getattr(request, "is_preview", False)
            else current_version(self._state.db or "default")
        )
        articles, intro = _month_memo.get(
            version, (self.pk, year, month), lambda: self._month_content(year, month)
        )
        if not articles:
            raise Http404("Nothing was published that month.")
        return self.render(
            request,
            context_overrides={
                "year": year,
                "month": month,
                "month_start": datetime.date(year, month, 1),
                "month_title": intro.display_title if intro else default_month_title(year, month),
                "month_intro": intro,
                "articles": articles,
            },
            template="articles/archive_month.html",
        )


class ClaimAuditOverride(models.Model):
    """A clinician's written reason to pass one claim-audit finding (articles/claim_review.py).

    Matched on the finding's key (kind, place and sentence), so an edit that changes the
    sentence opens the finding again. Also written to the page's history.
    """

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="claim_overrides")
    finding_key = models.TextField()
    reason = models.TextField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page_id", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["page", "finding_key"], name="claim_override_unique")
        ]

    def __str__(self) -> str:
        return f"{self.page_id}: {self.finding_key[:60]}"
