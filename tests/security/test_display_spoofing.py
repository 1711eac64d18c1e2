"""Display spoofing: bidirectional overrides and zero-width characters never reach the admin.

Titles saved from the admin (publications, topics, pages) and readers' free text from the
request form are stored without them; text that reached the database another way (an import,
older rows) is shown in the admin with each one as a visible [U+XXXX] marker.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from evidencepress.core.text import has_invisible, reveal_invisible, strip_invisible
from evidencepress.evidence.models import Publication, Topic
from evidencepress.summaries.models import SummaryRequest

from ..summaries.conftest import editor, submit, superuser, topic
from ..summaries.test_request_form import URL, valid_post

__all__ = ["editor", "superuser", "topic"]

HIDDEN = {
    "\u202e": "right-to-left override",
    "\u202a": "left-to-right embedding",
    "\u2066": "left-to-right isolate",
    "\u2069": "pop directional isolate",
    "\u200b": "zero-width space",
    "\u200d": "zero-width joiner",
    "\u200f": "right-to-left mark",
    "\u2060": "word joiner",
    "\ufeff": "zero-width no-break space",
    "\u061c": "Arabic letter mark",
}
SPOOF = "Imiquimod safe in \u202eycnangerp\u202c for \u200bchildren\ufeff"


@pytest.mark.parametrize("character", sorted(HIDDEN))
def test_each_invisible_character_is_removed_or_shown(character: str) -> None:
    text = f"a{character}b"
    assert strip_invisible(text) == "ab"
    assert reveal_invisible(text) == f"a[U+{ord(character):04X}]b"
    assert has_invisible(text) and not has_invisible(reveal_invisible(text))


def test_ordinary_text_in_any_script_is_left_alone() -> None:
    for text in ("Zoë’s scalp — 15 mm", "الساركوما الوعائية", "血管肉瘤", "naïve café"):
        assert strip_invisible(text) == text == reveal_invisible(text)


@pytest.mark.django_db
def test_titles_saved_from_forms_lose_the_characters(topic: Any) -> None:
    publication = Publication(title=SPOOF, journal="J\u202e Med")
    publication.full_clean()
    publication.save()
    assert Publication.objects.get(pk=publication.pk).title == (
        "Imiquimod safe in ycnangerp for children"
    )
    assert publication.journal == "J Med"
    spoofed_topic = Topic(name="Cream \u202eX", slug="cream-x", treatment="Cream", condition="Y")
    spoofed_topic.full_clean()
    assert spoofed_topic.name == "Cream X"


@pytest.mark.django_db
def test_page_titles_lose_the_characters(wagtail_tree: Any) -> None:
    from evidencepress.articles.models import ArchiveIndexPage

    page = ArchiveIndexPage(title="Archive\u202e evil", slug="archive")
    wagtail_tree.add_child(instance=page)  # type: ignore[attr-defined]
    page.full_clean()
    assert page.title == "Archive evil"


@pytest.mark.django_db
def test_the_publication_list_shows_an_imported_override_visibly(
    client: Client, superuser: Any
) -> None:
    # As an import writes it: straight to the database, no clean().
    Publication.objects.bulk_create([Publication(title=SPOOF, title_normalized="x", year=2024)])
    client.force_login(superuser)
    for url in (reverse("publication:index"), reverse("publication_chooser:choose")):
        body = client.get(url).content.decode()
        assert "[U+202E]ycnangerp[U+202C]" in body, url
        assert not has_invisible(body), url


@pytest.mark.django_db
def test_reader_text_is_stored_without_them_and_older_rows_show_them(
    client: Client, topic: Any, editor: Any
) -> None:
    response = client.post(URL, valid_post(question=SPOOF, site="left\u200b temple"))
    assert response.status_code == 302
    stored = SummaryRequest.objects.get()
    assert stored.situation["question"] == "Imiquimod safe in ycnangerp for children"
    assert stored.situation["site"] == "left temple"

    older = submit(topic, situation={"question": SPOOF})  # stored before this rule
    client.force_login(editor)
    body = client.get(reverse("summaries_admin:detail", args=[older.public_id])).content.decode()
    assert "[U+202E]ycnangerp[U+202C] for [U+200B]children[U+FEFF]" in body
    assert not has_invisible(body)


@pytest.mark.django_db
def test_readers_never_get_an_imported_override(client: Client) -> None:
    Publication.objects.bulk_create([Publication(title=SPOOF, title_normalized="x", year=2024)])
    publication = Publication.objects.get(year=2024, title=SPOOF)
    body = client.get(f"/evidence/publications/{publication.pk}/").content.decode()
    assert "Imiquimod safe in ycnangerp for children" in body
    assert not has_invisible(body)
