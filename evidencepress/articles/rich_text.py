"""The rich-text "Citation" feature: cite a publication inside a sentence.

Stored as a Wagtail link type, `<a linktype="publication" id="12">words</a>`, so it lives in the
database format like page and document links do. Three conversions (compare
wagtail/documents/rich_text/):

- database -> page: `PublicationLinkHandler` writes a placeholder that `citations.
  number_citations` turns into a numbered superscript once the article body is rendered;
- database -> editor: `PublicationLinkElementHandler` gives Draftail the publication's label and
  public address (or only its id when it no longer exists, which the editor shows as a warning);
- editor -> database: `publication_link_entity` writes the link, and drops a link whose id is
  not a whole number (only a forged form post can send one).

In the editor the toolbar button "Citation" opens the evidence app's publication chooser
(static/articles/js/citation-chooser.js).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils.html import escape
from draftjs_exporter.dom import DOM
from wagtail.admin.rich_text.converters.html_to_contentstate import LinkElementHandler
from wagtail.admin.rich_text.editors.draftail.features import EntityFeature
from wagtail.rich_text import LinkHandler

from .citations import LINKTYPE, passage_ids, placeholder_tag

FEATURE = "citation"
ENTITY_TYPE = "CITATION"
# A number no publication has: the editor's script swaps it for the chosen publication's id.
_URL_SENTINEL = 987654321


def publication_url(pk: int | str) -> str:
    """The public page of a publication, /evidence/publications/<id>/."""
    try:
        return reverse("publication_detail", args=[pk])
    except NoReverseMatch:  # pragma: no cover - the public URLs are always installed
        return f"/evidence/publications/{pk}/"


def _publication_model() -> Any:
    from evidencepress.evidence.models import Publication

    return Publication


def editor_label(publication: Any) -> str:
    """How the editor's tooltip names a cited publication."""
    label = str(publication)
    return f"{label} (demonstration data)" if publication.is_demo else label


class PublicationLinkHandler(LinkHandler):
    """Front-end HTML of a stored citation: a placeholder numbered later (no query here)."""

    identifier = LINKTYPE

    @staticmethod
    def get_model() -> Any:
        return _publication_model()

    @staticmethod
    def expand_db_attributes(attrs: dict[str, Any]) -> str:
        pk = str(attrs.get("id", ""))
        href = escape(publication_url(pk)) if pk.isdigit() else ""
        return placeholder_tag(pk, href, str(attrs.get("passages", "")))

    @classmethod
    def extract_references(cls, attrs: dict[str, Any]) -> Iterator[tuple[Any, str, str, str]]:
        """For Wagtail's reference index, so a publication's "Usage" lists the articles."""
        pk = str(attrs.get("id", ""))
        if pk.isdigit():
            yield cls.get_model(), pk, "", ""


class PublicationLinkElementHandler(LinkElementHandler):
    """Database -> Draftail: the entity data for `<a linktype="publication" id="…">`."""

    def get_attribute_data(self, attrs: dict[str, Any]) -> dict[str, Any]:
        pk = str(attrs.get("id", ""))
        if not pk.isdigit():
            return {}
        publication = _publication_model().objects.filter(pk=int(pk)).first()
        if publication is None:
            return {"id": int(pk)}  # kept, so the editor shows it as missing
        data = {
            "id": publication.pk,
            "url": publication_url(publication.pk),
            "label": editor_label(publication),
        }
        passages = passage_ids(str(attrs.get("passages", "")))
        if passages:  # kept through an edit in Draftail, so the citation still names them
            data["passages"] = " ".join(str(p) for p in passages)
        return data


def publication_link_entity(props: dict[str, Any]) -> Any:
    """Draftail -> database: `<a linktype="publication" id="12">words</a>`."""
    pk = str(props.get("id", ""))
    if not pk.isdigit():
        return props["children"]
    attrs = {"linktype": LINKTYPE, "id": pk}
    passages = passage_ids(str(props.get("passages", "")))
    if passages:
        attrs["passages"] = " ".join(str(p) for p in passages)
    return DOM.create_element("a", attrs, props["children"])


def register_citation_feature(features: Any) -> None:
    """Register the link type, the Draftail entity and both converters (a hook calls this)."""
    features.register_link_type(PublicationLinkHandler)
    features.register_editor_plugin(
        "draftail",
        FEATURE,
        EntityFeature(
            {
                "type": ENTITY_TYPE,
                "icon": "openquote",
                "description": "Citation",
                "chooserUrls": {"publicationChooser": reverse_lazy("publication_chooser:choose")},
                "publicationUrl": reverse_lazy("publication_detail", args=[_URL_SENTINEL]),
                "urlSentinel": str(_URL_SENTINEL),
            },
            js=["wagtailadmin/js/chooser-modal.js", "articles/js/citation-chooser.js"],
        ),
    )
    features.register_converter_rule(
        "contentstate",
        FEATURE,
        {
            "from_database_format": {
                f'a[linktype="{LINKTYPE}"]': PublicationLinkElementHandler(ENTITY_TYPE)
            },
            "to_database_format": {"entity_decorators": {ENTITY_TYPE: publication_link_entity}},
        },
    )
