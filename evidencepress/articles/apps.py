from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "evidencepress.articles"
    label = "articles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Pins the reviewed evidence when Clinical review approves a revision (a receiver).
        from . import evidence_pins  # noqa: F401
