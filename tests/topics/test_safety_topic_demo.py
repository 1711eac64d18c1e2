"""The second demo topic end to end (issue #16 §1): "Imiquimod side effects", made of a
definition file and data only.

Its topic page and article show its live evidence in its own words, the request form asks its
questions, and a worried reader's tailored draft never mentions the other demo topic's condition.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from evidencepress.demo.loader import DATA_DIR, load_demo, remove_demo
from evidencepress.evidence.models import Publication, ReportedPatient, Topic
from evidencepress.evidence.topic_definition import definition_for, read_definition

pytestmark = pytest.mark.django_db

SLUG = "imiquimod-safety"
DEFINITION = DATA_DIR / "topics" / f"{SLUG}.json"
ARTICLE = "imiquimod-side-effects-explained"
# The other demo topic's condition and treatments: never in this topic's pages or drafts.
OTHER_TOPIC = re.compile(r"angiosarcoma|stewart|lymph(o)?edema|paclitaxel|timolol", re.I)
MAIN = re.compile(r"<main\b.*?</main>", re.S)
# A vocabulary value as stored ("local_reaction", "basal_cell_carcinoma"), never shown to readers.
RAW_VALUE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture
def demo(wagtail_tree: Any) -> dict[str, int]:
    return load_demo()


def _main(html: str) -> str:
    found = MAIN.search(html)
    assert found, "no <main> element"
    return found.group(0)


def _other_topic(text: str) -> list[str]:
    return sorted({m.group(0).lower() for m in OTHER_TOPIC.finditer(text)})


def test_the_safety_topic_is_its_definition_file(demo: dict[str, int]) -> None:
    topic = Topic.objects.get(slug=SLUG)
    expected = read_definition(DEFINITION.read_text(encoding="utf-8"), source=str(DEFINITION))
    assert definition_for(topic) == expected
    assert definition_for(topic).kind == "safety"
    versions = topic.versions.count()
    assert versions == 1
    load_demo()  # loading again records no new version
    assert topic.versions.count() == versions


def test_real_and_illustrative_cases_load_and_only_the_invented_go_with_remove_demo(
    demo: dict[str, int],
) -> None:
    topic = Topic.objects.get(slug=SLUG)
    cases = ReportedPatient.objects.filter(topic=topic)
    assert cases.count() == 9
    real = cases.filter(is_demo=False)
    assert sorted(real.values_list("label", flat=True)) == [
        "Husband", "The patient", "The patient", "Wife",
    ]  # fmt: skip
    for case in real:
        assert not case.publication.is_demo and case.publication.source_urls
        assert case.source_spans.exists()
        assert case.regimen_strength == "5% cream"
    demo_series = Publication.objects.get(is_demo=True)
    assert set(cases.filter(is_demo=True).values_list("publication", flat=True)) == {demo_series.pk}
    wu = real.get(publication__doi="10.1111/j.1440-0960.2004.00030.x")
    assert (wu.setting, wu.lesion_depth, wu.response) == (
        "basal_cell_carcinoma",
        "beyond_site",
        "resolved",
    )
    assert sorted(wu.adverse_events.values_list("kind", "severity")) == [
        ("local_reaction", "severe"),
        ("psoriasis", "unknown"),
    ]
    again = load_demo()
    assert not any(key.startswith("cases_") for key in again), again
    remove_demo()
    assert not ReportedPatient.objects.filter(is_demo=True).exists()
    assert ReportedPatient.objects.filter(topic__slug=SLUG, is_demo=False).count() == 4


def test_resolution_counts_as_improvement(demo: dict[str, int]) -> None:
    from evidencepress.evidence.topic_reports import topic_report

    # 1 real and 4 invented cases resolved or were improving (the topic's "improved").
    synthesis = topic_report(Topic.objects.get(slug=SLUG)).synthesis
    assert (synthesis.any_response.count, synthesis.any_response.total) == (5, 9)


def test_topic_page_and_article_show_the_live_evidence_in_the_topics_words(
    demo: dict[str, int], client: Client
) -> None:
    from evidencepress.articles.models import ArticlePage, TopicPage

    topic_page = TopicPage.objects.get(topic__slug=SLUG)
    html = _main(client.get(topic_page.url).content.decode())
    assert _other_topic(html) == []
    assert "9 reported patients" in html
    assert "Demonstration data — not medical evidence" in html
    assert "complete or partial" not in html.lower() and "Complete response" not in html
    assert ">Resolved<" in html and ">Improving, not yet fully resolved<" in html
    # Reaction kinds and outcomes by their labels, never as stored ("local_reaction").
    visible = re.sub(r"<[^>]+>", " ", html)
    assert not RAW_VALUE.findall(visible), RAW_VALUE.findall(visible)

    article = ArticlePage.objects.get(slug=ARTICLE)
    html = _main(client.get(article.url).content.decode())
    # The passages read in its sources say "(not angiosarcoma)" of their cases: the editors'
    # own words about a source, not the code's; the article's evidence is the topic's.
    assert html.count('<tr class="is-demo">') == 5
    for header in ("What the cream was used for", "How far the reaction reached"):
        assert header in html, header
    assert "Basal cell carcinoma" in html and "Genital warts" in html


def test_request_form_asks_the_safety_topics_questions(
    demo: dict[str, int], client: Client
) -> None:
    html = _main(client.get("/summaries/request/", {"topic": SLUG}).content.decode())
    for text in (
        "What was the cream prescribed for?",
        "How far does the reaction reach?",
        "A rash or skin change beyond the treated skin",
        "Who is this summary for?",
    ):
        assert text in html, text
    assert "Where did the angiosarcoma start?" not in html


READERS = [
    # (answers, for whom, what the draft must say)
    (
        {
            "setting": "basal_cell_carcinoma",
            "site": "shoulder",
            "lesion_depth": "beyond_site",
            "question": "A red rash has spread from my shoulder to my chest. Is this normal?",
        },
        "self",
        "Tell your care team soon",
    ),
    (
        {
            "setting": "genital_warts",
            "site": "",
            "lesion_depth": "systemic",
            "question": "My husband feels achy and weak since he started the cream.",
        },
        "other",
        "urgent help",
    ),
    (
        {
            "setting": "unsure",
            "site": "",
            "lesion_depth": "unknown",
            "question": "Will the redness on my face leave a mark?",
        },
        "self",
        "",
    ),
]


@pytest.mark.parametrize(("answers", "for_whom", "must"), READERS)
def test_a_worried_readers_draft_never_mentions_angiosarcoma(
    demo: dict[str, int], answers: dict[str, str], for_whom: str, must: str
) -> None:
    from evidencepress.summaries.models import SummaryRequest
    from evidencepress.summaries.services import summary_request_draft, summary_request_submit

    from ..summaries.conftest import make_user

    topic = Topic.objects.get(slug=SLUG)
    submitted = summary_request_submit(
        topic=topic,
        email="reader@example.com",
        situation={**answers, "for_whom": for_whom},
        detail="detailed",
        consent_version="test",
    )
    summary_request_draft(summary_request=submitted, user=make_user("safety-editor", group=True))
    stored = SummaryRequest.objects.get(pk=submitted.pk)
    text = stored.drafted_text
    assert _other_topic(text) == [], _other_topic(text)
    assert "imiquimod" in text.lower()
    assert must in text
    # The draft counts this topic's 9 cases as all reported cases, never another topic's.
    assert "all 9 reported cases" in text, text
    # Nothing of another topic's shape: no raw vocabulary value, no question this topic never
    # asks (surgery), no empty paragraph where a sentence could not be written.
    assert not RAW_VALUE.findall(text), RAW_VALUE.findall(text)
    assert "surgery" not in text.lower()
    assert "\n\n\n" not in text
    if answers["lesion_depth"] == "beyond_site":
        # The case report whose reaction spread beyond the treated skin is the closest.
        assert stored.draft_matches[0]["label"] == "The patient"
        assert not stored.draft_matches[0]["is_demo"]
    if stored.draft_contains_demo:
        assert "Demonstration data — not medical evidence" in text
