"""`manage.py audit_claims [--page ID | --all] [--format text|json]`: the claim audit.

Audits the latest revision of each article, topic and archive page (what a reviewer would
approve). Exits non-zero when anything is found.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from wagtail.models import Page

from evidencepress.articles.claim_sources import audit_page
from evidencepress.articles.models import ArchiveIndexPage, ArticlePage, TopicPage


class Command(BaseCommand):
    help = "Find sentences that do not rest on what editors read (non-zero exit if any)."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--page", type=int, help="The id of one page.")
        which.add_argument("--all", action="store_true", help="Every article, topic, archive.")
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["page"] is not None:
            page = Page.objects.filter(pk=options["page"]).first()
            if page is None:
                raise CommandError(f"--page: no page with id {options['page']}.")
            pages = [page.specific]
        else:
            pages = [
                *TopicPage.objects.order_by("path"),
                *ArticlePage.objects.order_by("path"),
                *ArchiveIndexPage.objects.order_by("path"),
            ]
        results = []
        for page in pages:
            latest = page.get_latest_revision_as_object() if page.latest_revision_id else page
            results.append((page, audit_page(latest)))
        total = sum(len(found) for _, found in results)
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    [
                        {"page": p.pk, "title": p.title, "findings": [asdict(f) for f in found]}
                        for p, found in results
                    ],
                    indent=2,
                )
            )
        else:
            for page, found in results:
                for f in found:
                    self.stdout.write(f"[{page.pk}] {page.title} | {f.where} | {f.kind}")
                    self.stdout.write(f"    {f.sentence}")
                    self.stdout.write(f"    -> {f.message}")
            self.stdout.write(f"{total} finding(s) on {len(results)} page(s).")
        if total:
            raise CommandError(f"The claim audit found {total} problem(s).", returncode=1)
