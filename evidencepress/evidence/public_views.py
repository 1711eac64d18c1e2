"""The public entry for one publication: its reference, links, what we read in it, its cases.

Article reference lists link here, so a reader can see what a cited source is and what the
curators took from it before following the link to PubMed or the publisher.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from .models import Publication
from .references import publication_reference, title_for_readers, title_seen
from .services import reviewed_cases_from

FACTS_HEADING = "Facts read in the source:"


def read_facts(notes: str) -> tuple[list[str], str]:
    """Split curator notes into the bullet list under FACTS_HEADING and the remaining text."""
    if FACTS_HEADING not in notes:
        return [], notes.strip()
    before, _, after = notes.partition(FACTS_HEADING)
    facts: list[str] = []
    rest: list[str] = [before.strip()]
    for line in after.splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            facts.append(stripped[2:].strip())
        elif stripped:
            rest.append(stripped)
    return facts, "\n\n".join(part for part in rest if part)


@require_GET
def publication_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """`/evidence/publications/<id>/`: one publication, public and read-only."""
    publication = get_object_or_404(
        # for_display: never the abstract (possibly hundreds of MB) on a page that omits it.
        Publication.objects.for_display().prefetch_related("topics"),
        pk=pk,
    )
    facts, notes = read_facts(publication.notes)
    reviewed_cases, cases_waiting = reviewed_cases_from(publication)
    return TemplateResponse(
        request,
        "evidence/publication_detail.html",
        {
            "publication": publication,
            "heading": title_for_readers(publication.title),
            "title_seen": title_seen(publication.title),
            "reference": publication_reference(publication),
            "facts": facts,
            "notes": notes,
            "reviewed_cases": reviewed_cases,
            "cases_waiting": cases_waiting,
        },
    )
