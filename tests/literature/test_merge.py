"""Copies of one paper from several sources: merged field by field, in any order (issue #17).

The merge rule (docs/importing.md): a field holds the value of the best copy that has one,
copies ranked by revision date and then source quality (MEDLINE XML > .nbib > RIS/BibTeX); an
empty value never replaces a present one. The duplicate rule: title + year is the same paper only
when the first author's surname (or, lacking authors, the journal) agrees.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencepress.evidence.models import Publication
from evidencepress.literature.importer import ImportResult, import_items, import_path
from evidencepress.literature.merge import SOURCE_RANK
from evidencepress.literature.parsers import parse_path
from evidencepress.literature.records import PARSERS_REVISION, Author, ParsedRecord

pytestmark = pytest.mark.django_db

# Every column an import writes, as read back (the row's identity and timestamps aside).
STORED = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "title_normalized",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "authors",
    "publication_types",
    "mesh_terms",
    "keywords",
    "abstract",
    "language",
    "retracted",
    "date_revised",
    "source_format",
    "content_hash",
    "field_sources",
    "parser_revision",
)

SMITH = (Author("Smith", "Jane", "J"), Author("Okafor", "Chidi", "C"))


def copy(fmt: str, position: int = 1, **fields: Any) -> ParsedRecord:
    values: dict[str, Any] = {
        "source_format": fmt,
        "position": position,
        "title": "Cutaneous angiosarcoma of the scalp treated with imiquimod",
        "year": 2019,
        "authors": SMITH,
        "journal": "Journal of Illustrative Dermatology",
    }
    values.update(fields)
    return ParsedRecord(**values)


def run(*records: ParsedRecord) -> ImportResult:
    return import_items(
        list(records), source="copies", kind="file", source_format="mixed", topic=None
    )


def rows() -> list[dict[str, Any]]:
    return list(Publication.objects.order_by("title", "pmid", "doi").values(*STORED))


# --- bug 1: a poorer copy never erases a better one -------------------------------------------


def test_a_bibtex_copy_after_an_ris_copy_keeps_the_pmid() -> None:
    run(copy("ris", pmid="23690738", publication_types=("JOUR",), abstract="An abstract."))
    result = run(copy("bibtex", doi="10.1000/Illus.1", publication_types=("article",)))
    assert (result.new, result.updated) == (0, 1)  # the DOI is new: filled in
    pub = Publication.objects.get()
    assert (pub.pmid, pub.doi, pub.abstract) == ("23690738", "10.1000/illus.1", "An abstract.")


def test_an_nbib_copy_without_lr_keeps_its_doi_and_types_against_bibtex() -> None:
    nbib = copy("nbib", pmid="31000011", doi="10.1000/nbib.1", publication_types=("Case Reports",))
    run(nbib)
    result = run(copy("bibtex", publication_types=("article",), pages="12-15"))
    pub = Publication.objects.get()
    assert pub.doi == "10.1000/nbib.1"
    assert pub.publication_types == ["Case Reports"]  # .nbib outranks BibTeX
    assert pub.pages == "12-15"  # only BibTeX had pages: filled in
    assert pub.field_sources == {"pages": ["", SOURCE_RANK["bibtex"], PARSERS_REVISION]}
    assert result.updated == 1


def test_a_better_copy_wins_every_field_it_has_and_keeps_the_rest() -> None:
    run(copy("ris", abstract="RIS abstract.", pages="1-2", keywords=("ris kw",)))
    run(
        copy(
            "medline_xml",
            pmid="5550001",
            abstract="MEDLINE abstract.",
            date_revised=date(2021, 3, 1),
            mesh_terms=("Hemangiosarcoma",),
        )
    )
    pub = Publication.objects.get()
    assert pub.abstract == "MEDLINE abstract."
    assert (pub.pages, pub.keywords, pub.mesh_terms) == ("1-2", ["ris kw"], ["Hemangiosarcoma"])
    assert pub.source_format == "medline_xml" and pub.date_revised == date(2021, 3, 1)
    assert pub.field_sources == {"pages": ["", 1, 1], "keywords": ["", 1, 1]}


def test_a_later_revision_wins_over_source_quality() -> None:
    run(copy("medline_xml", pmid="5550002", abstract="Old.", date_revised=date(2020, 1, 1)))
    run(copy("nbib", pmid="5550002", abstract="Corrected.", date_revised=date(2022, 1, 1)))
    assert Publication.objects.get().abstract == "Corrected."
    run(copy("medline_xml", pmid="5550002", abstract="Stale.", date_revised=date(2019, 1, 1)))
    assert Publication.objects.get().abstract == "Corrected."


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_ris_and_bibtex_copies_of_two_papers_settle_whatever_their_order(
    order: tuple[int, ...],
) -> None:
    """The issue's report: the same command printed "updated 4" on every run."""
    other = {"title": "A second paper", "authors": (Author("Lee", "Min", "M"),)}
    files = [
        [copy("ris", pmid="1001", publication_types=("JOUR",)), copy("ris", 2, **other)],
        [copy("bibtex", doi="10.1000/a", publication_types=("article",))],
        [copy("bibtex", doi="10.1000/b", abstract="Only here.", **other)],
    ]
    for index in order:
        run(*files[index])
    first = rows()
    stamps = list(Publication.objects.values_list("id", "updated_at", "import_batch_id"))
    for index in order:
        result = run(*files[index])
        assert (result.new, result.updated) == (0, 0)
    assert rows() == first
    assert list(Publication.objects.values_list("id", "updated_at", "import_batch_id")) == stamps
    assert len(first) == 2
    assert {(r["pmid"], r["doi"]) for r in first} == {("1001", "10.1000/a"), (None, "10.1000/b")}


def test_a_retraction_is_never_undone_by_a_copy_that_does_not_mention_it() -> None:
    run(copy("medline_xml", pmid="5550003", retracted=True, date_revised=date(2021, 1, 1)))
    run(copy("ris", pmid="5550003"))
    assert Publication.objects.get().retracted is True


def test_copies_of_equal_rank_agree_by_value_not_by_arrival() -> None:
    """RIS and BibTeX rank alike: the fuller value wins, whichever came first."""
    short, full = copy("ris", abstract="Truncated…"), copy("bibtex", abstract="The whole text.")
    run(short, full)
    first = rows()
    Publication.objects.all().delete()
    run(full)
    run(short)
    assert rows() == first and first[0]["abstract"] == "The whole text."


def test_a_provenance_only_change_keeps_the_rows_batch_and_time() -> None:
    """A better copy with exactly the values a poorer one filled in: nothing a reader sees
    changes, so the row keeps its import batch and `updated_at`; where the field came from is
    still recorded, so that a middle-ranked copy cannot overwrite it later."""
    run(copy("medline_xml", pmid="5550004", date_revised=date(2021, 1, 1)))
    run(copy("ris", pmid="5550004", doi="10.1000/ris"))
    before = Publication.objects.values_list("updated_at", "import_batch_id").get()
    better = copy("medline_xml", pmid="5550004", doi="10.1000/ris", date_revised=date(2021, 1, 1))
    result = run(better)
    assert (result.updated, result.duplicates) == (0, 1)
    pub = Publication.objects.get()
    assert (pub.updated_at, pub.import_batch_id) == before
    assert pub.field_sources == {}
    run(copy("nbib", pmid="5550004", doi="10.1000/nbib"))
    assert Publication.objects.get().doi == "10.1000/ris"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
@pytest.mark.parametrize("cut", [1, 2])
def test_a_copy_that_only_confirms_a_value_in_the_same_batch_as_one_that_fills_it(
    order: tuple[int, ...], cut: int
) -> None:
    """Found by the property test: an RIS copy filled in the DOI and, in the same batch, a MEDLINE
    copy with that DOI raised where it came from; the batch's update wrote the RIS state."""
    paper: dict[str, Any] = {"title": "Paper 2", "authors": (Author("Tanaka", "Ana", "A"),)}
    copies = [
        copy("medline_xml", pmid="900002", **paper),
        copy("ris", doi="10.1000/p2", **paper),
        copy("medline_xml", pmid="900002", doi="10.1000/p2", **paper),
    ]
    ordered = [copies[i] for i in order]
    run(*ordered[:cut])
    run(*ordered[cut:])
    pub = Publication.objects.get()
    assert (pub.pmid, pub.doi, pub.field_sources) == ("900002", "10.1000/p2", {})


def test_values_an_older_parser_read_are_replaced_by_the_same_file_read_again() -> None:
    """Before #17 the readers kept NLM's "UNLABELLED" heading and rebuilt .nbib initials from
    the full name. Stored rows carry no parser revision (0): the same copy read by the current
    code outranks them, so re-importing the file repairs them, once."""
    good = copy(
        "nbib",
        pmid="5550005",
        abstract="An abstract.",
        authors=(Author("Saqi", "Mansoor A", "MA"),),
        date_revised=date(2023, 1, 5),
    )
    run(good)
    Publication.objects.update(
        abstract="UNLABELLED: An abstract.",
        authors=[{"last_name": "Saqi", "fore_name": "Mansoor A", "initials": "MAS",
                  "collective_name": ""}],
        parser_revision=0,
        content_hash="from an older release",
    )  # fmt: skip
    result = run(good)
    assert (result.updated, result.duplicates) == (1, 0)
    pub = Publication.objects.get()
    assert (pub.abstract, pub.authors[0]["initials"]) == ("An abstract.", "MA")
    assert pub.parser_revision == PARSERS_REVISION and pub.field_sources == {}
    again = run(good)
    assert (again.updated, again.duplicates) == (0, 1)


# --- bug 2: a shared title and year is not enough ---------------------------------------------


GENERIC = "Cutaneous angiosarcoma: a case report"


def test_four_papers_with_one_generic_title_stay_four() -> None:
    papers = [
        copy("bibtex", n, title=GENERIC, authors=(Author(name, "", ""),))
        for n, name in enumerate(("Rossi", "Tanaka", "Dubois", "Novak"), start=1)
    ]
    result = run(*papers)
    assert (result.new, result.duplicates) == (4, 0)
    again = run(*papers)
    assert (again.new, again.updated, again.duplicates) == (0, 0, 4)
    assert Publication.objects.count() == 4


@pytest.mark.parametrize(
    ("second", "same"),
    [
        ({"authors": (Author("SMITH", "J.", "J"),)}, True),  # case and initials differ
        ({"authors": (Author("Smíth", "", ""),)}, True),  # accent folded
        ({"authors": (Author("Smithson", "Jane", "J"),)}, False),
        ({"authors": (Author(collective_name="Angiosarcoma Study Group"),)}, False),
        ({"authors": (), "journal": "Journal of Illustrative Dermatology."}, True),
        ({"authors": (), "journal": "Another Journal"}, False),
        ({"authors": (), "journal": ""}, False),  # nothing to agree on
        ({"year": 2020}, False),
    ],
)
def test_title_and_year_match_only_when_the_first_author_or_journal_agrees(
    second: dict[str, Any], same: bool
) -> None:
    run(copy("ris", title=GENERIC))
    run(copy("bibtex", 2, title=GENERIC.upper(), **second))
    assert Publication.objects.count() == (1 if same else 2)


def test_identifiers_still_match_whatever_the_authors_say() -> None:
    run(copy("ris", pmid="777", title=GENERIC))
    run(copy("bibtex", pmid="777", title=GENERIC, authors=(Author("Else", "", ""),)))
    run(copy("bibtex", doi="10.1000/gen", title=GENERIC, authors=(Author("Other", "", ""),)))
    run(copy("ris", doi="10.1000/GEN", title="A different title", year=2001))
    assert Publication.objects.count() == 2


# --- the property: any copies, any formats, any order, twice ----------------------------------

FORMATS = ("medline_xml", "nbib", "ris", "bibtex")
OPTIONAL = ("doi", "journal", "volume", "issue", "pages", "abstract", "language", "keywords")


@st.composite
def papers(draw: st.DrawFn) -> list[ParsedRecord]:
    """Copies of 1-3 papers (some sharing a title and year), each copy in a random format with
    random fields left out or given differently, as real exports of one paper are."""
    count = draw(st.integers(1, 3))
    surnames = draw(
        st.lists(st.sampled_from(["Rossi", "Tanaka", "Dubois", "Novak"]), min_size=count,
                 max_size=count, unique=True)
    )  # fmt: skip
    shared_title = draw(st.booleans())
    copies: list[ParsedRecord] = []
    for number, surname in enumerate(surnames, start=1):
        title = GENERIC if shared_title else f"Paper {number} on angiosarcoma"
        pmid = str(900000 + number)
        for _ in range(draw(st.integers(1, 4))):
            fmt = draw(st.sampled_from(FORMATS))
            dated = fmt in ("medline_xml", "nbib") and draw(st.booleans())
            keep = draw(st.lists(st.sampled_from(OPTIONAL), unique=True))
            variant = draw(st.sampled_from(["", " (v2)", " revised"]))
            fields: dict[str, Any] = {
                "pmid": pmid if fmt in ("medline_xml", "nbib") or draw(st.booleans()) else None,
                "doi": f"10.1000/p{number}" if "doi" in keep else None,
                "journal": "Example Journal" if "journal" in keep else "",
                "volume": "9" if "volume" in keep else "",
                "issue": "2" if "issue" in keep else "",
                "pages": f"1-{draw(st.integers(2, 3))}" if "pages" in keep else "",
                "abstract": f"Abstract{variant}." if "abstract" in keep else "",
                "language": "eng" if "language" in keep else "",
                "keywords": ("angiosarcoma", variant.strip())[: 1 + bool(variant)]
                if "keywords" in keep
                else (),
                "authors": (Author(surname, "Ana", "A"),)
                + ((Author("Second", "Bo", "B"),) if draw(st.booleans()) else ()),
                "publication_types": {
                    "medline_xml": ("Case Reports",),
                    "nbib": ("Case Reports",),
                    "ris": ("JOUR",),
                    "bibtex": ("article",),
                }[fmt],
                "mesh_terms": ("Hemangiosarcoma",) if fmt in ("medline_xml", "nbib") else (),
                "retracted": fmt == "medline_xml" and draw(st.booleans()),
                "date_revised": draw(st.sampled_from([date(2020, 1, 1), date(2022, 6, 1)]))
                if dated
                else None,
            }
            copies.append(copy(fmt, len(copies) + 1, title=title, **fields))
    return copies


def _best(copies: list[ParsedRecord]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """What the rule says each paper's row holds: per field, the best copy's non-empty value.

    Written from the rule, apart from the importer: sort the copies best first (revision date,
    then rank, then, between copies of equal priority, the fuller value) and take each field
    from the first copy that has it."""
    out = {}
    for surname, group in itertools.groupby(
        sorted(copies, key=lambda c: c.authors[0].last_name), key=lambda c: c.authors[0].last_name
    ):
        group_copies = list(group)
        row = {}
        for name in ("pmid", "doi", "abstract", "pages", "keywords", "publication_types"):
            present = [c for c in group_copies if getattr(c, name) not in (None, "", ())]
            if not present:
                row[name] = {"pmid": None, "doi": None, "abstract": "", "pages": ""}.get(name, [])
                continue

            def rank(c: ParsedRecord, name: str = name) -> tuple[Any, ...]:
                value = getattr(c, name)
                value = list(value) if isinstance(value, tuple) else value
                size = len(value) if isinstance(value, str | list) else 0
                return (
                    c.date_revised or date.min,
                    SOURCE_RANK[c.source_format],
                    size,
                    json.dumps(value, sort_keys=True, ensure_ascii=False),
                )

            best = max(present, key=rank)
            value = getattr(best, name)
            row[name] = list(value) if isinstance(value, tuple) else value
        out[(surname, row["pmid"])] = row
    return out


@given(papers(), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_copies_in_any_order_twice_store_the_best_of_each_field(
    copies: list[ParsedRecord], rnd: Any
) -> None:
    outcomes = []
    for attempt in range(2):
        order = list(copies)
        rnd.shuffle(order)
        cut = rnd.randint(0, len(order))  # two imports: two files of copies
        with transaction.atomic():
            first = [run(*part) for part in (order[:cut], order[cut:]) if part]
            assert sum(r.new for r in first) == len({c.authors[0].last_name for c in copies})
            stored = rows()
            for part in (order[:cut], order[cut:]):
                if part:
                    again = run(*part)
                    assert (again.new, again.updated) == (0, 0), attempt
            assert rows() == stored
            # Keyed by paper: two papers may share a title and have no PMID or DOI, so the
            # rows' order alone could differ between the attempts.
            by_paper = {(row["authors"][0]["last_name"], row["pmid"]): row for row in stored}
            outcomes.append(by_paper)
            expected = _best(copies)
            assert set(by_paper) == set(expected)
            for key, want in expected.items():
                for name, value in want.items():
                    assert by_paper[key][name] == value, (key, name)
            transaction.set_rollback(True)
    assert outcomes[0] == outcomes[1]


# --- the same paper as real files in four formats ---------------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# One invented paper (PMID 39900301) as PubMed XML and .nbib (tests/fixtures), and as a
# reference manager would export it to RIS and BibTeX: fewer fields, other names for them.
RIS_COPY = """TY  - JOUR
AU  - Saqi, Mansoor A.
AU  - O'Brien, Seán-Patrick
TI  - Invented record whose initials come from the AU lines.
T2  - Journal of Illustrative Dermatology
PY  - 2021
SP  - 10
EP  - 19
KW  - invented keyword
AB  - A reference manager's shorter abstract.
ER  -
"""
BIBTEX_COPY = """@ARTICLE{saqi2021,
  AUTHOR = {Saqi, Mansoor A. and O'Brien, Se{\\'a}n-Patrick},
  TITLE = {Invented record whose initials come from the {AU} lines},
  JOURNAL = {J Illus Dermatol},
  YEAR = 2021,
  DOI = {https://doi.org/10.1000/CONF.NBIB.1},
  NOTE = {PMID: 39900301},
}
"""


def _files(directory: Path) -> list[Path]:
    ris = directory / "copy.ris"
    ris.write_text(RIS_COPY, encoding="utf-8")
    bib = directory / "copy.bib"
    bib.write_text(BIBTEX_COPY, encoding="utf-8")
    return [FIXTURES / "medline" / "markup.xml", FIXTURES / "nbib" / "conformance.nbib", ris, bib]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_one_paper_from_four_formats_in_any_order_twice(
    order: tuple[int, ...], tmp_path: Path
) -> None:
    files = _files(tmp_path)
    for index in order:
        import_path(files[index], topic=None)
    paper = Publication.objects.get(pmid="39900301")
    stored = rows()
    for index in order:
        again = import_path(files[index], topic=None)
        assert (again.new, again.updated) == (0, 0), files[index].name
    assert rows() == stored
    # MEDLINE XML wins every field it has; the others fill only what it lacks.
    assert paper.source_format == "medline_xml"
    assert paper.abstract.startswith("An invented abstract: doses of 10^−19 mol")
    assert [a["initials"] for a in paper.authors] == ["MA", "SP", "L", ""]
    assert paper.keywords == ["invented keyword"]  # only the RIS copy had keywords
    assert paper.field_sources == {"keywords": ["", 1, PARSERS_REVISION]}
    assert Publication.objects.count() == 3  # the paper and the two other .nbib records


# --- the property again, through real files -----------------------------------------------------

WORDS = ["angiosarcoma", "scalp", "imiquimod", "topical", "cutaneous", "report", "case", "élan"]


def _xml(paper: dict[str, Any], keep: set[str]) -> str:
    authors = "".join(
        f"<Author><LastName>{last}</LastName><ForeName>{fore}</ForeName>"
        f"<Initials>{''.join(p[0] for p in fore.split())}</Initials></Author>"
        for last, fore in paper["authors"]
    )
    abstract = (
        f"<Abstract><AbstractText>{paper['abstract']}</AbstractText></Abstract>"
        if "abstract" in keep
        else ""
    )
    doi = f'<ELocationID EIdType="doi">{paper["doi"]}</ELocationID>' if "doi" in keep else ""
    return (
        '<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation>'
        f"<PMID>{paper['pmid']}</PMID><Article><Journal><JournalIssue><Volume>{paper['volume']}"
        f"</Volume><PubDate><Year>{paper['year']}</Year></PubDate></JournalIssue>"
        f"<Title>{paper['journal']}</Title></Journal><ArticleTitle>{paper['title']}"
        f"</ArticleTitle><Pagination><MedlinePgn>{paper['pages']}</MedlinePgn></Pagination>{doi}"
        f"{abstract}<AuthorList>{authors}</AuthorList><PublicationTypeList><PublicationType>"
        "Case Reports</PublicationType></PublicationTypeList></Article></MedlineCitation>"
        "</PubmedArticle></PubmedArticleSet>"
    )


def _nbib(paper: dict[str, Any], keep: set[str]) -> str:
    lines = [f"PMID- {paper['pmid']}", f"DP  - {paper['year']}", f"TI  - {paper['title']}"]
    lines += [f"VI  - {paper['volume']}", f"PG  - {paper['pages']}"]
    if "doi" in keep:
        lines.append(f"LID - {paper['doi']} [doi]")
    if "abstract" in keep:
        lines.append(f"AB  - {paper['abstract']}")
    for last, fore in paper["authors"]:
        lines += [f"FAU - {last}, {fore}", f"AU  - {last} {''.join(p[0] for p in fore.split())}"]
    lines += ["PT  - Case Reports", f"JT  - {paper['journal']}"]
    return "\n".join(lines) + "\n"


def _ris(paper: dict[str, Any], keep: set[str]) -> str:
    lines = ["TY  - JOUR", f"TI  - {paper['title']}", f"T2  - {paper['journal']}"]
    lines += [f"PY  - {paper['year']}", f"VL  - {paper['volume']}"]
    lines += [f"AU  - {last}, {fore}" for last, fore in paper["authors"]]
    start, _, end = paper["pages"].partition("-")
    lines += [f"SP  - {start}", f"EP  - {end}"]
    if "doi" in keep:
        lines.append(f"DO  - https://doi.org/{paper['doi']}")
    if "pmid" in keep:
        lines.append(f"AN  - {paper['pmid']}")
    if "abstract" in keep:
        lines.append(f"AB  - {paper['abstract']}")
    if "keywords" in keep:
        lines += [f"KW  - {word}" for word in paper["keywords"]]
    return "\n".join([*lines, "ER  - ", ""])


def _bibtex(paper: dict[str, Any], keep: set[str]) -> str:
    fields = [
        f"TITLE = {{{paper['title']}}}",
        "AUTHOR = {" + " and ".join(f"{last}, {fore}" for last, fore in paper["authors"]) + "}",
        f"Journal = {{{paper['journal']}}}",
        f"year = {paper['year']}",
        f"volume = {{{paper['volume']}}}",
        f"pages = {{{paper['pages'].replace('-', '--')}}}",
    ]
    if "doi" in keep:
        fields.append(f"doi = {{doi:{paper['doi']}}}")
    if "pmid" in keep:
        fields.append(f"note = {{PMID: {paper['pmid']}}}")
    if "abstract" in keep:
        fields.append(f"abstract = {{{paper['abstract']}}}")
    if "keywords" in keep:
        fields.append("keywords = {" + ", ".join(paper["keywords"]) + "}")
    return "@article{key,\n  " + ",\n  ".join(fields) + "\n}\n"


WRITERS = {"xml": _xml, "nbib": _nbib, "ris": _ris, "bib": _bibtex}


@st.composite
def paper_files(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(file name, text): copies of 1-2 papers as PubMed XML, .nbib, RIS and BibTeX exports."""
    files = []
    for number in range(1, draw(st.integers(1, 2)) + 1):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=5))
        coauthors = draw(st.lists(st.sampled_from([("Okafor", "Chidi"), ("Berg", "Lena")])))[:2]
        paper = {
            "pmid": str(990000 + number),
            "doi": f"10.1000/file.{number}",
            "title": f"Paper {number}: " + " ".join(words),
            "journal": draw(st.sampled_from(["Example Journal", "Journal of Examples"])),
            "year": 2020,
            "volume": str(draw(st.integers(1, 30))),
            "pages": f"{draw(st.integers(1, 9))}-{draw(st.integers(10, 20))}",
            "abstract": " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6))),
            "keywords": draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True)),
            "authors": [(["Rossi", "Tanaka"][number - 1], "Ana Maria"), *coauthors],
        }
        for ext in draw(st.lists(st.sampled_from(sorted(WRITERS)), min_size=1, max_size=4)):
            keep = set(draw(st.lists(st.sampled_from(["doi", "pmid", "abstract", "keywords"]))))
            files.append((f"p{number}-{len(files)}.{ext}", WRITERS[ext](paper, keep)))
    return files


@given(paper_files(), st.randoms(use_true_random=False))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_export_files_in_any_order_twice_store_the_best_of_each_field(
    files: list[tuple[str, str]], rnd: Any
) -> None:
    directory = Path(tempfile.mkdtemp(prefix="ep-merge-"))
    try:
        paths = []
        for name, text in files:
            path = directory / name
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        parsed = [record for path in paths for record in parse_path(path)]
        assert all(isinstance(record, ParsedRecord) for record in parsed)
        outcomes = []
        for _attempt in range(2):
            order = list(paths)
            rnd.shuffle(order)
            with transaction.atomic():
                for path in order:
                    import_path(path, topic=None)
                stored = rows()
                for path in order:
                    again = import_path(path, topic=None)
                    assert (again.new, again.updated) == (0, 0), path.name
                assert rows() == stored
                outcomes.append(stored)
                transaction.set_rollback(True)
        assert outcomes[0] == outcomes[1]
        by_paper = {(row["authors"][0]["last_name"], row["pmid"]): row for row in outcomes[0]}
        expected = _best(parsed)  # type: ignore[arg-type]
        assert set(by_paper) == set(expected)
        for key, want in expected.items():
            for name, value in want.items():
                assert by_paper[key][name] == value, (key, name)
    finally:
        shutil.rmtree(directory)
