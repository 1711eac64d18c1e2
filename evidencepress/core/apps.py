from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "evidencepress.core"
    label = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import checks, signals  # noqa: F401  (registers checks and receivers)
        from .content_version import ensure_triggers

        # A migration that rebuilds a table (SQLite) drops its triggers; put them back.
        post_migrate.connect(ensure_triggers, sender=self, dispatch_uid="content_version")
