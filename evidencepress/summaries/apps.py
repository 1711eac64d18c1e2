from django.apps import AppConfig


class SummariesConfig(AppConfig):
    name = "evidencepress.summaries"
    label = "summaries"
    verbose_name = "Tailored summaries"
    default_auto_field = "django.db.models.BigAutoField"
