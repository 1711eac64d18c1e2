"""Demo publishing content: topic pages, articles, the archive and its month introductions.

The prose is in `data/articles.json`. Citations there name publications by their `key` in
`data/publications.json` (or "demo-series" for the demonstration publication), so no database
id is ever written in a data file. The one demo image is drawn here with Pillow: it is the
project's own work, not taken from any publication.

Pages are created when missing and never overwritten, so an editor's changes survive
`make run`; `remove_demo` deletes exactly the pages, image and reviewer listed here.
"""

from __future__ import annotations

import datetime
import io
import json
import re
from collections import Counter
from typing import Any

from django.core.files.images import ImageFile
from django.db import transaction
from wagtail.images import get_image_model
from wagtail.models import Collection, Page

from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import (
    ArchiveIndexPage,
    ArchiveMonth,
    ArticlePage,
    ClinicalReviewer,
    HomePage,
    PageEvidencePin,
    TopicPage,
)
from evidencepress.articles.publishing import system_publishing
from evidencepress.articles.services import review_workflow_ensure
from evidencepress.evidence.models import Passage, Publication, Topic

from .loader import DATA_DIR, publication_values

DEMO_SERIES_KEY = "demo-series"
IMAGE_TITLE = "Demo diagram: putting on a thin layer of cream (EvidencePress, own work)"


def read_articles_data() -> dict[str, Any]:
    return json.loads((DATA_DIR / "articles.json").read_text(encoding="utf-8"))


def _publication_index() -> dict[str, Publication]:
    """Publication by data-file key, found on PMID, DOI or normalised title."""
    records = json.loads((DATA_DIR / "publications.json").read_text(encoding="utf-8"))
    found: dict[str, Publication] = {}
    for record in records:
        values = publication_values(record)
        qs = Publication.objects.all()
        pub = (
            (values["pmid"] and qs.filter(pmid=values["pmid"]).first())
            or (values["doi"] and qs.filter(doi__iexact=values["doi"]).first())
            or qs.filter(title_normalized=values["title_normalized"], is_demo=False).first()
        )
        if pub is not None:
            found[record["key"]] = pub
    illustrative = json.loads((DATA_DIR / "illustrative_cases.json").read_text(encoding="utf-8"))
    demo = Publication.objects.filter(
        is_demo=True, title=illustrative["publication"]["title"]
    ).first()
    if demo is not None:
        found[DEMO_SERIES_KEY] = demo
    return found


# An inline citation in the data file's rich text names its publication by key, and the passages
# it rests on by their keys in that publication's "passages" (data/publications.json).
_INLINE_CITATION_KEY = re.compile(
    r'<a linktype="publication" key="([^"]+)"(?: passages="([^"]*)")?>'
)


def _resolve_inline_citations(html: str, publications: dict[str, int]) -> str:
    """`<a linktype="publication" key="…" passages="k1 k2">` ->
    `<a linktype="publication" id="<pk>" passages="<passage pks>">`."""

    def resolved(match: re.Match[str]) -> str:
        key, passage_keys = match.group(1), (match.group(2) or "").split()
        if key not in publications:
            raise ValueError(f"articles.json: unknown publication {key!r} in an inline citation")
        pk = publications[key]
        if not passage_keys:
            return f'<a linktype="publication" id="{pk}">'
        found = dict(
            Passage.objects.filter(publication_id=pk, key__in=passage_keys).values_list("key", "pk")
        )
        missing = [k for k in passage_keys if k not in found]
        if missing:
            raise ValueError(f"articles.json: {key!r} has no passage {missing[0]!r}")
        ids = " ".join(str(found[k]) for k in passage_keys)
        return f'<a linktype="publication" id="{pk}" passages="{ids}">'

    return _INLINE_CITATION_KEY.sub(resolved, html)


def _resolve(value: Any, refs: dict[str, dict[str, int]]) -> Any:
    """Replace {"publication": key}, {"image": key}, {"reviewer": key} with primary keys, and
    the keys of inline citations in rich text with the publications' primary keys."""
    if isinstance(value, str) and 'linktype="publication"' in value:
        return _resolve_inline_citations(value, refs["publication"])
    if isinstance(value, list):
        return [_resolve(item, refs) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((kind, key),) = value.items()
            if kind in refs:
                if key not in refs[kind]:
                    raise ValueError(f"articles.json: unknown {kind} {key!r}")
                return refs[kind][key]
        return {name: _resolve(item, refs) for name, item in value.items()}
    return value


def draw_cream_diagram() -> bytes:
    """A PNG diagram: a thin layer of cream on the treated patch only (our own drawing)."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = 960, 540
    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=26)
    small = ImageFont.load_default(size=22)
    # Skin, in three layers, seen from the side.
    draw.rectangle((60, 250, 900, 300), fill="#f2c9a5")  # epidermis
    draw.rectangle((60, 300, 900, 400), fill="#e8a98a")  # dermis
    draw.rectangle((60, 400, 900, 470), fill="#f6e3b4")  # fat
    # The treated patch, and a thin cream layer over it only.
    draw.rectangle((330, 230, 630, 250), fill="#ffffff", outline="#0b5cad", width=3)
    draw.rectangle((350, 260, 610, 320), fill="#b0485c")
    draw.line((330, 225, 330, 190), fill="#0b5cad", width=3)
    draw.line((630, 225, 630, 190), fill="#0b5cad", width=3)
    draw.text((480, 150), "A thin layer, only on the patch", fill="#1d2430", font=font, anchor="mm")
    draw.text((480, 190), "your doctor marked", fill="#1d2430", font=font, anchor="mm")
    draw.text((480, 290), "treated patch", fill="#ffffff", font=small, anchor="mm")
    draw.text((70, 275), "skin surface", fill="#1d2430", font=small, anchor="lm")
    draw.text((70, 350), "deeper skin", fill="#1d2430", font=small, anchor="lm")
    draw.text((70, 435), "fat", fill="#1d2430", font=small, anchor="lm")
    draw.text(
        (480, 505),
        "Diagram, not to scale. EvidencePress, own work.",
        fill="#4a5565",
        font=small,
        anchor="mm",
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _ensure_image(tally: Counter[str]) -> Any:
    # Wagtail's migrations create the root collection; a flushed database may have lost it
    # (as ensure_home_page recreates the tree root), and every image belongs to a collection.
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    Image = get_image_model()
    image = Image.objects.filter(title=IMAGE_TITLE).first()
    if image is None:
        image = Image(title=IMAGE_TITLE)
        image.file = ImageFile(io.BytesIO(draw_cream_diagram()), name="demo-cream-diagram.png")
        image.save()
        tally["images_created"] += 1
    return image


def _publish(page: Page) -> None:
    page.save_revision().publish()


def _pin_reviewed_evidence(page: Page, reviewer: ClinicalReviewer) -> None:
    """Pin the demo evidence to a demo page, as its (demo) clinician's review, through the same
    service as a Clinical review approval; a page already pinned keeps its pin."""
    if not PageEvidencePin.objects.filter(page_id=page.pk).exists():
        page_evidence_pin_live(page=page, reviewer_name=reviewer.name)


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


# The demo pages are invented demonstration content, published as loaded: the one documented
# publishing path outside the clinical review (articles/publishing.py, docs/publishing.md).
@transaction.atomic
@system_publishing("load_demo: the labelled demonstration pages")
def load_demo_articles() -> dict[str, int]:
    """Create the demo reviewer, topic pages, articles, archive and months (idempotent)."""
    data = read_articles_data()
    tally: Counter[str] = Counter()
    home = HomePage.objects.first()
    if home is None:
        raise ValueError("load_demo_articles needs the home page (load_demo creates it).")
    reviewer, created = ClinicalReviewer.objects.get_or_create(
        name=data["reviewer"]["name"],
        credentials=data["reviewer"]["credentials"],
        defaults={"bio": data["reviewer"]["bio"]},
    )
    tally["reviewers_created"] += int(created)
    image = _ensure_image(tally)
    refs = {
        "publication": {k: p.pk for k, p in _publication_index().items()},
        "image": {"cream-diagram": image.pk},
        "reviewer": {"demo": reviewer.pk},
    }

    topic_pages: dict[str, TopicPage] = {}
    for record in data["topic_pages"]:
        page = TopicPage.objects.child_of(home).filter(slug=record["slug"]).first()
        if page is None:
            page = TopicPage(
                title=record["title"],
                slug=record["slug"],
                topic=Topic.objects.get(slug=record["topic"]),
                introduction=record["introduction"],
                reviewed_by=reviewer,
                last_reviewed=_date(record.get("last_reviewed")),
                next_review_due=_date(record.get("next_review_due")),
            )
            home.add_child(instance=page)
            _publish(page)
            tally["topic_pages_created"] += 1
        _pin_reviewed_evidence(page, reviewer)
        topic_pages[record["topic"]] = page

    for record in data["articles"]:
        parent = topic_pages[record["topic"]]
        existing = ArticlePage.objects.filter(slug=record["slug"]).child_of(parent).first()
        if existing is not None:
            _pin_reviewed_evidence(existing, reviewer)
            continue
        page = ArticlePage(
            title=record["title"],
            slug=record["slug"],
            topic=parent.topic,
            summary=record["summary"],
            search_description=record["summary"],
            date=_date(record["date"]),
            updated=_date(record.get("updated")),
            body=_resolve(record["body"], refs),
            reviewed_by=reviewer,
            last_reviewed=_date(record.get("last_reviewed")),
            next_review_due=_date(record.get("next_review_due")),
        )
        parent.add_child(instance=page)
        page.first_published_at = datetime.datetime.combine(
            page.date, datetime.time(9, 0), tzinfo=datetime.UTC
        )
        page.save(update_fields=["first_published_at"])
        _publish(page)
        _pin_reviewed_evidence(page, reviewer)
        tally["articles_created"] += 1

    archive_data = data["archive"]
    archive = ArchiveIndexPage.objects.child_of(home).first()
    changed = archive is None
    if archive is None:
        archive = ArchiveIndexPage(
            title=archive_data["title"], slug=archive_data["slug"], intro=archive_data["intro"]
        )
        home.add_child(instance=archive)
        tally["archive_pages_created"] += 1
    for month in archive_data["months"]:
        if not archive.months.filter(year=month["year"], month=month["month"]).exists():
            ArchiveMonth.objects.create(page=archive, **month)
            tally["archive_months_created"] += 1
            changed = True
    if changed:
        # Month introductions are child rows of the page: publish so the live page has them.
        _publish(ArchiveIndexPage.objects.get(pk=archive.pk))
    review_workflow_ensure()
    return {key: value for key, value in tally.items() if value}


@transaction.atomic
def remove_demo_articles() -> dict[str, int]:
    """Delete the demo pages, month introductions, image and reviewer listed in the data file."""
    data = read_articles_data()
    counts: Counter[str] = Counter()
    slugs = [record["slug"] for record in data["articles"]]
    for page in ArticlePage.objects.filter(slug__in=slugs):
        page.delete()
        counts["articles"] += 1
    for record in data["topic_pages"]:
        for page in TopicPage.objects.filter(slug=record["slug"], topic__slug=record["topic"]):
            if not page.get_children().exists():
                page.delete()
                counts["topic_pages"] += 1
    for month in data["archive"]["months"]:
        deleted, _ = ArchiveMonth.objects.filter(
            year=month["year"], month=month["month"], title=month["title"]
        ).delete()
        counts["archive_months"] += deleted
    deleted, _ = get_image_model().objects.filter(title=IMAGE_TITLE).delete()
    counts["images"] += deleted
    deleted, _ = ClinicalReviewer.objects.filter(
        name=data["reviewer"]["name"], credentials=data["reviewer"]["credentials"]
    ).delete()
    counts["reviewers"] += deleted
    return dict(counts)
