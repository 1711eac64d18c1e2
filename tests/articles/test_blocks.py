"""Each article block renders with its template; evidence blocks show computed numbers only."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.images import ImageFile
from django.test import Client
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images import get_image_model

from evidencepress.articles import blocks
from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import ArticlePage
from evidencepress.demo.articles import draw_cream_diagram
from evidencepress.evidence.certainty import plain_wording
from evidencepress.evidence.models import Publication
from evidencepress.evidence.topic_reports import topic_report

from .conftest import complete_body

pytestmark = pytest.mark.django_db

EVERY_BLOCK = set(blocks.ArticleStreamBlock.base_blocks)


def _image() -> Any:
    image = get_image_model()(title="Test diagram")
    image.file = ImageFile(io.BytesIO(draw_cream_diagram()), name="test-diagram.png")
    image.save()
    return image


def full_body(pubs: dict[str, Publication], image: Any) -> list[dict[str, Any]]:
    mech = pubs["mechanism"].pk
    return [
        {"type": "rich_text", "value": {"text": "<p>Opening words.</p>", "citations": [mech]}},
        *complete_body(pubs),
        {
            "type": "practical_tips",
            "value": {
                "heading": "Tips",
                "tips": ["Wash your hands."],
                "downsides": ["It stings."],
                "citations": [],
            },
        },
        {
            "type": "case_image",
            "value": {
                "image": image.pk,
                "alt_text": "A drawn patch of skin",
                "caption": "Our drawing.",
                "source_publication": mech,
                "credit": "EvidencePress (own work)",
                "licence": "CC BY 4.0",
                "consent": "Not needed: a drawing",
                "sensitive": True,
            },
        },
        {"type": "case_table", "value": {"heading": "Every case", "caption": ""}},
        {"type": "swimmer_plot", "value": {"heading": "Each course", "caption": ""}},
        {"type": "quick_pointers", "value": {"heading": "Pointers", "items": ["Short point."]}},
        {"type": "research_questions", "value": {"heading": "Open questions", "intro": ""}},
        {
            "type": "safety",
            "value": {
                "heading": "Call us",
                "level": "urgent",
                "text": "<p>Call if unwell.</p>",
                "citations": [],
            },
        },
    ]


def test_every_block_type_renders_on_the_page(
    client: Client, make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(body=full_body(publications, _image()))
    assert {b.block_type for b in article.body} == EVERY_BLOCK
    html = client.get(article.url).content.decode()

    for text in (
        "Opening words.",
        "It wakes the immune cells",
        "A small patch",
        "Take a biopsy first.",
        "No operation.",
        "Sore skin.",
        "Only case reports.",
        "It is not proven.",
        "Can I have surgery?",
        "Wash your hands.",
        "It stings.",
        "Short point.",
        "Call if unwell.",
    ):
        assert text in html, text
    assert "Steps as described by Dr Named Clinician" in html
    # The image: required alt text, credit, licence, consent, source, and the sensitive blur.
    assert 'alt="A drawn patch of skin"' in html
    assert (
        "EvidencePress (own work)" in html
        and "CC BY 4.0" in html
        and "Not needed: a drawing" in html
    )
    assert "data-sensitive" in html and "data-reveal" in html
    assert "js/sensitive-images.js" in html
    assert "<script>" not in html  # no inline script (strict CSP)
    # The case table: one row per case, each labelled as demonstration data.
    assert html.count('<tr class="is-demo">') == 3
    assert html.count('<span class="demo-tag">demo</span>') >= 3


def test_evidence_summary_shows_exactly_the_synthesis(
    client: Client, make_article: Callable[..., ArticlePage], publications: Any, topic: Any
) -> None:
    article = make_article(body=complete_body(publications))
    html = client.get(article.url).content.decode()
    report = topic_report(topic)
    s = report.synthesis

    any_response = s.any_response
    assert f"<td>{any_response.count} of {any_response.total}</td>" in html
    assert f"<td>{any_response.proportion:.0%}</td>" in html
    assert f"{any_response.ci_low:.0%} to {any_response.ci_high:.0%}" in html
    for share in s.responses.values():
        assert f"<td>{share.count} of {share.total}</td>" in html
    assert f"{s.patients} reported patients" in html
    assert s.evidence_date.strftime("%-d %B %Y") in html
    assert "Evidence as of" in html
    # Limits block: the computed certainty wording, not anything typed.
    assert plain_wording(s) in html
    assert report.certainty.explanation in html


IMPROVED = '<th scope="row">Any improvement (complete or partial)</th><td>{}</td>'


def test_edited_cases_wait_for_review_then_change_the_page_without_editing_the_article(
    client: Client, make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(body=complete_body(publications))
    assert IMPROVED.format("2 of 3") in client.get(article.url).content.decode()

    publications["demo"].patients.filter(label="Illustrative case C").update(response="complete")

    html = client.get(article.url).content.decode()
    assert IMPROVED.format("2 of 3") in html  # the reviewed numbers stay ...
    assert "1 new or corrected case is waiting for clinical review." in html  # ... and say so
    page_evidence_pin_live(page=article, reviewer_name="Dr Second Look")  # a new review
    html = client.get(article.url).content.decode()
    assert IMPROVED.format("3 of 3") in html
    assert "waiting for clinical review" not in html


def test_research_questions_come_from_the_computed_gaps(
    client: Client, make_article: Callable[..., ArticlePage], publications: Any, topic: Any
) -> None:
    body = [{"type": "research_questions", "value": {"heading": "Open questions", "intro": ""}}]
    html = client.get(make_article(body=body).url).content.decode()
    for gap in topic_report(topic).gaps:
        assert gap.question in html
        if gap.key != "editor":
            assert f"So far, {gap.informed} of {gap.total} cases" in html


def test_swimmer_plot_falls_back_to_a_data_table_without_the_plot_module(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import evidencepress.evidence as evidence_package

    # As if the plotting module were missing: importing it fails.
    monkeypatch.setitem(sys.modules, "evidencepress.evidence.plots", None)
    monkeypatch.delattr(evidence_package, "plots", raising=False)
    body = [{"type": "swimmer_plot", "value": {"heading": "Each course", "caption": ""}}]
    html = client.get(make_article(body=body).url).content.decode()
    assert "<svg" not in html
    assert '<details class="plot-data" open>' in html
    assert "Illustrative case A" in html and "Illustrative case C" in html


def test_swimmer_plot_uses_the_evidence_plot_when_available(
    client: Client, make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    body = [{"type": "swimmer_plot", "value": {"heading": "Each course", "caption": ""}}]
    html = client.get(make_article(body=body).url).content.decode()
    assert "<svg" in html
    assert "The same data as a table" in html


HEADED = sorted(
    name
    for name, block in blocks.ArticleStreamBlock.base_blocks.items()
    if "heading" in getattr(block, "child_blocks", {})
)


@pytest.mark.parametrize("name", HEADED)
def test_a_section_heading_is_at_most_80_characters(name: str) -> None:
    """A long heading wrapped to many lines above a chart and crowded the table of contents."""
    heading = blocks.ArticleStreamBlock.base_blocks[name].child_blocks["heading"]
    assert heading.clean("W" * blocks.HEADING_MAX_LENGTH) == "W" * 80
    with pytest.raises(ValidationError, match="at most 80 characters"):
        heading.clean("W" * 81)


def test_pros_and_cons_need_both_sides() -> None:
    block = blocks.ProsConsBlock()
    value = block.to_python({"heading": "P", "pros": ["Good"], "cons": [], "citations": []})
    with pytest.raises(ValidationError):
        block.clean(value)
    value = block.to_python({"heading": "P", "pros": [], "cons": ["Bad"], "citations": []})
    with pytest.raises(ValidationError):
        block.clean(value)


def test_case_image_needs_alt_text_credit_licence_and_consent(wagtail_tree: object) -> None:
    image = _image()
    block = blocks.CaseImageBlock()
    value = block.to_python(
        {
            "image": image.pk,
            "alt_text": "",
            "caption": "",
            "source_publication": None,
            "credit": "",
            "licence": "",
            "consent": "",
            "sensitive": False,
        }
    )
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(value)
    assert {"alt_text", "credit", "licence", "consent"} <= set(error.value.block_errors)


def test_clinician_steps_must_name_a_clinician() -> None:
    block = blocks.ClinicianStepsBlock()
    value = block.to_python(
        {
            "heading": "Steps",
            "clinician": None,
            "clinician_name": " ",
            "steps": ["One"],
            "citations": [],
        }
    )
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(value)
    assert "clinician" in error.value.block_errors


def test_missing_required_sections_lists_what_is_empty(
    make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    complete = make_article(title="Complete", body=complete_body(publications))
    assert complete.missing_required_sections() == []

    partial = [b for b in complete_body(publications) if b["type"] not in ("limits", "pros_cons")]
    article = make_article(title="Partial", body=partial)
    assert article.missing_required_sections() == ["Pros and cons", "Limits of the evidence"]
