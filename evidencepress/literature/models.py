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


class PubmedFetch(models.Model):
    """Progress of one `fetch_pubmed` query: which efetch batches are already imported.

    Each batch's publications, its ImportBatch row and its entry in `done_batches` are written in
    one transaction, so this checkpoint always agrees with the database: an interrupted fetch
    resumes with exactly the batches that are missing.
    """

    query = models.TextField()
    topic = models.ForeignKey(
        "evidence.Topic", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    max_records = models.PositiveIntegerField(null=True, blank=True)
    batch_size = models.PositiveIntegerField()
    count = models.PositiveIntegerField(help_text="Records PubMed found for the query.")
    webenv = models.CharField(max_length=200, help_text="NCBI history server session.")
    query_key = models.CharField(max_length=20)
    planned_batches = models.PositiveIntegerField()
    done_batches = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "PubMed fetch"

    def __str__(self) -> str:
        done = len(self.done_batches)
        return f"PubMed: {self.query[:80]} ({done}/{self.planned_batches} batches)"
