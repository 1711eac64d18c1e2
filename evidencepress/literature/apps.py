from django.apps import AppConfig


class LiteratureConfig(AppConfig):
    name = "evidencepress.literature"
    label = "literature"
    default_auto_field = "django.db.models.BigAutoField"
