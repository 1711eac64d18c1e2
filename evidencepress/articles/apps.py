from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "evidencepress.articles"
    label = "articles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Pins the reviewed evidence when Clinical review approves a revision (a receiver).
        # Runs the claim audit when a page is submitted for review (a receiver).
        from . import (
            claim_review,  # noqa: F401
            evidence_pins,  # noqa: F401
        )
