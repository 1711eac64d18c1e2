"""Write a synthetic PubMed baseline-style XML file (deterministic for a seed).

Uses the element names and nesting of NLM's PubMed DTD (pubmed_250101.dtd) so that parsing cost
resembles a real baseline file: authors with affiliations, labelled abstracts, MeSH headings with
qualifiers, grants, chemicals, history dates, article IDs and reference lists. Records average
about 4 KB, like real baseline records.

    python bench/generate_medline.py --records 30000 --out bench/data/baseline-30000.xml
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

WORDS = [
    "angiosarcoma",
    "imiquimod",
    "topical",
    "cutaneous",
    "scalp",
    "lesion",
    "response",
    "treatment",
    "patient",
    "case",
    "report",
    "radiotherapy",
    "paclitaxel",
    "vascular",
    "tumour",
    "endothelial",
    "immune",
    "toll-like",
    "receptor",
    "interferon",
    "cytokine",
    "biopsy",
    "histology",
    "recurrence",
    "follow-up",
    "margin",
    "surgery",
    "elderly",
    "face",
    "breast",
    "lymphoedema",
    "nodular",
    "plaque",
    "erythema",
    "erosion",
    "crusting",
    "therapy",
    "combination",
    "outcome",
    "clinical",
    "series",
    "review",
    "cohort",
    "survival",
    "metastasis",
    "local",
    "control",
    "dermatology",
    "oncology",
]
LAST = (
    "Smith",
    "García",
    "Müller",
    "Nguyễn",
    "Kowalski",
    "Ødegård",
    "Rossi",
    "Tanaka",
    "O'Brien",
    "Dubois",
    "Çelik",
    "Silva",
    "Khan",
    "Lee",
    "Novák",
    "Andersson",
)
FIRST = (
    "Anna",
    "José",
    "Jürgen",
    "Thị",
    "Piotr",
    "Åse",
    "Giulia",
    "Hiroshi",
    "Seán",
    "Émilie",
    "Ayşe",
    "João",
    "Amir",
    "Min",
    "Jana",
    "Lars",
)
LABELS = ("BACKGROUND", "OBJECTIVE", "METHODS", "RESULTS", "CONCLUSIONS")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MESH = (
    "Hemangiosarcoma",
    "Imiquimod",
    "Skin Neoplasms",
    "Humans",
    "Aged",
    "Female",
    "Male",
    "Administration, Topical",
    "Antineoplastic Agents",
    "Scalp",
    "Treatment Outcome",
)
QUALIFIERS = ("drug therapy", "pathology", "therapeutic use", "administration & dosage")


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return escape(" ".join(words).capitalize()) + "."


def article(rng: random.Random, pmid: int) -> str:
    year = rng.randint(1990, 2025)
    title = sentence(rng, 6, 16)
    if rng.random() < 0.15:
        first, _, rest = title.partition(" ")
        title = f"<i>{first}</i> {rest}"
    if rng.random() < 0.05:
        title = title[:-1] + " CD31<sup>+</sup>."
    pub_date = (
        f"<MedlineDate>{year} {rng.choice(MONTHS)}-{rng.choice(MONTHS)}</MedlineDate>"
        if rng.random() < 0.1
        else f"<Year>{year}</Year><Month>{rng.choice(MONTHS)}</Month>"
    )
    authors = []
    for i in range(rng.randint(1, 12)):
        if i == 0 and rng.random() < 0.03:
            authors.append(
                '<Author ValidYN="Y"><CollectiveName>Illustrative Study Group'
                "</CollectiveName></Author>"
            )
            continue
        last, first = escape(rng.choice(LAST)), rng.choice(FIRST)
        affiliation = (
            f"<AffiliationInfo><Affiliation>Department of {rng.choice(WORDS).title()}, "
            f"Example University Hospital, City {rng.randint(1, 99)}, Country.</Affiliation>"
            "</AffiliationInfo>"
        )
        authors.append(
            f'<Author ValidYN="Y"><LastName>{last}</LastName><ForeName>{first}</ForeName>'
            f"<Initials>{first[0]}</Initials>{affiliation}</Author>"
        )
    abstract = "".join(
        f'<AbstractText Label="{label}" NlmCategory="{label}">{sentence(rng, 15, 40)} '
        f"{sentence(rng, 5, 15)}</AbstractText>"
        for label in LABELS[: rng.randint(1, 5)]
    )
    mesh = "".join(
        f'<MeshHeading><DescriptorName UI="D{rng.randint(10000, 99999):06d}" MajorTopicYN="N">'
        f"{escape(term)}</DescriptorName>"
        + (
            f'<QualifierName UI="Q{rng.randint(100, 999):06d}" MajorTopicYN="Y">'
            f"{escape(rng.choice(QUALIFIERS))}</QualifierName>"
            if rng.random() < 0.5
            else ""
        )
        + "</MeshHeading>"
        for term in rng.sample(MESH, rng.randint(3, 9))
    )
    doi = f"10.{rng.randint(1000, 9999)}/ex.{year}.{pmid}"
    grants = (
        '<GrantList CompleteYN="Y"><Grant><GrantID>R01 CA000001</GrantID><Agency>Example Agency'
        "</Agency><Country>United States</Country></Grant></GrantList>"
        if rng.random() < 0.2
        else ""
    )
    chemicals = (
        "<ChemicalList><Chemical><RegistryNumber>P1QW714R7M</RegistryNumber><NameOfSubstance "
        'UI="D000077271">Imiquimod</NameOfSubstance></Chemical></ChemicalList>'
        if rng.random() < 0.3
        else ""
    )
    keywords = (
        '<KeywordList Owner="NOTNLM">'
        + "".join(f'<Keyword MajorTopicYN="N">{w}</Keyword>' for w in rng.sample(WORDS, 4))
        + "</KeywordList>"
        if rng.random() < 0.4
        else ""
    )
    references = (
        "<ReferenceList>"
        + "".join(
            f"<Reference><Citation>{sentence(rng, 8, 14)} Example J. {rng.randint(1990, 2024)};"
            f"{rng.randint(1, 40)}:{rng.randint(1, 900)}.</Citation><ArticleIdList><ArticleId "
            f'IdType="pubmed">{rng.randint(1000000, 39999999)}</ArticleId></ArticleIdList>'
            "</Reference>"
            for _ in range(rng.randint(3, 12))
        )
        + "</ReferenceList>"
        if rng.random() < 0.3
        else ""
    )
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM" IndexingMethod="Automated">'
        f'<PMID Version="1">{pmid}</PMID>'
        f"<DateCompleted><Year>{year}</Year><Month>0{rng.randint(1, 9)}</Month>"
        f"<Day>1{rng.randint(0, 9)}</Day></DateCompleted>"
        f"<DateRevised><Year>{min(year + 1, 2025)}</Year><Month>0{rng.randint(1, 9)}</Month>"
        f"<Day>2{rng.randint(0, 8)}</Day></DateRevised>"
        '<Article PubModel="Print-Electronic"><Journal>'
        f'<ISSN IssnType="Electronic">{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}</ISSN>'
        f'<JournalIssue CitedMedium="Internet"><Volume>{rng.randint(1, 120)}</Volume>'
        f"<Issue>{rng.randint(1, 12)}</Issue><PubDate>{pub_date}</PubDate></JournalIssue>"
        f"<Title>Journal of {rng.choice(WORDS).title()} {rng.choice(WORDS).title()}</Title>"
        "<ISOAbbreviation>J Ex</ISOAbbreviation></Journal>"
        f"<ArticleTitle>{title}</ArticleTitle>"
        f"<Pagination><StartPage>{rng.randint(1, 500)}</StartPage><MedlinePgn>"
        f"{rng.randint(1, 500)}-{rng.randint(501, 900)}</MedlinePgn></Pagination>"
        f'<ELocationID EIdType="doi" ValidYN="Y">{doi}</ELocationID>'
        f"<Abstract>{abstract}<CopyrightInformation>© {year} Example Publisher."
        "</CopyrightInformation></Abstract>"
        f'<AuthorList CompleteYN="Y">{"".join(authors)}</AuthorList>'
        f"<Language>eng</Language>{grants}"
        '<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>'
        + (
            '<PublicationType UI="D002363">Case Reports</PublicationType>'
            if rng.random() < 0.3
            else ""
        )
        + "</PublicationTypeList>"
        f'<ArticleDate DateType="Electronic"><Year>{year}</Year><Month>01</Month><Day>15</Day>'
        "</ArticleDate></Article>"
        "<MedlineJournalInfo><Country>England</Country><MedlineTA>J Ex</MedlineTA>"
        f"<NlmUniqueID>{rng.randint(100000000, 999999999)}</NlmUniqueID><ISSNLinking>"
        f"{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}</ISSNLinking></MedlineJournalInfo>"
        f"{chemicals}<CitationSubset>IM</CitationSubset><MeshHeadingList>{mesh}</MeshHeadingList>"
        f"{keywords}</MedlineCitation>"
        "<PubmedData><History>"
        f'<PubMedPubDate PubStatus="received"><Year>{year}</Year><Month>1</Month><Day>2</Day>'
        "</PubMedPubDate>"
        f'<PubMedPubDate PubStatus="pubmed"><Year>{year}</Year><Month>3</Month><Day>4</Day>'
        "<Hour>6</Hour><Minute>0</Minute></PubMedPubDate>"
        "</History><PublicationStatus>ppublish</PublicationStatus><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId><ArticleId IdType="doi">{doi}</ArticleId>'
        + (
            f'<ArticleId IdType="pmc">PMC{pmid + 1000000}</ArticleId>'
            if rng.random() < 0.25
            else ""
        )
        + f"</ArticleIdList>{references}</PubmedData></PubmedArticle>\n"
    )


def records(count: int, seed: int, first_pmid: int) -> Iterator[str]:
    rng = random.Random(seed)
    for offset in range(count):
        yield article(rng, first_pmid + offset)


def write(path: Path, *, count: int, seed: int = 42, first_pmid: int | None = None) -> Path:
    """Stream `count` records to `path`; PMIDs are consecutive from first_pmid (seed-derived)."""
    start = first_pmid if first_pmid is not None else 10_000_000 + seed * 1_000_000
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(
            '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN"'
            ' "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
        )
        out.write("<PubmedArticleSet>\n")
        for chunk in records(count, seed, start):
            out.write(chunk)
        out.write("</PubmedArticleSet>\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=30_000, help="Number of records.")
    parser.add_argument("--out", type=Path, required=True, help="Output XML file.")
    parser.add_argument("--seed", type=int, default=42, help="Random seed (also sets PMIDs).")
    parser.add_argument("--first-pmid", type=int, default=None, help="PMID of the first record.")
    args = parser.parse_args()
    write(args.out, count=args.records, seed=args.seed, first_pmid=args.first_pmid)


if __name__ == "__main__":
    main()
