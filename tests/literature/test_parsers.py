"""The literature readers: what real files contain, and bad input that must fail clearly."""

from __future__ import annotations

import gzip
import hashlib
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from evidencepress.literature.parsers import detect_format, medline_xml, open_source, parse_path
from evidencepress.literature.records import (
    Author,
    DeletedCitations,
    LiteratureParseError,
    ParsedRecord,
    RecordError,
    UnchangedRecord,
    normalise_doi,
    normalise_pmid,
    normalise_title,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'


def article(pmid: str, title: str = "A title.", extra: str = "") -> bytes:
    return (
        f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID>"
        "<DateRevised><Year>2021</Year><Month>01</Month><Day>02</Day></DateRevised>"
        f"<Article><Journal><JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue>"
        f"<Title>J</Title></Journal><ArticleTitle>{title}</ArticleTitle>{extra}</Article>"
        "</MedlineCitation><PubmedData><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList></PubmedData>'
        "</PubmedArticle>\n"
    ).encode()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def items(path: Path) -> list[object]:
    return list(parse_path(path))


# --- MEDLINE XML: what real files contain --------------------------------------------------


def test_medline_xml_reads_every_feature_of_the_sample() -> None:
    first, second, book, deleted = items(FIXTURES / "medline" / "sample.xml")
    assert isinstance(first, ParsedRecord)
    assert first.pmid == "31000001"
    # Inline markup is flattened into the text, not dropped.
    assert first.title == "Topical imiquimod for CD31+ lesions: a case report."
    assert first.year == 2019  # from <MedlineDate>2019 Jan-Feb</MedlineDate>
    assert first.doi == "10.1000/jid.2019.0001"  # from ELocationID, normalised
    assert first.pmcid == "PMC7000001"
    assert first.journal == "Journal of Illustrative Dermatology"
    assert (first.volume, first.issue, first.pages) == ("12", "3", "101-105")
    assert first.authors == (
        Author(last_name="Ødegård", fore_name="Åse", initials="Å"),
        Author(last_name="Nguyễn", fore_name="Thị", initials="T"),
        Author(collective_name="Illustrative Sarcoma Study Group"),
    )
    assert first.abstract == "BACKGROUND: Angiosarcoma is rare.\n\nCASE: We describe one patient."
    assert first.publication_types == ("Case Reports", "Retracted Publication")
    assert first.retracted is True
    assert first.mesh_terms == ("Hemangiosarcoma", "Imiquimod")
    assert first.keywords == ("topical immunotherapy",)
    assert first.date_revised == date(2021, 3, 15)

    assert isinstance(second, ParsedRecord)
    assert second.doi == "10.1000/cre.2020.44"  # only in ArticleIdList
    assert second.year == 2020
    assert second.retracted is False

    assert isinstance(book, ParsedRecord)
    assert book.is_book and book.pmid == "31000003"
    assert book.title == "Cutaneous angiosarcoma"
    assert book.journal == "Illustrative Handbook of Vascular Tumours"

    assert deleted == DeletedCitations(position=4, pmids=("29000001", "29000002"))


def test_gzipped_medline_is_read_like_the_plain_file(tmp_path: Path) -> None:
    plain = (FIXTURES / "medline" / "sample.xml").read_bytes()
    packed = write(tmp_path, "update.xml.gz", gzip.compress(plain))
    assert items(packed) == items(FIXTURES / "medline" / "sample.xml")


def test_format_is_detected_from_content_not_the_file_name(tmp_path: Path) -> None:
    misnamed = write(tmp_path, "export.txt", (FIXTURES / "ris" / "sample.ris").read_bytes())
    stream, fmt = open_source(misnamed)
    stream.close()
    assert fmt == "ris"
    for folder, name, expected in (
        ("medline", "sample.xml", "medline_xml"),
        ("nbib", "sample.nbib", "nbib"),
        ("bibtex", "sample.bib", "bibtex"),
    ):
        renamed = write(tmp_path, f"data-{expected}.dat", (FIXTURES / folder / name).read_bytes())
        stream, fmt = open_source(renamed)
        stream.close()
        assert fmt == expected


def test_a_record_without_pmid_or_title_is_a_record_error(tmp_path: Path) -> None:
    data = HEAD + article("") + article("123", title="") + article("124") + b"</PubmedArticleSet>"
    found = items(write(tmp_path, "bad.xml", data))
    assert isinstance(found[0], RecordError) and "no PMID" in found[0].message
    assert isinstance(found[1], RecordError) and found[1].identifier == "123"
    assert "no title" in found[1].message
    assert isinstance(found[2], ParsedRecord) and found[2].pmid == "124"


def test_known_records_are_skipped_without_extraction(tmp_path: Path) -> None:
    path = write(tmp_path, "two.xml", HEAD + article("5") + article("6") + b"</PubmedArticleSet>")
    with path.open("rb") as stream:
        first = list(medline_xml.parse(stream, source="two.xml", known=lambda pairs: set()))
    prints = {r.pmid: r.fingerprint for r in first if isinstance(r, ParsedRecord)}
    assert all(
        len(p) == 34 and p.startswith(medline_xml.FINGERPRINT_PREFIX) for p in prints.values()
    )
    assert prints["5"] != prints["6"]

    asked: list[list[tuple[str, str]]] = []

    def known(pairs: object) -> set[tuple[str, str]]:
        asked.append(list(pairs))  # type: ignore[call-overload]
        return {("5", prints["5"])}

    with path.open("rb") as stream:
        second = list(medline_xml.parse(stream, source="two.xml", known=known))
    assert second[0] == UnchangedRecord(position=1, pmid="5")
    assert isinstance(second[1], ParsedRecord) and second[1].pmid == "6"
    assert asked == [[("5", prints["5"]), ("6", prints["6"])]]  # one question per chunk


def test_a_changed_record_gets_a_new_fingerprint(tmp_path: Path) -> None:
    def fingerprint_of(data: bytes) -> str:
        path = write(tmp_path, "one.xml", HEAD + data + b"</PubmedArticleSet>")
        with path.open("rb") as stream:
            (record,) = medline_xml.parse(stream, source="one.xml", known=lambda pairs: set())
        assert isinstance(record, ParsedRecord)
        return record.fingerprint

    assert fingerprint_of(article("7")) == fingerprint_of(article("7"))
    assert fingerprint_of(article("7")) != fingerprint_of(article("7", title="A new title."))


# --- MEDLINE XML: bad input -----------------------------------------------------------------


def test_truncated_xml_names_the_file_and_the_record(tmp_path: Path) -> None:
    data = HEAD + article("1") + article("2")[:80]
    with pytest.raises(LiteratureParseError) as caught:
        items(write(tmp_path, "cut.xml", data))
    message = str(caught.value)
    assert message.startswith("cut.xml (record 2): the XML is malformed or truncated")


def test_malformed_xml_is_rejected(tmp_path: Path) -> None:
    data = HEAD + b"<PubmedArticle><MedlineCitation></PubmedArticle></PubmedArticleSet>"
    with pytest.raises(LiteratureParseError, match="malformed"):
        items(write(tmp_path, "broken.xml", data))


def test_truncated_gzip_is_rejected(tmp_path: Path) -> None:
    packed = gzip.compress((FIXTURES / "medline" / "sample.xml").read_bytes())
    path = write(tmp_path, "cut.xml.gz", packed[: len(packed) // 2])
    with pytest.raises(LiteratureParseError) as caught:
        items(path)
    assert "cut.xml.gz" in str(caught.value)


def test_bytes_invalid_in_the_declared_encoding_are_rejected(tmp_path: Path) -> None:
    data = HEAD + article("1", title="Caf\xe9".encode("latin-1").decode("latin-1"))
    bad = data.replace("Café".encode(), b"Caf\xe9") + b"</PubmedArticleSet>"
    with pytest.raises(LiteratureParseError, match=r"bad\.xml"):
        items(write(tmp_path, "bad.xml", bad))


def test_a_declared_latin1_file_is_decoded(tmp_path: Path) -> None:
    data = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<PubmedArticleSet>'
        + article("1", title="Caf\xe9 au lait spots.").decode().encode("latin-1")
        + b"</PubmedArticleSet>"
    )
    (record,) = items(write(tmp_path, "latin.xml", data))
    assert isinstance(record, ParsedRecord) and record.title == "Café au lait spots."


def test_external_entities_are_never_resolved(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", b"TOP-SECRET")
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file://'
        + str(secret).encode()
        + b'">]>\n<PubmedArticleSet>'
        + article("1", title="Leak &xxe; here.")
        + b"</PubmedArticleSet>"
    )
    found = items(write(tmp_path, "xxe.xml", data))
    assert all("TOP-SECRET" not in repr(item) for item in found)


def test_entity_expansion_bombs_are_not_expanded(tmp_path: Path) -> None:
    levels = ['<!ENTITY a0 "lol">'] + [
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    ]
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet ['
        + "".join(levels).encode()
        + b"]>\n<PubmedArticleSet>"
        + article("1", title="&a9;")
        + b"</PubmedArticleSet>"
    )
    try:
        found = items(write(tmp_path, "bomb.xml", data))
    except LiteratureParseError:
        return  # refusing the file is as good as not expanding it
    assert all(len(repr(item)) < 10_000 for item in found)


def test_a_file_that_is_not_pubmed_xml_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(LiteratureParseError, match="not PubMed XML"):
        items(write(tmp_path, "feed.xml", b"<?xml version='1.0'?><rss><channel/></rss>"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"Just some notes about imiquimod.\n", "unknown format"),
    ],
)
def test_unknown_formats_are_rejected(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(LiteratureParseError, match=message):
        items(write(tmp_path, "mystery.dat", data))


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LiteratureParseError, match="cannot be opened"):
        items(tmp_path / "nowhere.xml")


def test_the_size_limit_is_enforced(tmp_path: Path) -> None:
    path = FIXTURES / "medline" / "sample.xml"
    with pytest.raises(LiteratureParseError, match=r"sample\.xml"):
        list(parse_path(path, max_bytes=1000))


# --- nbib, RIS, BibTeX -----------------------------------------------------------------------


def test_nbib_reads_tags_continuations_and_collective_authors() -> None:
    first, second, third = items(FIXTURES / "nbib" / "sample.nbib")
    assert isinstance(first, ParsedRecord)
    assert first.title == (
        "Imiquimod cream for a radiation-associated vascular lesion of the breast: "
        "an illustrative report."
    )
    assert first.doi == "10.1000/example.nbib.1" and first.pmcid == "PMC8000011"
    assert first.year == 2020
    assert first.authors[0] == Author(last_name="Çelik", fore_name="Ayşe", initials="A")
    assert Author(collective_name="Example Cutaneous Oncology Network") in first.authors
    assert "Hemangiosarcoma" in first.mesh_terms[0]
    assert isinstance(second, ParsedRecord) and second.pmid == "31000012"
    assert isinstance(third, RecordError) and third.identifier == "31000013"


def test_ris_reads_identifiers_from_their_usual_places() -> None:
    first, second, third = items(FIXTURES / "ris" / "sample.ris")
    assert isinstance(first, ParsedRecord)
    assert first.doi == "10.1000/ex.ris.1"  # resolver prefix removed
    assert first.pmid == "31000021" and first.pages == "201-204"
    assert first.authors[0] == Author(last_name="Müller", fore_name="Jürgen", initials="J")
    assert isinstance(second, ParsedRecord) and second.pmid == "31000022"  # from "N1 - PMID:"
    assert second.year == 2019
    assert isinstance(third, RecordError)


def test_bibtex_decodes_latex_accents_and_braces() -> None:
    first, second, third = items(FIXTURES / "bibtex" / "sample.bib")
    assert isinstance(first, ParsedRecord)
    assert first.title == (
        "Imiquimod for a superficial angiosarcoma of the scalp: an illustrative entry"
    )
    assert first.authors[0].last_name == "Müller"
    assert first.authors[1].fore_name == "María"
    assert first.pages == "12-15" and first.pmid == "31000031"
    assert isinstance(second, RecordError) and second.identifier == "notitle2019"
    assert isinstance(third, ParsedRecord) and third.year == 2020


def test_text_formats_reject_invalid_utf8_naming_the_line(tmp_path: Path) -> None:
    data = (FIXTURES / "ris" / "sample.ris").read_bytes().replace(b"M\xc3\xbcller", b"M\xfcller")
    with pytest.raises(LiteratureParseError, match=r"line \d+ is not valid UTF-8"):
        items(write(tmp_path, "latin.ris", data))


# --- identifiers and detection, for any input -----------------------------------------------


@given(st.binary(max_size=400))
@settings(max_examples=300, deadline=None)
def test_detect_format_either_names_a_format_or_raises_a_clear_error(head: bytes) -> None:
    outcome: str
    try:
        outcome = detect_format(head, source="fuzz.dat")
    except LiteratureParseError as exc:
        outcome = str(exc)
    assert outcome in {"medline_xml", "nbib", "ris", "bibtex"} or outcome.startswith("fuzz.dat: ")


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_identifier_normalisers_never_crash_and_are_idempotent(text: str) -> None:
    doi = normalise_doi(text)
    assert doi is None or (doi == doi.lower() and normalise_doi(doi) == doi)
    pmid = normalise_pmid(text)
    assert pmid is None or (pmid.isdigit() and not pmid.startswith("0"))
    title = normalise_title(text)
    assert normalise_title(title) == title


def test_title_normalisation_folds_case_accents_and_punctuation() -> None:
    assert normalise_title("Imiquimod — for Angiosarcóma!") == "imiquimod for angiosarcoma"
    assert normalise_title("IMIQUIMOD for angiosarcoma.") == "imiquimod for angiosarcoma"


def test_parse_stream_on_bytes_in_memory() -> None:
    from evidencepress.literature.parsers import parse_stream

    data = HEAD + article("42") + b"</PubmedArticleSet>"
    (record,) = parse_stream(io.BytesIO(data), fmt="medline_xml", source="memory")
    assert isinstance(record, ParsedRecord) and record.pmid == "42"


def test_a_record_nested_outside_the_set_is_a_named_error_not_a_crash() -> None:
    # Found by the atheris fuzzer (security/fuzz/crashes/): a PubmedArticle nested inside
    # another element used to raise IndexError while the parser freed memory.
    data = (FIXTURES / "medline" / "fuzz-nested-record.xml").read_bytes()
    for known in (None, lambda pairs: set()):
        with pytest.raises(LiteratureParseError) as caught:
            list(medline_xml.parse(io.BytesIO(data), source="fuzzed.xml", known=known))
        assert "fuzzed.xml" in str(caught.value)


def test_an_absurd_revision_year_is_left_empty_not_a_crash(tmp_path: Path) -> None:
    # Found by the atheris fuzzer: a 30-digit year overflowed date() with OverflowError.
    data = HEAD + article("123").replace(b"<Year>2021</Year>", b"<Year>" + b"9" * 30 + b"</Year>")
    (record,) = items(write(tmp_path, "huge-year.xml", data + b"</PubmedArticleSet>\n"))
    assert record.pmid == "123"  # type: ignore[attr-defined]
    assert record.date_revised is None  # type: ignore[attr-defined]


def test_authors_marked_invalid_are_skipped_and_missing_parts_stay_empty(tmp_path: Path) -> None:
    author_list = (
        "<AuthorList>"
        '<Author ValidYN="Y"><LastName>Berg</LastName><ForeName>Ana</ForeName>'
        "<Initials>A</Initials><AffiliationInfo><Affiliation>Oslo</Affiliation>"
        "</AffiliationInfo></Author>"
        '<Author ValidYN="N"><LastName>Wrong</LastName><Initials>W</Initials></Author>'
        "<Author><LastName>Kato</LastName><Initials>K</Initials></Author>"
        "<Author><CollectiveName>The <i>Skin</i> Group</CollectiveName></Author>"
        "<Author><LastName>Lind</LastName></Author>"
        "</AuthorList>"
    )
    data = HEAD + article("8", extra=author_list) + b"</PubmedArticleSet>"
    (record,) = items(write(tmp_path, "authors.xml", data))
    assert record.authors == (  # type: ignore[attr-defined]
        Author(last_name="Berg", fore_name="Ana", initials="A"),
        Author(last_name="Kato", initials="K"),
        Author(collective_name="The Skin Group"),
        Author(last_name="Lind"),
    )


def test_known_records_are_asked_about_in_chunks_and_come_out_in_file_order(
    tmp_path: Path,
) -> None:
    count = medline_xml._CHUNK * 2 + 3  # two full chunks and a partial one
    body = b"".join(article(str(n), title=f"Title {n}.") for n in range(1, count + 1))
    path = write(tmp_path, "many.xml", HEAD + body + b"</PubmedArticleSet>")
    asked: list[list[tuple[str, str]]] = []

    def known(pairs: object) -> set[tuple[str, str]]:
        asked.append(list(pairs))  # type: ignore[call-overload]
        return {pair for pair in asked[-1] if int(pair[0]) % 2 == 0}  # even PMIDs are stored

    with path.open("rb") as stream:
        found = list(medline_xml.parse(stream, source="many.xml", known=known))
    assert [len(chunk) for chunk in asked] == [medline_xml._CHUNK, medline_xml._CHUNK, 3]
    assert [item.position for item in found] == list(range(1, count + 1))  # type: ignore[attr-defined]
    for number, item in enumerate(found, start=1):
        if number % 2 == 0:
            assert item == UnchangedRecord(position=number, pmid=str(number))
        else:
            assert isinstance(item, ParsedRecord) and item.title == f"Title {number}."
    # Each fingerprint asked about is the record's own.
    with path.open("rb") as stream:
        plain = {
            r.pmid: r.fingerprint
            for r in medline_xml.parse(stream, source="many.xml", known=lambda pairs: set())
            if isinstance(r, ParsedRecord)
        }
    assert dict(pair for chunk in asked for pair in chunk) == plain


def _fingerprints(path: Path) -> dict[str, str]:
    with path.open("rb") as stream:
        return {
            r.pmid: r.fingerprint
            for r in medline_xml.parse(stream, source=path.name, known=lambda pairs: set())
            if isinstance(r, ParsedRecord) and r.pmid
        }


def test_a_fingerprint_is_a_digest_of_the_record_exactly_as_the_file_wrote_it(
    tmp_path: Path,
) -> None:
    record = article("8", title="Raw &amp; exact.").rstrip(b"\n")
    prints = _fingerprints(write(tmp_path, "raw.xml", HEAD + record + b"</PubmedArticleSet>"))
    digest = hashlib.sha256(medline_xml.PARSER_VERSION + b" raw" + record).hexdigest()[:32]
    expected = medline_xml.FINGERPRINT_PREFIX + digest
    assert prints == {"8": expected}


def _raw(record: bytes) -> str:
    digest = hashlib.sha256(medline_xml.PARSER_VERSION + b" raw" + record).hexdigest()[:32]
    return medline_xml.FINGERPRINT_PREFIX + digest


def _trees(path: Path) -> dict[str, str]:
    """Fingerprints from each record's parsed tree, parsed as the reader parses (no comments)."""
    trees = {}
    with path.open("rb") as stream:
        for _event, element in etree.iterparse(stream, tag="PubmedArticle", remove_comments=True):
            trees[element.findtext("MedlineCitation/PMID")] = medline_xml.fingerprint(element)
    return trees


def test_tags_hidden_in_comments_never_give_a_record_another_records_fingerprint(
    tmp_path: Path,
) -> None:
    """A byte search could be misled by a tag inside a comment, CDATA or a processing
    instruction. From the first of those inside the record set, records are fingerprinted from
    their parsed tree instead; every record keeps a digest of its own."""
    body = (
        article("1")
        + article("2").replace(b"</PubmedArticle>", b"</PubmedArticle >")  # still found
        + article("3")
        + b"<!-- <PubmedArticle> -->\n"
        + article("4").replace(b"</Article>", b"<!-- </PubmedArticle> --></Article>")
        + article("5")
        + article("6", title="<![CDATA[</PubmedArticle>]]>")
        + b"<?note </PubmedArticle><PubmedArticle> ?>\n"
        + article("7")
    )
    path = write(tmp_path, "tricky.xml", HEAD + body + b"</PubmedArticleSet>")
    tricky, trees = _fingerprints(path), _trees(path)
    assert sorted(tricky) == ["1", "2", "3", "4", "5", "6", "7"]
    assert len(set(tricky.values())) == 7
    # Before the first comment: each record's own bytes (an end tag with a space included).
    assert tricky["1"] == _raw(article("1").rstrip(b"\n"))
    assert tricky["2"] == _raw(article("2").replace(b"</PubmedArticle>", b"</PubmedArticle >")[:-1])
    assert tricky["3"] == _raw(article("3").rstrip(b"\n"))
    # From it on: the parsed tree.
    assert all(tricky[pmid] == trees[pmid] for pmid in ("4", "5", "6", "7"))


def test_a_tag_hidden_before_the_record_set_costs_only_the_first_record(tmp_path: Path) -> None:
    head = (
        b'<?xml version="1.0"?>\n<!-- <PubmedArticle> -->\n'
        b'<!DOCTYPE PubmedArticleSet [ <!ENTITY fake "<PubmedArticle>"> ]>\n<PubmedArticleSet>\n'
    )
    path = write(
        tmp_path, "prolog.xml", head + article("1") + article("2") + b"</PubmedArticleSet>"
    )
    prints = _fingerprints(path)
    assert prints["1"] == _trees(path)["1"]  # its byte range began at a fake start: not used
    assert prints["2"] == _raw(article("2").rstrip(b"\n"))
