"""python manage.py fetch_pubmed "QUERY" --topic SLUG [--max N]"""

from __future__ import annotations

import sys
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from evidencepress.evidence.models import Topic
from evidencepress.literature.eutils import (
    PUBMED_RETRIEVABLE,
    Clock,
    EutilsClient,
    EutilsConfig,
    EutilsError,
)
from evidencepress.literature.pubmed import (
    DEFAULT_BATCH_SIZE,
    PubmedFetchFailed,
    fetch_batches,
    missing_batches,
    pubmed_fetch_prepare,
    pubmed_fetch_run,
)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Search PubMed through NCBI E-utilities and import the records found, in batches. "
        "Each batch is imported all or nothing; an interrupted run resumes with the missing "
        "batches when the same command is run again."
    )

    def __init__(
        self,
        *args: Any,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        **kwargs: Any,
    ) -> None:
        # Tests pass a recorded-response transport and a fake clock; normal runs use neither.
        super().__init__(*args, **kwargs)
        self.transport = transport
        self.clock = clock

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query", help='PubMed search, e.g. "sirolimus AND sarcoma".')
        parser.add_argument(
            "--topic", required=True, help="Slug of the topic the publications belong to."
        )
        parser.add_argument(
            "--max",
            type=_positive,
            default=None,
            dest="max_records",
            help=f"Import at most this many records (PubMed serves at most {PUBMED_RETRIEVABLE}).",
        )
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=DEFAULT_BATCH_SIZE,
            help=f"Records per efetch request and per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--skip-bad",
            action="store_true",
            help="Skip unusable records (listed on stderr) instead of failing their batch.",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="Ignore an unfinished earlier run of this query and search again from scratch.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show a progress bar."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            topic = Topic.objects.get(slug=options["topic"])
        except Topic.DoesNotExist:
            raise CommandError(f"No topic with slug {options['topic']!r}.") from None
        if options["batch_size"] > PUBMED_RETRIEVABLE:
            raise CommandError(f"--batch-size can be at most {PUBMED_RETRIEVABLE}.")
        try:
            config = EutilsConfig.from_mapping(settings.NCBI_EUTILS)
        except EutilsError as exc:
            raise CommandError(str(exc)) from exc
        with EutilsClient(config, transport=self.transport, clock=self.clock) as client:
            self._fetch(client, topic, options)

    def _fetch(self, client: EutilsClient, topic: Topic, options: dict[str, Any]) -> None:
        try:
            fetch, resumed, search = pubmed_fetch_prepare(
                query=options["query"],
                topic=topic,
                client=client,
                max_records=options["max_records"],
                batch_size=options["batch_size"],
                restart=options["restart"],
            )
        except EutilsError as exc:
            raise CommandError(f"PubMed search failed: {exc}\nNothing was imported.") from exc
        batches = fetch_batches(fetch)
        todo = missing_batches(fetch)
        if resumed:
            self.stdout.write(
                f"Resuming an interrupted fetch: {len(batches) - len(todo)} of {len(batches)} "
                "batches are already imported."
            )
        else:
            self.stdout.write(f"PubMed found {fetch.count} records.")
            for warning in search.warnings if search else ():
                self.stderr.write(f"PubMed: {warning}")
        if fetch.count > PUBMED_RETRIEVABLE and options["max_records"] is None:
            self.stderr.write(
                f"PubMed serves only the first {PUBMED_RETRIEVABLE} records of a search; "
                "narrow the query to import the rest."
            )
        bar = tqdm(
            total=sum(batch.retmax for batch in todo),
            desc="PubMed",
            unit=" records",
            file=sys.stderr,
            disable=options["no_progress"],
            leave=False,
        )
        try:
            totals = pubmed_fetch_run(
                fetch=fetch, client=client, skip_bad=options["skip_bad"], progress=bar.update
            )
        except PubmedFetchFailed as exc:
            bar.close()
            self.stdout.write(exc.totals.summary_line())
            raise CommandError(str(exc)) from exc
        bar.close()
        for batch, error in totals.errors:
            ident = f" ({error.identifier})" if error.identifier else ""
            self.stderr.write(f"{batch.label}: record {error.position}{ident}: {error.message}")
        self.stdout.write(totals.summary_line())
