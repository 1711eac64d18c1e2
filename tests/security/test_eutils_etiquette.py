"""E5: NCBI E-utilities etiquette under trouble, measured over one run of 100 requests.

tests/literature/test_eutils.py checks each rule on its own (identification, the 3/10 per
second limit with a clean server, backoff and Retry-After, giving up), and
tests/literature/test_fetch_pubmed.py checks resume from the checkpoint and that a fetch opens
no socket. Here the plan's scenario runs as one: 100 queued requests against the recorded fake
while it answers 429 and 5xx now and then, on a fake clock (so the test takes milliseconds, not
33 s), with every way out to the network refused. The figures are measured over every attempt,
retries included.
"""

from __future__ import annotations

import socket

import httpx
import pytest

from evidencepress.literature.eutils import EutilsClient, EutilsConfig, RateLimiter

from ..literature.eutils_fake import FakeClock, FakeNcbi, Seen

QUEUED = 100
TROUBLE = {7: 429, 19: 503, 20: 502, 43: 429, 44: 429, 71: 500, 88: 504}  # attempt no. -> status


def _troubled_server(clock: FakeClock) -> FakeNcbi:
    attempts = {"n": 0}

    def answer(seen: Seen) -> httpx.Response:
        attempts["n"] += 1
        status = TROUBLE.get(attempts["n"])
        if status is not None:
            return httpx.Response(status, headers={"Retry-After": "2"} if status == 429 else {})
        return httpx.Response(200, content=b"{}")

    return FakeNcbi(clock, override=answer)


def _most_in_any_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse (and count) every attempt to resolve a name or open a socket."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.mark.parametrize(("api_key", "limit"), [("", 3), ("k3y-for-tests", 10)])
def test_100_requests_through_429s_and_5xxs_keep_the_etiquette(
    api_key: str, limit: int, no_network: list[object]
) -> None:
    clock = FakeClock()
    fake = _troubled_server(clock)
    config = EutilsConfig(
        tool="evidencepress-tests",
        email="tests@example.org",
        api_key=api_key,
        base_url="https://eutils.test.invalid/entrez/eutils/",
    )
    with EutilsClient(config, transport=fake.transport(), clock=clock) as client:
        for n in range(QUEUED):
            client.request("esummary.fcgi", {"db": "pubmed", "id": str(99000100 + n)})

    seen = fake.seen
    times = [s.at for s in seen]
    answered = len(seen) - len(TROUBLE)
    identified = sum(
        1
        for s in seen
        if s.params.get("tool") == "evidencepress-tests"
        and s.params.get("email") == "tests@example.org"
        and s.params.get("api_key") == (api_key or None)
    )
    worst_second = _most_in_any_second(times)
    rate = (len(times) - 1) / (times[-1] - times[0])
    # Each troubled attempt is followed by a pause of at least the backoff (1 s, doubling) or
    # the server's Retry-After (2 s), whichever is longer.
    pauses = {n: seen[n].at - seen[n - 1].at for n in TROUBLE}  # attempt n+1 follows attempt n
    expected = {7: 2.0, 19: 1.0, 20: 2.0, 43: 2.0, 44: 2.0, 71: 1.0, 88: 1.0}
    summary = (
        f"{len(seen)} attempts for {QUEUED} requests; worst second {worst_second} requests, "
        f"mean rate {rate:.2f}/s (limit {limit}/s); identified {identified}/{len(seen)}; "
        f"socket attempts {len(no_network)}"
    )
    assert answered == QUEUED, summary
    assert worst_second <= limit and rate <= limit, summary
    assert identified == len(seen), summary
    assert all(pauses[n] >= expected[n] - 1e-9 for n in TROUBLE), (pauses, summary)
    assert no_network == [], summary
    print(f"E5: {summary}")  # the measured figure, for the test log


def test_the_limiter_holds_the_line_even_when_requests_arrive_in_a_burst() -> None:
    """A caller that queues 100 requests at the same instant still gets them spaced out."""
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock)
    starts = []
    for _ in range(QUEUED):
        limiter.wait()
        starts.append(clock.monotonic())
    assert _most_in_any_second(starts) == 3
    assert starts[-1] - starts[0] == pytest.approx((QUEUED - 1) / 3)
