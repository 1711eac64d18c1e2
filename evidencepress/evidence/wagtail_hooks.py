"""Register the evidence base in the Wagtail admin: an "Evidence" menu and a publication chooser."""

from __future__ import annotations

from typing import Any

from wagtail import hooks

from .viewsets import EvidenceViewSetGroup, publication_chooser_viewset


@hooks.register("register_admin_viewset")
def register_evidence_viewsets() -> list[Any]:
    return [EvidenceViewSetGroup(), publication_chooser_viewset]


@hooks.register("register_log_actions")
def register_evidence_log_actions(actions: Any) -> None:
    """The change-history actions (evidence/history.py), so Wagtail's history views name them."""
    from .history import ACTIONS

    for action, label, message in ACTIONS:
        actions.register_action(action, label, message)
