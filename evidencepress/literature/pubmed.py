"""Import the results of a PubMed query through E-utilities, batch by batch, resumably.

`pubmed_fetch_prepare` runs esearch (or finds the unfinished fetch of the same query) and records
a checkpoint; `pubmed_fetch_run` fetches the missing efetch batches and feeds each one to the
MEDLINE XML parser and the importer (`importer.import_stream`). Each batch is one transaction
together with its checkpoint entry: a failure or a kill loses at most the batch in flight, and
running the same query again fetches only the batches that are missing.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from evidencepress.evidence.models import Topic

from .eutils import Batch, EutilsClient, SearchResult, plan_batches
from .exceptions import EutilsError, HistoryExpired, ImportRejected, LiteratureParseError
from .exceptions import PubmedFetchFailed as PubmedFetchFailed
from .importer import ImportResult, import_stream
from .models import ImportBatch, PubmedFetch
from .records import RecordError

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


@dataclass(slots=True)
class FetchTotals:
    """Counts over the batches imported in this run (batches of earlier runs are not counted)."""

    new: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    errors: list[tuple[Batch, RecordError]] = field(default_factory=list)

    def add(self, batch: Batch, result: ImportResult) -> None:
        self.new += result.new
        self.updated += result.updated
        self.duplicates += result.duplicates
        self.rejected += result.rejected
        self.batches += 1
        self.errors.extend((batch, error) for error in result.errors)

    def summary_line(self) -> str:
        return (
            f"new {self.new}, updated {self.updated}, duplicates {self.duplicates}, "
            f"rejected {self.rejected}"
        )


def _search_of(fetch: PubmedFetch) -> SearchResult:
    return SearchResult(
        query=fetch.query, count=fetch.count, webenv=fetch.webenv, query_key=fetch.query_key
    )


def fetch_batches(fetch: PubmedFetch) -> list[Batch]:
    """All efetch batches a fetch is made of."""
    return plan_batches(fetch.count, batch_size=fetch.batch_size, max_records=fetch.max_records)


def missing_batches(fetch: PubmedFetch) -> list[Batch]:
    """The batches of a fetch that are not imported yet."""
    done = set(fetch.done_batches)
    return [batch for batch in fetch_batches(fetch) if batch.index not in done]


def pubmed_fetch_prepare(
    *,
    query: str,
    topic: Topic | None,
    client: EutilsClient,
    max_records: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    restart: bool = False,
) -> tuple[PubmedFetch, bool, SearchResult | None]:
    """Find the unfinished fetch of this query to resume, or run esearch and start a new one.

    Returns the checkpoint, whether it resumes an earlier run, and the fresh search result (None
    when resuming). With `restart`, unfinished fetches of the query are discarded first.
    """
    query = query.strip()
    if not query:
        raise EutilsError("The PubMed query is empty.")
    unfinished = PubmedFetch.objects.filter(
        query=query,
        topic=topic,
        max_records=max_records,
        batch_size=batch_size,
        completed_at__isnull=True,
    )
    if restart:
        unfinished.delete()
    else:
        fetch = unfinished.order_by("-created_at").first()
        if fetch is not None:
            return fetch, True, None
    search = client.esearch(query)
    planned = plan_batches(search.count, batch_size=batch_size, max_records=max_records)
    fetch = PubmedFetch(
        query=query,
        topic=topic,
        max_records=max_records,
        batch_size=batch_size,
        count=search.count,
        webenv=search.webenv,
        query_key=search.query_key,
        planned_batches=len(planned),
        done_batches=[],
    )
    fetch.full_clean()
    fetch.save()
    return fetch, False, search


def pubmed_fetch_run(
    *,
    fetch: PubmedFetch,
    client: EutilsClient,
    skip_bad: bool = False,
    progress: Callable[[int], None] | None = None,
) -> FetchTotals:
    """Fetch and import every missing batch of a fetch, one transaction per batch.

    Raises PubmedFetchFailed (naming the batch) when a batch cannot be fetched or imported; that
    batch is rolled back, the batches before it stay, and a later run resumes from it.
    """
    totals = FetchTotals()
    searched_again = False
    batches = missing_batches(fetch)
    while batches:
        batch = batches[0]
        try:
            xml = client.efetch(_search_of(fetch), batch)
        except HistoryExpired as exc:
            if searched_again:
                raise PubmedFetchFailed(
                    _failure(fetch, batch, "NCBI lost the search twice"), totals
                ) from exc
            searched_again = True
            _search_again(fetch, client)
            batches = missing_batches(fetch)
            continue
        except EutilsError as exc:
            raise PubmedFetchFailed(_failure(fetch, batch, str(exc)), totals) from exc
        source = f"PubMed query {fetch.query!r}, {batch.label}"
        try:
            with transaction.atomic():
                result = import_stream(
                    io.BytesIO(xml),
                    fmt="medline_xml",
                    source=source,
                    kind=ImportBatch.Kind.PUBMED,
                    topic=fetch.topic,
                    skip_bad=skip_bad,
                    progress=progress,
                )
                fetch.done_batches = sorted({*fetch.done_batches, batch.index})
                if len(fetch.done_batches) >= fetch.planned_batches:
                    fetch.completed_at = timezone.now()
                fetch.save(update_fields=["done_batches", "completed_at", "updated_at"])
        except (ImportRejected, LiteratureParseError) as exc:
            fetch.refresh_from_db()  # the checkpoint as committed, without the failed batch
            raise PubmedFetchFailed(_failure(fetch, batch, str(exc)), totals) from exc
        totals.add(batch, result)
        batches = batches[1:]
    if fetch.completed_at is None:
        # Nothing was missing (e.g. zero records): the fetch is complete.
        fetch.completed_at = timezone.now()
        fetch.save(update_fields=["completed_at", "updated_at"])
    logger.info("PubMed fetch %s complete (%s)", fetch.pk, totals.summary_line())
    return totals


def _search_again(fetch: PubmedFetch, client: EutilsClient) -> None:
    """Replace an expired history session; start the batches over if the results changed."""
    search = client.esearch(fetch.query)
    planned = plan_batches(search.count, batch_size=fetch.batch_size, max_records=fetch.max_records)
    if search.count != fetch.count:
        # Batches are positions in the result list; once it changed, old positions mean nothing.
        # Fetching everything again is safe: records already imported count as duplicates.
        fetch.done_batches = []
    fetch.count = search.count
    fetch.webenv = search.webenv
    fetch.query_key = search.query_key
    fetch.planned_batches = len(planned)
    fetch.save()


def _failure(fetch: PubmedFetch, batch: Batch, reason: str) -> str:
    done = len(fetch.done_batches)
    return (
        f"PubMed query {fetch.query!r}: batch {batch.index + 1} of {fetch.planned_batches} "
        f"({batch.label}) failed: {reason}\n"
        f"That batch was not imported; {done} of {fetch.planned_batches} batches are imported and "
        "kept. Run the same command again to fetch only the missing batches."
    )
