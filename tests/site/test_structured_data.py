"""JSON-LD from plain data: MedicalWebPage with review, topic and ScholarlyArticle citations."""

from __future__ import annotations

import datetime
import json

from evidencepress.articles.structured_data import (
    DEMO_DESCRIPTION,
    PageFacts,
    Reference,
    Reviewer,
    TopicFacts,
    json_ld,
    medical_web_page,
)

FACTS = PageFacts(
    title="Imiquimod cream explained",
    url="https://example.org/imiquimod/explained/",
    description="What the case reports say.",
    date_published=datetime.date(2024, 9, 12),
    last_reviewed=datetime.date(2024, 9, 10),
    reviewer=Reviewer("Dr Ada Lovelace", "MD, dermatologist"),
    topic=TopicFacts("Imiquimod for cutaneous angiosarcoma", "Imiquimod", "Cutaneous angiosarcoma"),
    references=(
        Reference(
            title="Rare cutaneous side effects of imiquimod",
            authors=("X Zhang", "Y Xie"),
            year=2023,
            journal="Dermatol Ther",
            pmid="37528289",
            doi="10.1007/s13555-023-00978-0",
        ),
        Reference(title="Demonstration series", is_demo=True),
    ),
)


def test_medical_web_page_names_the_reviewer_with_credentials_and_the_review_date() -> None:
    data = medical_web_page(FACTS)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "MedicalWebPage"
    assert data["lastReviewed"] == "2024-09-10"
    assert data["datePublished"] == "2024-09-12"
    assert data["reviewedBy"]["@type"] == "Person"
    assert data["reviewedBy"]["name"] == "Dr Ada Lovelace"
    assert data["reviewedBy"]["hasCredential"]["name"] == "MD, dermatologist"
    assert data["about"]["name"] == "Cutaneous angiosarcoma"
    assert data["about"]["possibleTreatment"]["name"] == "Imiquimod"


def test_citations_are_scholarly_articles_with_pmid_and_doi() -> None:
    real, demo = medical_web_page(FACTS)["citation"]
    assert real["@type"] == "ScholarlyArticle"
    assert real["name"] == "Rare cutaneous side effects of imiquimod"
    assert [a["name"] for a in real["author"]] == ["X Zhang", "Y Xie"]
    assert real["datePublished"] == "2023"
    ids = {i["propertyID"]: i["value"] for i in real["identifier"]}
    assert ids == {"PMID": "37528289", "DOI": "10.1007/s13555-023-00978-0"}
    assert real["url"] == "https://doi.org/10.1007/s13555-023-00978-0"
    # A demonstration source has no identifier and says what it is.
    assert "identifier" not in demo
    assert demo["description"] == DEMO_DESCRIPTION


def test_a_page_without_review_or_references_leaves_those_keys_out() -> None:
    data = medical_web_page(PageFacts(title="Home", url="https://example.org/"))
    for key in ("lastReviewed", "reviewedBy", "citation", "about"):
        assert key not in data


def test_json_ld_cannot_close_its_script_element() -> None:
    hostile = PageFacts(title="</script><script>alert(1)</script> & <!--", url="https://e.org/")
    text = json_ld(medical_web_page(hostile))
    assert "</script" not in text.lower()
    assert "<!--" not in text
    assert "<" not in text and ">" not in text
    # ...and it still means exactly the same data.
    assert json.loads(text)["name"] == "</script><script>alert(1)</script> & <!--"
