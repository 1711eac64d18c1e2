"""Store the D1 corpus through every authoring input, and list the pages that show it.

Used by tests/security/test_xss_corpus.py (parse gate, PR) and security/xss_browser.py
(Playwright gate, nightly). Everything an editor types is POSTed raw to the real admin views
with Django's test client (rich text as Draft.js content-state JSON, which is what Draftail
posts, so the server-side conversion is what is tested, not the editor's JavaScript); imported
titles and abstracts go through `manage.py import_literature` from a generated MEDLINE XML
file and a RIS file; readers' free text goes through the public request form. Only the
reported patients (a long nested admin form already covered by tests/summaries) are written
with the ORM.

Long text fields get the whole corpus in one save; fields with a length limit get as many
payloads as fit, each field starting at a different place in the corpus.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock
from wagtail.snippets.blocks import SnippetChooserBlock
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from .corpus import is_url_payload, pack, payloads

SEARCH_WORD = "xsscorpusmarker"
TOPIC_SLUG = "xss-topic"
# Payloads with a line break cannot go into one-line fields (RIS tags, CharBlocks).
_ONE_LINE = re.compile(r"[\r\n\u2028\u2029]")
# Elements inside a MEDLINE title or abstract, as a hostile XML file could send them.
XML_MARKUP = [
    "<script>alert(1201)</script>",
    '<img src="x" onerror="alert(1202)"/>',
    '<a href="javascript:alert(1203)">a</a>',
    '<i onmouseover="alert(1204)">i</i>',
    '<svg onload="alert(1205)"/>',
    "<sup><script>alert(1206)</script></sup>",
    '<b style="background:url(javascript:alert(1207))">b</b>',
]


def _png() -> bytes:
    """A small PNG, for the image a case-image block needs."""
    from PIL import Image as PillowImage

    buffer = io.BytesIO()
    PillowImage.new("RGB", (4, 4), (200, 80, 80)).save(buffer, format="PNG")
    return buffer.getvalue()


class SeedError(AssertionError):
    """An admin save was refused: the corpus did not reach the database."""


@dataclass
class Corpus:
    """The payloads and ways to fit them into fields."""

    items: list[str] = field(default_factory=payloads)
    _turn: int = 0

    @property
    def one_line(self) -> list[str]:
        return [p for p in self.items if not _ONE_LINE.search(p)]

    @property
    def xml_safe(self) -> list[str]:
        """Payloads XML 1.0 can carry (no control characters), one line each."""
        return [p for p in self.one_line if not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", p)]

    @property
    def urls(self) -> list[str]:
        return [p for p in self.items if is_url_payload(p)]

    def short(self, limit: int, items: list[str] | None = None) -> str:
        """As many one-line payloads as fit, starting further on at each call."""
        self._turn += 17
        return pack(self.one_line if items is None else items, limit, start=self._turn)

    def text(self) -> str:
        """Every payload, one per line."""
        return "\n".join(self.items)

    def slice(self, part: int, parts: int) -> list[str]:
        return self.items[part::parts]


@dataclass
class Seeded:
    """What was stored, and the URLs that show it."""

    public_urls: list[str] = field(default_factory=list)
    feed_urls: list[str] = field(default_factory=list)
    admin_urls: list[str] = field(default_factory=list)
    chooser_urls: list[str] = field(default_factory=list)
    summaries_urls: list[str] = field(default_factory=list)
    request_form_post: dict[str, str] = field(default_factory=dict)


def contentstate(paragraphs: list[str], link_urls: list[str]) -> str:
    """Draft.js content state: each payload a paragraph, each hostile URL a link."""
    blocks_: list[dict[str, Any]] = []
    entities: dict[str, Any] = {}
    for text in paragraphs:
        blocks_.append(_block(len(blocks_), text.replace("\n", " "), None))
    for number, url in enumerate(link_urls):
        entities[str(number)] = {"type": "LINK", "mutability": "MUTABLE", "data": {"url": url}}
        blocks_.append(_block(len(blocks_), f"link {number}", number))
    # A document link and an image the blocks do not allow, with hostile attributes.
    extra = len(link_urls)
    entities[str(extra)] = {
        "type": "DOCUMENT",
        "mutability": "MUTABLE",
        "data": {"id": '1" onmouseover="alert(1301)', "url": "javascript:alert(1302)"},
    }
    blocks_.append(_block(len(blocks_), "document link", extra))
    entities[str(extra + 1)] = {
        "type": "IMAGE",
        "mutability": "IMMUTABLE",
        "data": {
            "id": "1 onerror=alert(1303)",
            "src": "javascript:alert(1304)",
            "alt": '" onerror="alert(1305)',
            "format": "left",
        },
    }
    entities[str(extra + 2)] = {
        "type": "LINK",
        "mutability": "MUTABLE",
        "data": {"id": '2" onclick="alert(1306)', "url": "javascript:alert(1307)", "parentId": 1},
    }
    blocks_.append(_block(len(blocks_), "page link", extra + 2))
    blocks_.append(
        {
            "key": f"k{len(blocks_)}",
            "type": "atomic",
            "depth": 0,
            "text": " ",
            "inlineStyleRanges": [],
            "entityRanges": [{"offset": 0, "length": 1, "key": extra + 1}],
            "data": {},
        }
    )
    return json.dumps({"blocks": blocks_, "entityMap": entities})


def _block(index: int, text: str, entity: int | None) -> dict[str, Any]:
    ranges = [] if entity is None else [{"offset": 0, "length": len(text), "key": entity}]
    return {
        "key": f"k{index}",
        "type": "unstyled",
        "depth": 0,
        "text": text,
        "inlineStyleRanges": [{"offset": 0, "length": min(4, len(text)), "style": "BOLD"}],
        "entityRanges": ranges,
        "data": {},
    }


def _expect_redirect(response: Any, what: str) -> None:
    if response.status_code != 302:
        errors = re.findall(r'class="error-message"[^>]*>(.*?)<', response.content.decode(), re.S)
        raise SeedError(f"{what}: HTTP {response.status_code}, errors {errors[:5]}")


def _comments() -> dict[str, Any]:
    return {
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
        "comments-MIN_NUM_FORMS": "0",
        "comments-MAX_NUM_FORMS": "1000",
    }


def _page_fields(corpus: Corpus, title: str, slug: str) -> dict[str, Any]:
    return {
        "title": f"{title} {corpus.short(255 - len(title) - 1)}",
        "slug": slug,
        "seo_title": corpus.short(255),
        "search_description": corpus.text(),
        **_comments(),
        "action-publish": "publish",
    }


def _publish_latest(page_model: Any, **lookup: Any) -> Any:
    """The page as saved through the admin; published from its latest revision if the admin
    kept it as a draft (e.g. a workflow wants reviewers first)."""
    page = page_model.objects.get(**lookup)
    if not page.live or page.has_unpublished_changes:
        page.get_latest_revision().publish()
        page = page_model.objects.get(pk=page.pk)
    return page


def body_post(
    block: blocks.Block, prefix: str, corpus: Corpus, choose: Callable[[Any], Any]
) -> dict[str, Any]:
    """POST fields for one of every stream child, every text field filled from the corpus."""
    out: dict[str, Any] = {}
    _fill(block, prefix, corpus, choose, out)
    return out


def _fill(
    block: blocks.Block, prefix: str, corpus: Corpus, choose: Callable[[Any], Any], out: dict
) -> None:
    if isinstance(block, blocks.StreamBlock):
        children = list(block.child_blocks.items())
        out[f"{prefix}-count"] = len(children)
        for index, (name, child) in enumerate(children):
            out.update(
                {
                    f"{prefix}-{index}-type": name,
                    f"{prefix}-{index}-deleted": "",
                    f"{prefix}-{index}-order": index,
                    f"{prefix}-{index}-id": "",
                }
            )
            _fill(child, f"{prefix}-{index}-value", corpus, choose, out)
    elif isinstance(block, blocks.StructBlock):
        for name, child in block.child_blocks.items():
            _fill(child, f"{prefix}-{name}", corpus, choose, out)
    elif isinstance(block, blocks.ListBlock):
        child = block.child_block
        parts = 2 if isinstance(child, blocks.StructBlock) else 3
        out[f"{prefix}-count"] = parts
        for index in range(parts):
            out.update(
                {
                    f"{prefix}-{index}-deleted": "",
                    f"{prefix}-{index}-order": index,
                    f"{prefix}-{index}-id": "",
                }
            )
            item_prefix = f"{prefix}-{index}-value"
            if isinstance(child, blocks.TextBlock):
                out[item_prefix] = "\n".join(corpus.slice(index, parts))
            else:
                _fill(child, item_prefix, corpus, choose, out)
    elif isinstance(block, blocks.RichTextBlock):
        out[prefix] = contentstate(corpus.items, corpus.urls)
    elif isinstance(block, (ImageChooserBlock, SnippetChooserBlock, blocks.ChooserBlock)):
        out[prefix] = choose(block)
    elif isinstance(block, blocks.BooleanBlock):
        out[prefix] = "on"
    elif isinstance(block, blocks.ChoiceBlock):
        out[prefix] = block.field.choices[-1][0]
    elif isinstance(block, blocks.TextBlock):
        out[prefix] = corpus.text()
    elif isinstance(block, blocks.CharBlock):
        limit = block.field.max_length or 255
        out[prefix] = corpus.short(limit)
    else:
        raise SeedError(f"no corpus value for {type(block).__name__} at {prefix}")


def medline_xml(corpus: Corpus) -> str:
    """Two PubMed records: the corpus as (escaped) text, and hostile elements in the title."""
    items = corpus.xml_safe

    def text(limit: int) -> str:
        return escape(corpus.short(limit, items), {'"': "&quot;"})

    record = f"""<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="1">@PMID@</PMID>
<DateRevised><Year>2024</Year><Month>01</Month><Day>02</Day></DateRevised>
<Article><Journal><JournalIssue><Volume>{text(40)}</Volume><Issue>{text(40)}</Issue>
<PubDate><Year>2023</Year></PubDate></JournalIssue><Title>{text(290)}</Title></Journal>
<ArticleTitle>{SEARCH_WORD} @TITLE@</ArticleTitle>
<Pagination><MedlinePgn>{text(40)}</MedlinePgn></Pagination>
<Abstract><AbstractText Label="{text(60)}">@ABSTRACT@</AbstractText></Abstract>
<AuthorList>
<Author><LastName>{text(100)}</LastName><ForeName>{text(100)}</ForeName></Author>
<Author><CollectiveName>{text(200)}</CollectiveName></Author>
</AuthorList><Language>eng</Language>
<PublicationTypeList><PublicationType>{text(200)}</PublicationType></PublicationTypeList>
</Article>
<KeywordList><Keyword>{text(200)}</Keyword></KeywordList>
</MedlineCitation></PubmedArticle>"""

    def fill(pmid: str, title: str, abstract: str) -> str:
        return (
            record.replace("@PMID@", pmid).replace("@TITLE@", title).replace("@ABSTRACT@", abstract)
        )

    as_text = fill("39990001", escape(" ".join(items[:60])), escape("\n".join(items)))
    as_markup = fill("39990002", " ".join(XML_MARKUP), " ".join(XML_MARKUP))
    return f'<?xml version="1.0"?>\n<PubmedArticleSet>{as_text}{as_markup}</PubmedArticleSet>'


def ris(corpus: Corpus) -> str:
    lines = ["TY  - JOUR", f"TI  - {SEARCH_WORD} {' '.join(corpus.one_line[60:120])}"]
    lines += [f"AU  - {corpus.short(120)}", f"AU  - {corpus.short(120)}"]
    lines += [f"JO  - {corpus.short(290)}", "PY  - 2022", f"AB  - {' '.join(corpus.one_line)}"]
    lines += [f"KW  - {corpus.short(200)}", "ER  - ", ""]
    return "\n".join(lines)


def seed(editor: Client, folder: Path) -> Seeded:
    """Store the corpus everywhere an editor, an import or a reader can put text.

    `editor` is a client signed in as a superuser (with the second factor done); the import
    files are written to `folder`. The summary request URLs are for a Summary editor.
    """
    from evidencepress.articles.models import ArticlePage, HomePage, TopicPage
    from evidencepress.evidence.models import Publication, ReportedPatient, Topic
    from evidencepress.summaries.models import SummaryRequest

    corpus = Corpus()
    seeded = Seeded()
    home = HomePage.objects.get()

    # Clinical reviewers (snippets): one named on the article, one in the clinician steps.
    for number in range(3):
        response = editor.post(
            "/admin/snippets/articles/clinicalreviewer/add/",
            {"name": corpus.short(120), "credentials": corpus.short(160), "bio": corpus.text()},
        )
        _expect_redirect(response, f"clinical reviewer {number}")
    from evidencepress.articles.models import ClinicalReviewer

    reviewers = list(ClinicalReviewer.objects.order_by("pk"))

    # An image, for the case image block (its title is shown in the admin).
    response = editor.post(
        "/admin/images/add/",
        {
            "title": corpus.short(255),
            "file": SimpleUploadedFile("case.png", _png(), content_type="image/png"),
            "tags": "",
        },
    )
    _expect_redirect(response, "image")
    from wagtail.images.models import Image

    image = Image.objects.order_by("-pk").first()

    # The evidence topic.
    response = editor.post(
        "/admin/topic/new/",
        {
            "name": f"{SEARCH_WORD} {corpus.short(180)}",
            "slug": TOPIC_SLUG,
            "treatment": corpus.short(120),
            "condition": corpus.short(120),
            "description": corpus.text(),
        },
    )
    _expect_redirect(response, "topic")
    topic = Topic.objects.get(slug=TOPIC_SLUG)

    # A publication typed into the evidence admin.
    data = nested_form_data(
        {
            "pmid": "",
            "doi": "",
            "pmcid": "",
            "title": f"{SEARCH_WORD} {corpus.text()}",
            "authors": "\n".join(corpus.short(80) for _ in range(6)),
            "journal": corpus.short(300),
            "year": "2021",
            "volume": corpus.short(50),
            "issue": corpus.short(50),
            "pages": corpus.short(50),
            "abstract": corpus.text(),
            "language": corpus.short(20),
            "date_revised": "",
            "publication_types": corpus.text(),
            "mesh_terms": corpus.text(),
            "keywords": corpus.text(),
            "notes": "Facts read in the source:\n"
            + "\n".join(f"- {p}" for p in corpus.one_line)
            + "\n\n"
            + corpus.text(),
            "source_urls": "\n".join(u for u in corpus.urls if not _ONE_LINE.search(u)),
            "patients": inline_formset([]),
        }
    )
    data["topics"] = [str(topic.pk)]
    response = editor.post("/admin/publication/new/", data)
    _expect_redirect(response, "publication")
    typed = Publication.objects.filter(title__startswith=SEARCH_WORD).order_by("-pk").first()

    # Imported titles and abstracts (MEDLINE XML and RIS) through the import command.
    for name, content in (("hostile.xml", medline_xml(corpus)), ("hostile.ris", ris(corpus))):
        path = folder / name
        path.write_text(content, encoding="utf-8")
        out = io.StringIO()
        call_command(
            "import_literature", str(path), "--topic", TOPIC_SLUG, "--no-progress", stdout=out
        )
    imported = list(
        Publication.objects.filter(import_batch__isnull=False, title__contains=SEARCH_WORD)
    )
    if len(imported) != 3:
        raise SeedError(f"expected 3 imported publications, found {len(imported)}")
    publications = [typed, *imported]

    # Reported patients (ORM: see the module docstring) so that the case blocks show labels.
    for number, publication in enumerate(publications):
        ReportedPatient.objects.create(
            publication=publication,
            topic=topic,
            label=corpus.short(100),
            site=corpus.short(120),
            response="partial" if number % 2 else "complete",
            time_to_response_weeks=4 + number,
            follow_up_months=6 + number,
        )

    # The home page: title, introduction (rich text) and promote fields.
    response = editor.post(
        f"/admin/pages/{home.pk}/edit/",
        {
            **_page_fields(corpus, "EvidencePress", home.slug),
            "introduction": contentstate(corpus.items, corpus.urls),
        },
    )
    _expect_redirect(response, "home page")

    # The topic page.
    response = editor.post(
        f"/admin/pages/add/articles/topicpage/{home.pk}/",
        {
            **_page_fields(corpus, "Topic", "xss-topic-page"),
            "topic": str(topic.pk),
            "introduction": contentstate(corpus.items, corpus.urls),
            "reviewed_by": str(reviewers[0].pk),
            "last_reviewed": "",
            "next_review_due": "",
        },
    )
    _expect_redirect(response, "topic page")
    topic_page = _publish_latest(TopicPage, slug="xss-topic-page")

    # The archive, with a month introduction for the article's month.
    response = editor.post(
        f"/admin/pages/add/articles/archiveindexpage/{home.pk}/",
        {
            **_page_fields(corpus, "Archive", "archive"),
            "intro": contentstate(corpus.items, corpus.urls),
            **nested_form_data(
                {
                    "months": inline_formset(
                        [
                            {
                                "year": "2024",
                                "month": "9",
                                "title": corpus.short(200),
                                "intro": contentstate(corpus.items, corpus.urls),
                            }
                        ]
                    )
                }
            ),
        },
    )
    _expect_redirect(response, "archive")
    from evidencepress.articles.models import ArchiveIndexPage

    archive = _publish_latest(ArchiveIndexPage, slug="archive")

    # The article: every block type, every text field.
    chosen = iter([])

    def choose(block: Any) -> Any:
        if isinstance(block, ImageChooserBlock):
            return image.pk
        if isinstance(block, SnippetChooserBlock):
            return reviewers[1].pk
        nonlocal chosen
        try:
            return next(chosen)
        except StopIteration:
            chosen = iter(p.pk for p in publications)
            return next(chosen)

    response = editor.post(
        f"/admin/pages/add/articles/articlepage/{topic_page.pk}/",
        {
            **_page_fields(corpus, SEARCH_WORD, "xss-article"),
            "topic": str(topic.pk),
            "summary": f"{SEARCH_WORD} {corpus.text()}",
            "date": "2024-09-12",
            "updated": "",
            "reviewed_by": str(reviewers[2].pk),
            "last_reviewed": "",
            "next_review_due": "",
            **body_post(ArticlePage.body.field.stream_block, "body", corpus, choose),
        },
    )
    _expect_redirect(response, "article")
    article = _publish_latest(ArticlePage, slug="xss-article")

    # Readers' free text, through the public form (two requests).
    form_post = {
        "topic": TOPIC_SLUG,
        "setting": "unsure",
        "lesion_depth": "unknown",
        "surgery_possible": "unsure",
        "detail": "short",
        "consent": "on",
    }
    for number in range(2):
        response = Client().post(
            "/summaries/request/",
            {
                **form_post,
                "site": corpus.short(100),
                "prior_treatments_other": corpus.short(300),
                "current_treatments_other": corpus.short(300),
                "question": pack(corpus.items, 2000, separator="\n", start=number * 90),
                "email": f"reader{number}@example.org",
            },
        )
        _expect_redirect(response, f"summary request {number}")
    requests = list(SummaryRequest.objects.order_by("pk"))
    seeded.request_form_post = {
        **form_post,
        "site": corpus.short(100),
        "question": pack(corpus.items, 2000, separator="\n"),
        "email": "not an address " + corpus.short(100),
    }

    # Where it all shows.
    seeded.public_urls = [
        "/",
        topic_page.url,
        article.url,
        archive.url,
        f"{archive.url}2024/",
        f"{archive.url}2024/09/",
        f"/search/?q={SEARCH_WORD}",
        "/search/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E%3Cimg+src%3Dx+onerror%3Dalert(2)%3E",
        *(f"/evidence/publications/{p.pk}/" for p in publications),
    ]
    seeded.feed_urls = [
        "/feeds/articles.xml",
        "/feeds/articles.atom",
        f"/feeds/topics/{TOPIC_SLUG}.xml",
        f"/feeds/topics/{TOPIC_SLUG}.atom",
    ]
    seeded.admin_urls = [
        "/admin/",
        f"/admin/pages/{home.pk}/",
        f"/admin/pages/{topic_page.pk}/",
        f"/admin/pages/search/?q={SEARCH_WORD}",
        *(f"/admin/pages/{p.pk}/edit/" for p in (home, topic_page, archive, article)),
        f"/admin/pages/{article.pk}/history/",
        "/admin/snippets/articles/clinicalreviewer/",
        *(f"/admin/snippets/articles/clinicalreviewer/edit/{r.pk}/" for r in reviewers),
        "/admin/topic/",
        f"/admin/topic/edit/{topic.pk}/",
        f"/admin/topic/summary/{topic.pk}/",
        "/admin/publication/",
        f"/admin/publication/?q={SEARCH_WORD}",
        *(f"/admin/publication/edit/{p.pk}/" for p in publications),
        "/admin/reportedpatient/",
        "/admin/images/",
        f"/admin/images/{image.pk}/",
    ]
    seeded.chooser_urls = [
        f"/admin/evidence/publication-chooser/?q={SEARCH_WORD}",
        "/admin/snippets/choose/articles/clinicalreviewer/",
    ]
    seeded.summaries_urls = [
        "/admin/summaries/",
        *(f"/admin/summaries/{r.public_id}/" for r in requests),
    ]
    return seeded
