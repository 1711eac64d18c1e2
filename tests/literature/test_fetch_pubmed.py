"""`manage.py fetch_pubmed`: import, --max, per-batch failure, resume, no duplicates, no network."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command
from lxml import etree

from evidencepress.evidence.models import Publication, Topic
from evidencepress.literature.management.commands.fetch_pubmed import Command
from evidencepress.literature.models import ImportBatch, PubmedFetch

from .eutils_fake import RECORDED, FakeClock, FakeNcbi, Seen, xml

pytestmark = pytest.mark.django_db
QUERY = "imiquimod AND angiosarcoma"
ALL_PMIDS = {"99000101", "99000102", "99000103", "99000104", "99000105"}


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(
        name="Imiquimod for angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Angiosarcoma",
    )


def fetch(fake: FakeNcbi, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    command = Command(transport=fake.transport(), clock=fake.clock)
    call_command(
        command, QUERY, "--topic", "imiquimod-angiosarcoma", "--batch-size", "2",
        "--no-progress", *args, stdout=out, stderr=err,
    )  # fmt: skip
    return out.getvalue(), err.getvalue()


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1]


def stored_pmids() -> set[str]:
    return set(Publication.objects.values_list("pmid", flat=True))


def test_fetches_every_batch_and_prints_the_counts(topic: Topic) -> None:
    fake = FakeNcbi(FakeClock())
    out, _ = fetch(fake)
    assert "PubMed found 5 records." in out
    assert last_line(out) == "new 5, updated 0, duplicates 0, rejected 0"
    assert [s.params["retstart"] for s in fake.efetches()] == ["0", "2", "4"]
    assert set(topic.publications.values_list("pmid", flat=True)) == ALL_PMIDS
    # Each batch is its own import batch, recorded as a PubMed query.
    batches = ImportBatch.objects.filter(kind=ImportBatch.Kind.PUBMED)
    assert sorted(b.new_count for b in batches) == [1, 2, 2]
    assert all(QUERY in b.source for b in batches)
    second = Publication.objects.get(pmid="99000102")
    assert (second.year, second.doi, second.authors[0]["last_name"]) == (
        2020,
        "10.5555/crio.2020.33",
        "Nguyễn",
    )
    assert PubmedFetch.objects.get().completed_at is not None


def test_running_the_query_again_changes_nothing(topic: Topic) -> None:
    fetch(FakeNcbi(FakeClock()))
    before = list(Publication.objects.order_by("pk").values())
    out, _ = fetch(FakeNcbi(FakeClock()))
    assert last_line(out) == "new 0, updated 0, duplicates 5, rejected 0"
    assert list(Publication.objects.order_by("pk").values()) == before


def test_max_limits_the_records_fetched(topic: Topic) -> None:
    fake = FakeNcbi(FakeClock(), override=lambda seen: _first_records(seen, 3))
    out, _ = fetch(fake, "--max", "3")
    assert last_line(out) == "new 3, updated 0, duplicates 0, rejected 0"
    assert [(s.params["retstart"], s.params["retmax"]) for s in fake.efetches()] == [
        ("0", "2"),
        ("2", "1"),
    ]
    assert stored_pmids() == {"99000101", "99000102", "99000103"}


def _first_records(seen: Seen, keep: int) -> httpx.Response | None:
    """efetch with retmax honoured: the recorded batch cut down to the records asked for."""
    if seen.utility != "efetch.fcgi":
        return None
    answer = xml({"0": "efetch-batch1.xml", "2": "efetch-batch2.xml"}[seen.params["retstart"]])
    root = etree.fromstring(answer.content)
    for extra in root[int(seen.params["retmax"]) :]:
        root.remove(extra)
    return httpx.Response(200, content=etree.tostring(root, xml_declaration=True))


def _broken_second_batch(seen: Seen) -> httpx.Response | None:
    if seen.utility == "efetch.fcgi" and seen.params["retstart"] == "2":
        return httpx.Response(503)
    return None


def test_a_failed_batch_is_rolled_back_and_a_rerun_fetches_only_the_missing_ones(
    topic: Topic,
) -> None:
    failing = FakeNcbi(FakeClock(), override=_broken_second_batch)
    with pytest.raises(CommandError) as caught:
        fetch(failing)
    message = str(caught.value)
    assert "batch 2 of 3 (records 3-4) failed" in message
    assert "efetch failed after 6 attempts" in message
    assert "1 of 3 batches are imported" in message and "Run the same command again" in message
    assert stored_pmids() == {"99000101", "99000102"}
    assert [s.params["retstart"] for s in failing.efetches()] == ["0"] + ["2"] * 6

    healthy = FakeNcbi(FakeClock())
    out, _ = fetch(healthy)
    assert "Resuming an interrupted fetch: 1 of 3 batches are already imported." in out
    assert healthy.esearches() == []  # the history session of the first run is reused
    assert [s.params["retstart"] for s in healthy.efetches()] == ["2", "4"]
    assert {s.params["WebEnv"] for s in healthy.efetches()} == {"MCID_6650c1d2e5f4a3b2c1d0e9f8"}
    assert last_line(out) == "new 3, updated 0, duplicates 0, rejected 0"
    assert stored_pmids() == ALL_PMIDS


def test_a_truncated_batch_leaves_no_partial_rows(topic: Topic) -> None:
    cut = (RECORDED / "efetch-batch2.xml").read_bytes()[:3000]
    fake = FakeNcbi(
        FakeClock(),
        override=lambda seen: (
            httpx.Response(200, content=cut)
            if seen.utility == "efetch.fcgi" and seen.params["retstart"] == "2"
            else None
        ),
    )
    with pytest.raises(CommandError, match=r"records 3-4\) failed: .*malformed or truncated"):
        fetch(fake)
    # Record 3 of the cut batch was complete, but its batch is all or nothing.
    assert stored_pmids() == {"99000101", "99000102"}
    assert ImportBatch.objects.count() == 1
    assert PubmedFetch.objects.get().done_batches == [0]


def test_an_expired_history_session_is_replaced_on_resume(topic: Topic) -> None:
    with pytest.raises(CommandError):
        fetch(FakeNcbi(FakeClock(), override=_broken_second_batch))

    def expire_old_session(seen: Seen) -> httpx.Response | None:
        if seen.utility == "efetch.fcgi" and seen.params["WebEnv"].startswith("MCID_6650"):
            return xml("efetch-history-expired.xml")
        return None

    fake = FakeNcbi(
        FakeClock(), override=expire_old_session, esearch_file="esearch-new-session.json"
    )
    out, _ = fetch(fake)
    assert len(fake.esearches()) == 1
    # Same result count in the new session: only the missing batches are fetched again.
    assert [(s.params["WebEnv"][:9], s.params["retstart"]) for s in fake.efetches()] == [
        ("MCID_6650", "2"),
        ("MCID_7761", "2"),
        ("MCID_7761", "4"),
    ]
    assert last_line(out) == "new 3, updated 0, duplicates 0, rejected 0"
    assert stored_pmids() == ALL_PMIDS


def test_restart_ignores_an_unfinished_fetch(topic: Topic) -> None:
    with pytest.raises(CommandError):
        fetch(FakeNcbi(FakeClock(), override=_broken_second_batch))
    fake = FakeNcbi(FakeClock())
    out, _ = fetch(fake, "--restart")
    assert len(fake.esearches()) == 1
    assert [s.params["retstart"] for s in fake.efetches()] == ["0", "2", "4"]
    assert last_line(out) == "new 3, updated 0, duplicates 2, rejected 0"
    assert PubmedFetch.objects.count() == 1


def test_the_same_records_from_a_file_and_from_pubmed_are_not_duplicated(
    topic: Topic, tmp_path: Path
) -> None:
    # The records as a downloaded file would hold them: one set, formatted differently.
    merged = etree.Element("PubmedArticleSet")
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    for name in ("efetch-batch1.xml", "efetch-batch2.xml", "efetch-batch3.xml"):
        merged.extend(etree.parse(str(RECORDED / name), parser).getroot())
    path = tmp_path / "pubmed-download.xml"
    path.write_bytes(etree.tostring(merged, xml_declaration=True, encoding="UTF-8"))
    call_command(
        "import_literature", str(path), "--topic", topic.slug, "--no-progress",
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    before = list(Publication.objects.order_by("pk").values())

    out, _ = fetch(FakeNcbi(FakeClock()))
    assert last_line(out) == "new 0, updated 0, duplicates 5, rejected 0"
    assert Publication.objects.count() == 5
    assert list(Publication.objects.order_by("pk").values()) == before


def test_a_bad_record_fails_its_batch_unless_skip_bad(topic: Topic) -> None:
    untitled = (RECORDED / "efetch-batch3.xml").read_bytes()
    untitled = untitled.replace(
        b"<ArticleTitle>Angiosarcoma of the breast treated with imiquimod: a case report."
        b"</ArticleTitle>",
        b"<ArticleTitle></ArticleTitle>",
    )

    def answer(seen: Seen) -> httpx.Response | None:
        if seen.utility == "efetch.fcgi" and seen.params["retstart"] == "4":
            return httpx.Response(200, content=untitled)
        return None

    with pytest.raises(CommandError, match=r"record 1 \(99000105\): record has no title"):
        fetch(FakeNcbi(FakeClock(), override=answer))
    assert len(stored_pmids()) == 4
    out, err = fetch(FakeNcbi(FakeClock(), override=answer), "--skip-bad")
    assert last_line(out) == "new 0, updated 0, duplicates 0, rejected 1"
    assert "records 5-5: record 1 (99000105): record has no title" in err
    assert PubmedFetch.objects.filter(completed_at__isnull=False).count() == 1


def test_missing_contact_address_stops_before_any_request(topic: Topic, settings: Any) -> None:
    settings.NCBI_EUTILS = {**settings.NCBI_EUTILS, "EMAIL": ""}
    fake = FakeNcbi(FakeClock())
    with pytest.raises(CommandError, match="NCBI_EMAIL"):
        fetch(fake)
    assert fake.seen == []


def test_the_api_key_from_settings_is_sent_and_raises_the_rate(topic: Topic, settings: Any) -> None:
    settings.NCBI_EUTILS = {**settings.NCBI_EUTILS, "API_KEY": "k3y-for-tests"}
    fake = FakeNcbi(FakeClock())
    fetch(fake)
    assert {s.params["api_key"] for s in fake.seen} == {"k3y-for-tests"}
    assert {(s.params["tool"], s.params["email"]) for s in fake.seen} == {
        ("evidencepress-tests", "tests@example.org")
    }
    gaps = [b.at - a.at for a, b in zip(fake.seen, fake.seen[1:], strict=False)]
    assert min(gaps) == pytest.approx(0.1)


def test_a_fetch_opens_no_network_connection(topic: Topic, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    out, _ = fetch(FakeNcbi(FakeClock()))
    assert last_line(out) == "new 5, updated 0, duplicates 0, rejected 0"
    assert attempts == []
