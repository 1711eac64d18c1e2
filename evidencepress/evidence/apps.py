from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidencepress.evidence"
    label = "evidence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .history import connect

        connect()  # record every change to the evidence base (evidence/history.py)
        from . import receivers

        receivers.connect()  # a topic definition's safety rules become a draft version
