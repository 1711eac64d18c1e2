"""A small NCBI E-utilities client: esearch with the history server, then efetch in batches.

Pure: imports nothing from Django. Follows NCBI's usage guidelines (E-utilities Help, chapter
"A General Introduction to the E-utilities", and NCBI Knowledge Article KA-05510):

- every request carries `tool` and `email` (and `api_key` when there is one);
- at most 3 requests per second, 10 with an API key (`RateLimiter`);
- large result sets go through the history server (`usehistory=y`, then `WebEnv`/`query_key`);
- HTTP 429 and 5xx answers and network failures are retried with exponential backoff, honouring
  `Retry-After` (RFC 9110 §10.2.3), and give a clear `EutilsError` after the last attempt.

The HTTP transport and the clock are injected, so tests run against recorded responses with a
fake clock and never touch the network.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from .exceptions import EutilsError as EutilsError
from .exceptions import HistoryExpired as HistoryExpired

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# PubMed's E-utilities hand out at most the first 10,000 records of a search (NCBI, 2022).
PUBMED_RETRIEVABLE = 10_000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_HISTORY_LOST = re.compile(
    rb"(cannot retrieve query|unable to obtain query|query key|webenv|history)", re.IGNORECASE
)


class Clock(Protocol):
    """Time source for rate limiting and backoff; tests pass a fake that only pretends to sleep."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True, slots=True)
class EutilsConfig:
    """Where E-utilities live and how this client identifies itself and retries."""

    tool: str
    email: str
    api_key: str = ""
    base_url: str = DEFAULT_BASE_URL
    max_retries: int = 5  # retries after the first attempt
    backoff_base: float = 1.0  # seconds before the first retry; doubled for each further one
    backoff_max: float = 60.0
    retry_after_max: float = 300.0  # a longer Retry-After is capped rather than obeyed blindly
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if not self.tool.strip():
            raise EutilsError("NCBI E-utilities need a tool name: set NCBI_TOOL.")
        if "@" not in self.email:
            raise EutilsError(
                "NCBI E-utilities need a contact e-mail address NCBI can reach: set NCBI_EMAIL."
            )
        if self.max_retries < 0:
            raise EutilsError("max_retries cannot be negative")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], **overrides: Any) -> EutilsConfig:
        """Build from a settings dictionary with keys BASE_URL, TOOL, EMAIL and API_KEY."""
        return cls(
            tool=str(values.get("TOOL") or ""),
            email=str(values.get("EMAIL") or ""),
            api_key=str(values.get("API_KEY") or ""),
            base_url=str(values.get("BASE_URL") or DEFAULT_BASE_URL),
            **overrides,
        )

    @property
    def requests_per_second(self) -> int:
        """NCBI's limit: 3 requests per second, or 10 with an API key."""
        return 10 if self.api_key else 3


class RateLimiter:
    """At most `rate` request starts in any window of `period` seconds, evenly spaced.

    Requests are spaced `period / rate` apart, and a sliding window of the last `rate` starts is
    checked as well, so that rounding can never let a fourth request into a one-second window.
    """

    def __init__(self, rate: int, *, clock: Clock, period: float = 1.0) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1")
        self.rate = rate
        self.period = period
        self.clock = clock
        self._starts: deque[float] = deque(maxlen=rate)

    def wait(self) -> None:
        """Block (through the clock) until another request may start, then record its start."""
        spacing = self.period / self.rate
        while self._starts:
            now = self.clock.monotonic()
            delay = self._starts[-1] + spacing - now
            if len(self._starts) == self.rate:
                delay = max(delay, self._starts[0] + self.period - now)
            if delay <= 0:
                break
            # A floor on the sleep, so float rounding cannot leave the loop spinning in place.
            self.clock.sleep(max(delay, 1e-6))
        self._starts.append(self.clock.monotonic())


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What esearch left on the history server for a query."""

    query: str
    count: int
    webenv: str
    query_key: str
    query_translation: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Batch:
    """One efetch call: records `retstart` to `retstart + retmax - 1` (0-based) of a search."""

    index: int
    retstart: int
    retmax: int

    @property
    def label(self) -> str:
        return f"records {self.retstart + 1}-{self.retstart + self.retmax}"


def plan_batches(count: int, *, batch_size: int, max_records: int | None = None) -> list[Batch]:
    """Split the first min(count, max_records, 10,000) records of a search into efetch batches."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = min(count, PUBMED_RETRIEVABLE)
    if max_records is not None:
        total = min(total, max(max_records, 0))
    return [
        Batch(index=i, retstart=start, retmax=min(batch_size, total - start))
        for i, start in enumerate(range(0, total, batch_size))
    ]


def retry_delay(
    attempt: int, *, retry_after: str | None, config: EutilsConfig, now: datetime
) -> float:
    """Seconds to wait before retry number `attempt` (1-based).

    Exponential backoff (base × 2^(attempt-1), capped); a server's Retry-After, in seconds or as
    an HTTP date, wins when it asks for longer, up to `retry_after_max`.
    """
    delay: float = min(config.backoff_base * 2.0 ** (attempt - 1), config.backoff_max)
    asked = _parse_retry_after(retry_after, now=now)
    if asked is not None:
        delay = max(delay, min(asked, config.retry_after_max))
    return delay


def _parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - now).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


class EutilsClient:
    """HTTP client for E-utilities with identification, rate limiting and retries.

    `transport` is any httpx transport (tests pass `httpx.MockTransport`); without one, httpx's
    default transport is used. `clock` drives both the rate limiter and the backoff sleeps.
    """

    def __init__(
        self,
        config: EutilsConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.limiter = RateLimiter(config.requests_per_second, clock=self.clock)
        base_url = config.base_url if config.base_url.endswith("/") else config.base_url + "/"
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=config.timeout,
            follow_redirects=False,
            headers={"User-Agent": f"{config.tool} (mailto:{config.email})"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EutilsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def identity(self) -> dict[str, str]:
        """The parameters NCBI asks every request to carry."""
        params = {"tool": self.config.tool, "email": self.config.email}
        if self.config.api_key:
            params["api_key"] = self.config.api_key
        return params

    def request(self, utility: str, params: Mapping[str, str | int]) -> httpx.Response:
        """POST one E-utility call (e.g. "esearch.fcgi"), rate limited and retried.

        POST keeps long queries out of the URL (NCBI recommends it beyond a few hundred
        characters). Raises EutilsError for a refused request or when the retries run out.
        """
        data = {key: str(value) for key, value in params.items()}
        data.update(self.identity())
        name = utility.removesuffix(".fcgi")
        attempts = self.config.max_retries + 1
        problem = ""
        for attempt in range(1, attempts + 1):
            self.limiter.wait()
            retry_after: str | None = None
            try:
                response = self._http.post(utility, data=data)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return response
                problem = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                if response.status_code not in RETRY_STATUSES:
                    detail = response.text[:300].strip()
                    raise EutilsError(
                        f"NCBI {name} refused the request ({problem})"
                        + (f": {detail}" if detail else "")
                    )
                retry_after = response.headers.get("Retry-After")
            if attempt < attempts:
                self.clock.sleep(
                    retry_delay(
                        attempt, retry_after=retry_after, config=self.config, now=datetime.now(UTC)
                    )
                )
        raise EutilsError(
            f"NCBI {name} failed after {attempts} attempts (last: {problem}). "
            "PubMed may be down or limiting requests; try again later."
        )

    def esearch(self, query: str, *, db: str = "pubmed") -> SearchResult:
        """Run a search and keep its result on the history server (esearch, usehistory=y)."""
        response = self.request(
            "esearch.fcgi",
            {"db": db, "term": query, "usehistory": "y", "retmax": 0, "retmode": "json"},
        )
        try:
            payload = json.loads(response.content)
            result = payload["esearchresult"]
        except (ValueError, KeyError, TypeError) as exc:
            raise EutilsError("NCBI esearch answered with something that is not its JSON") from exc
        if "ERROR" in result:
            raise EutilsError(f"NCBI esearch reported an error: {result['ERROR']}")
        try:
            count = int(result["count"])
            webenv = str(result["webenv"])
            query_key = str(result["querykey"])
        except (KeyError, ValueError, TypeError) as exc:
            raise EutilsError(f"NCBI esearch left out {exc} in its answer") from exc
        return SearchResult(
            query=query,
            count=count,
            webenv=webenv,
            query_key=query_key,
            query_translation=str(result.get("querytranslation", "")),
            warnings=tuple(_warnings(result)),
        )

    def efetch(self, search: SearchResult, batch: Batch, *, db: str = "pubmed") -> bytes:
        """Fetch one batch of a search's records as PubMed XML (efetch from the history server).

        Raises HistoryExpired when NCBI no longer holds the search, EutilsError for any other
        answer that is not a PubmedArticleSet.
        """
        response = self.request(
            "efetch.fcgi",
            {
                "db": db,
                "WebEnv": search.webenv,
                "query_key": search.query_key,
                "retstart": batch.retstart,
                "retmax": batch.retmax,
                "retmode": "xml",
            },
        )
        body = response.content
        head = body[:4096]
        if b"<PubmedArticleSet" in head or b"<PubmedBookSet" in head:
            return body
        snippet = " ".join(body[:300].decode("utf-8", "replace").split())
        if b"ERROR" in head.upper() and _HISTORY_LOST.search(head):
            raise HistoryExpired(f"NCBI no longer holds this search ({snippet})")
        raise EutilsError(f"NCBI efetch ({batch.label}) did not return PubMed XML: {snippet}")

    def fetch(
        self, search: SearchResult, batches: Iterable[Batch], *, db: str = "pubmed"
    ) -> Iterator[tuple[Batch, bytes]]:
        """efetch each batch in turn, yielding its XML."""
        for batch in batches:
            yield batch, self.efetch(search, batch, db=db)


def _warnings(result: Mapping[str, Any]) -> Iterator[str]:
    for key in ("warninglist", "errorlist"):
        block = result.get(key)
        if not isinstance(block, Mapping):
            continue
        for kind, values in block.items():
            if isinstance(values, list):
                for value in values:
                    if value:
                        yield f"{kind}: {value}"
