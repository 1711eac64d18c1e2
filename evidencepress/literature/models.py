from django.db import models


class ImportBatch(models.Model):
    """One completed import: a file or a PubMed query, with its outcome counts.

    A batch row is written in the same transaction as its publications, so a failed or killed
    import leaves no batch behind.
    """

    class Kind(models.TextChoices):
        FILE = "file", "File"
        PUBMED = "pubmed", "PubMed query"
        DEMO = "demo", "Demo data"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=500, help_text="File name or search query.")
    source_format = models.CharField(max_length=32, blank=True)
    topic = models.ForeignKey(
        "evidence.Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    new_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    deleted_count = models.PositiveIntegerField(default=0)
    rejected_detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.source} ({self.created_at:%Y-%m-%d %H:%M})"
