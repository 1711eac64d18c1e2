"""The E-utilities client: identification, rate limit, backoff, give-up, history (E5).

Every test runs against httpx.MockTransport with recorded responses and a fake clock.
"""

from __future__ import annotations

import time

import httpx
import pytest

from evidencepress.literature.eutils import (
    Batch,
    EutilsClient,
    EutilsConfig,
    EutilsError,
    HistoryExpired,
    SystemClock,
    plan_batches,
)

from .eutils_fake import FakeClock, FakeNcbi, json_response, xml

BASE = "https://eutils.test.invalid/entrez/eutils/"


def config(api_key: str = "", **overrides: object) -> EutilsConfig:
    return EutilsConfig(
        tool="evidencepress-tests",
        email="tests@example.org",
        api_key=api_key,
        base_url=BASE,
        **overrides,  # type: ignore[arg-type]
    )


def client_for(fake: FakeNcbi, api_key: str = "", **overrides: object) -> EutilsClient:
    return EutilsClient(config(api_key, **overrides), transport=fake.transport(), clock=fake.clock)


def most_in_any_second(times: list[float]) -> int:
    """The largest number of request starts inside any half-open one-second window."""
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


def fetch_everything(client: EutilsClient) -> None:
    search = client.esearch("imiquimod AND angiosarcoma")
    for batch in plan_batches(search.count, batch_size=2):
        client.efetch(search, batch)


@pytest.mark.parametrize("api_key", ["", "k3y-for-tests"])
def test_every_request_carries_tool_email_and_the_key_when_set(api_key: str) -> None:
    fake = FakeNcbi(FakeClock(), script=[httpx.Response(503), httpx.ConnectError("refused")])
    with client_for(fake, api_key) as client:
        fetch_everything(client)
    assert len(fake.seen) == 6  # two failed attempts, esearch, three efetch batches
    for seen in fake.seen:
        assert seen.params["tool"] == "evidencepress-tests"
        assert seen.params["email"] == "tests@example.org"
        assert seen.params.get("api_key") == (api_key or None)


def test_the_search_uses_the_history_server_and_efetch_reads_from_it() -> None:
    fake = FakeNcbi(FakeClock())
    with client_for(fake) as client:
        search = client.esearch("imiquimod AND angiosarcoma")
        body = client.efetch(search, Batch(index=1, retstart=2, retmax=2))
    assert (search.count, search.query_key) == (5, "1")
    assert search.webenv == "MCID_6650c1d2e5f4a3b2c1d0e9f8"
    assert "hemangiosarcoma" in search.query_translation
    sent = fake.esearches()[0].params
    assert (sent["db"], sent["usehistory"], sent["term"]) == (
        "pubmed",
        "y",
        "imiquimod AND angiosarcoma",
    )
    fetched = fake.efetches()[0].params
    assert fetched["WebEnv"] == search.webenv and fetched["query_key"] == "1"
    assert (fetched["retstart"], fetched["retmax"], fetched["retmode"]) == ("2", "2", "xml")
    assert b"99000103" in body and b"99000104" in body


@pytest.mark.parametrize(("api_key", "limit"), [("", 3), ("k3y-for-tests", 10)])
def test_100_queued_requests_stay_within_the_rate_limit(api_key: str, limit: int) -> None:
    fake = FakeNcbi(FakeClock(), override=lambda seen: httpx.Response(200, content=b"{}"))
    with client_for(fake, api_key) as client:
        for _ in range(100):
            client.request("einfo.fcgi", {"db": "pubmed"})
    times = [seen.at for seen in fake.seen]
    assert len(times) == 100
    assert most_in_any_second(times) <= limit
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= limit
    # ...and the limiter does not waste the allowance either.
    assert rate >= limit * 0.95


def test_retries_on_429_and_503_then_succeeds_honouring_retry_after() -> None:
    clock = FakeClock()
    fake = FakeNcbi(
        clock,
        script=[
            json_response("too-many-requests.json", status=429),
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503),
        ],
    )
    with client_for(fake) as client:
        search = client.esearch("imiquimod")
    assert search.count == 5
    assert len(fake.seen) == 4
    # Backoff 1 s, then Retry-After's 7 s (longer than the 2 s backoff), then 4 s.
    waits = [b.at - a.at for a, b in zip(fake.seen, fake.seen[1:], strict=False)]
    assert waits == pytest.approx([1.0, 7.0, 4.0])


def test_network_errors_are_retried_too() -> None:
    fake = FakeNcbi(FakeClock(), script=[httpx.ReadTimeout("slow"), httpx.ConnectError("no route")])
    with client_for(fake) as client:
        assert client.esearch("imiquimod").count == 5
    assert len(fake.seen) == 3


def test_gives_up_with_a_clear_error_after_the_last_retry() -> None:
    clock = FakeClock()
    fake = FakeNcbi(clock, override=lambda seen: httpx.Response(503))
    with client_for(fake, max_retries=4) as client, pytest.raises(EutilsError) as caught:
        client.esearch("imiquimod")
    assert len(fake.seen) == 5
    assert clock.sleeps[-4:] == [1.0, 2.0, 4.0, 8.0]
    message = str(caught.value)
    assert "esearch failed after 5 attempts" in message
    assert "HTTP 503" in message and "try again later" in message


def test_a_refused_request_is_not_retried() -> None:
    fake = FakeNcbi(FakeClock(), override=lambda seen: httpx.Response(400, text="bad db"))
    with client_for(fake) as client, pytest.raises(EutilsError, match=r"refused.*400.*bad db"):
        client.esearch("imiquimod")
    assert len(fake.seen) == 1


def test_an_esearch_error_in_a_200_answer_is_reported() -> None:
    fake = FakeNcbi(FakeClock(), esearch_file="esearch-error.json")
    with client_for(fake) as client, pytest.raises(EutilsError, match="unbalanced parentheses"):
        client.esearch("(imiquimod")


def test_an_expired_history_session_is_recognised() -> None:
    fake = FakeNcbi(
        FakeClock(),
        override=lambda seen: (
            xml("efetch-history-expired.xml") if seen.utility == "efetch.fcgi" else None
        ),
    )
    with client_for(fake) as client:
        search = client.esearch("imiquimod")
        with pytest.raises(HistoryExpired, match="Unable to obtain query #1"):
            client.efetch(search, Batch(0, 0, 2))


def test_settings_without_a_contact_address_are_refused() -> None:
    with pytest.raises(EutilsError, match="NCBI_EMAIL"):
        EutilsConfig.from_mapping({"TOOL": "evidencepress", "EMAIL": ""})


def test_batches_respect_max_and_pubmeds_10000_record_ceiling() -> None:
    assert plan_batches(5, batch_size=2) == [Batch(0, 0, 2), Batch(1, 2, 2), Batch(2, 4, 1)]
    assert plan_batches(5, batch_size=2, max_records=3) == [Batch(0, 0, 2), Batch(1, 2, 1)]
    assert plan_batches(0, batch_size=500) == []
    huge = plan_batches(250_000, batch_size=500)
    assert len(huge) == 20 and huge[-1].retstart + huge[-1].retmax == 10_000


def test_the_real_clock_really_waits() -> None:
    fake = FakeNcbi(FakeClock(), override=lambda seen: httpx.Response(200, content=b"{}"))
    client = EutilsClient(config(), transport=fake.transport(), clock=SystemClock())
    started = time.monotonic()
    with client:
        for _ in range(4):
            client.request("einfo.fcgi", {})
    assert time.monotonic() - started >= 0.99  # the fourth request waited for a free second
