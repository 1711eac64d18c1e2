"""The AMA formatter against examples in the style of the AMA Manual of Style (11th ed., 3.13)."""

from __future__ import annotations

from evidencepress.evidence.references import (
    DEMO_LABEL,
    ReferenceData,
    format_ama,
    format_authors,
    full_page_range,
)


def person(last: str, initials: str = "", fore: str = "") -> dict[str, str]:
    return {"last_name": last, "initials": initials, "fore_name": fore, "collective_name": ""}


def test_journal_article_with_doi_matches_ama_layout() -> None:
    data = ReferenceData(
        authors=[person("Zhang", "X"), person("Xie", "Y"), person("Wang", "L")],
        title="Rare cutaneous side effects of imiquimod: a review on its mechanisms, "
        "diagnosis, and management",
        journal="Dermatol Ther (Heidelb)",
        year=2023,
        volume="13",
        issue="9",
        pages="1909-1934",
        doi="10.1007/s13555-023-00978-0",
        pmid="37528289",
    )
    ref = format_ama(data, number=1)
    assert ref.text == (
        "Zhang X, Xie Y, Wang L. Rare cutaneous side effects of imiquimod: a review on its "
        "mechanisms, diagnosis, and management. Dermatol Ther (Heidelb). 2023;13(9):1909-1934. "
        "doi:10.1007/s13555-023-00978-0"
    )
    assert ref.pubmed_url == "https://pubmed.ncbi.nlm.nih.gov/37528289/"
    assert ref.doi_url == "https://doi.org/10.1007/s13555-023-00978-0"
    assert ref.number == 1


def test_more_than_six_authors_lists_three_then_et_al() -> None:
    seven = [person(name, "A") for name in ("Qiu", "Ma", "Yang", "Hu", "Chen", "Jin", "Lin")]
    assert format_authors(seven) == "Qiu A, Ma A, Yang A, et al."
    six = seven[:6]
    assert format_authors(six) == "Qiu A, Ma A, Yang A, Hu A, Chen A, Jin A."


def test_initials_come_from_fore_names_when_missing_and_lose_full_stops() -> None:
    assert format_authors([person("Heikkinen", fore="Anna K.")]) == "Heikkinen AK."
    assert format_authors([person("Smith", "J. R.")]) == "Smith JR."
    group = {"collective_name": "JAMA Network Group", "last_name": ""}
    assert format_authors([group, person("Lee", "H")]) == "JAMA Network Group, Lee H."


def test_abbreviated_page_ranges_are_written_in_full() -> None:
    assert full_page_range("845-50") == "845-850"
    assert full_page_range("1909-34") == "1909-1934"
    assert full_page_range("52-53") == "52-53"
    assert full_page_range("e1001") == "e1001"


def test_missing_parts_are_left_out_without_stray_punctuation() -> None:
    ref = format_ama(
        ReferenceData(
            authors=[person("Trčko", "K")],
            title="Imiquimod-associated erythema multiforme",
            journal="Acta Dermatovenerol Alp Pannonica Adriat.",
            year=2020,
            issue="1",
        ),
        number=3,
    )
    assert ref.text == (
        "Trčko K. Imiquimod-associated erythema multiforme. "
        "Acta Dermatovenerol Alp Pannonica Adriat. 2020;(1)."
    )
    bare = format_ama(ReferenceData(title="Prescribing information?"), number=4)
    assert bare.text == "Prescribing information?"
    assert bare.pubmed_url == bare.doi_url == ""


def test_demo_publications_carry_the_demo_label() -> None:
    assert (
        format_ama(ReferenceData(title="Demo series", is_demo=True), number=1).demo_label
        == DEMO_LABEL
    )
    assert format_ama(ReferenceData(title="Real"), number=1).demo_label == ""
