"""Register the evidence base in the Wagtail admin: an "Evidence" menu and a publication chooser."""

from __future__ import annotations

from typing import Any

from wagtail import hooks

from .viewsets import EvidenceViewSetGroup, publication_chooser_viewset


@hooks.register("register_admin_viewset")
def register_evidence_viewsets() -> list[Any]:
    return [EvidenceViewSetGroup(), publication_chooser_viewset]
