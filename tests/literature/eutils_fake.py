"""A recorded-response stand-in for NCBI E-utilities, and a fake clock (shared by the tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "eutils"
BATCH_FILES = {0: "efetch-batch1.xml", 2: "efetch-batch2.xml", 4: "efetch-batch3.xml"}


class FakeClock:
    """Pretends to sleep: time moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def xml(name: str) -> httpx.Response:
    return httpx.Response(200, content=recorded(name), headers={"Content-Type": "text/xml"})


def json_response(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=recorded(name), headers={"Content-Type": "application/json"}
    )


@dataclass
class Seen:
    """One request as the fake server received it."""

    utility: str
    params: dict[str, str]
    at: float


Reply = httpx.Response | Exception


@dataclass
class FakeNcbi:
    """Answers esearch with esearch.json and efetch (batch size 2) with the recorded batches.

    `script` holds replies handed out before the normal ones (429s, 503s, network errors);
    `override` may answer a request itself (return None to fall through).
    """

    clock: FakeClock
    script: list[Reply] = field(default_factory=list)
    override: Callable[[Seen], Reply | None] | None = None
    esearch_file: str = "esearch.json"
    seen: list[Seen] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if request.method == "POST":
            params.update(httpx.QueryParams(request.content.decode("ascii")))
        seen = Seen(request.url.path.rsplit("/", 1)[-1], params, self.clock.now)
        self.seen.append(seen)
        reply: Reply | None = self.script.pop(0) if self.script else None
        if reply is None and self.override is not None:
            reply = self.override(seen)
        if reply is None:
            reply = self.normal(seen)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def normal(self, seen: Seen) -> httpx.Response:
        if seen.utility == "esearch.fcgi":
            return json_response(self.esearch_file)
        if seen.utility == "efetch.fcgi":
            return xml(BATCH_FILES[int(seen.params["retstart"])])
        return httpx.Response(404)

    def efetches(self) -> list[Seen]:
        return [s for s in self.seen if s.utility == "efetch.fcgi"]

    def esearches(self) -> list[Seen]:
        return [s for s in self.seen if s.utility == "esearch.fcgi"]
