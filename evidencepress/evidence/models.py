"""The evidence base: topics, publications, reported patients and where each fact came from."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel

from evidencepress.core.models import TimeStampedModel
from evidencepress.core.text import VisibleTitleMixin, reveal_invisible, strip_invisible

from .querysets import PatientQuerySet, PublicationQuerySet
from .vocabulary import UNKNOWN, Vocabulary, vocabulary_for

# The longest value a topic's vocabulary may give a case field (the schema's limit too).
VALUE_MAX_LENGTH = 30


def vocabulary_errors(
    vocabulary: Vocabulary, values: dict[str, str], *, topic: object
) -> dict[str, str]:
    """For each topic-defined field whose value the topic's vocabulary lacks: the message."""
    errors = {}
    for name, value in values.items():
        allowed = vocabulary.values_for(name)
        if value not in allowed:
            label = vocabulary.field_label(name, name.replace("_", " "))
            errors[name] = (
                f"{value!r} is not a value of {label} for the topic {topic}; "
                f"use one of: {', '.join(allowed)}."
            )
    return errors


class Topic(VisibleTitleMixin, TimeStampedModel):
    """A treatment × condition pair, e.g. a cream × a skin tumour (defined as data)."""

    visible_text_fields = ("name", "treatment", "condition")

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    treatment = models.CharField(max_length=120)
    condition = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    # The checked topic definition (evidence.topic_definition; docs/topic-definition.md),
    # written only by evidence.topics.apply_definition, which also records a TopicVersion.
    definition = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="The topic's definition: vocabulary, questionnaire, wording (see its versions).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TopicVersion(models.Model):
    """One applied version of a topic's definition, as it was stored (never changed)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    data = models.JSONField(help_text="The definition as stored by this version.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["topic", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="topic_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.topic} — version {self.number}"


class Treatment(models.Model):
    """A controlled vocabulary of treatments, used for prior and concurrent treatments."""

    class Category(models.TextChoices):
        SURGERY = "surgery", "Surgery"
        RADIOTHERAPY = "radiotherapy", "Radiotherapy"
        CHEMOTHERAPY = "chemotherapy", "Chemotherapy"
        TARGETED = "targeted", "Targeted or immune therapy"
        TOPICAL = "topical", "Topical treatment"
        BETA_BLOCKER = "beta_blocker", "Beta-blocker"
        OTHER = "other", "Other"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    category = models.CharField(max_length=20, choices=Category.choices)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Publication(TimeStampedModel, ClusterableModel):
    """A published report. PMID, DOI and PMCID are each unique when present."""

    pmid = models.CharField("PMID", max_length=12, null=True, blank=True, unique=True)
    # Stored lower-cased (normalise_doi); the plain index serves the importer's exact lookups.
    doi = models.CharField("DOI", max_length=255, null=True, blank=True, db_index=True)
    pmcid = models.CharField("PMCID", max_length=20, null=True, blank=True, unique=True)
    title = models.TextField()
    title_normalized = models.CharField(max_length=500, db_index=True, editable=False)
    journal = models.CharField(max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    pages = models.CharField(max_length=50, blank=True)
    authors = models.JSONField(
        default=list,
        blank=True,
        help_text="Authors in citation order: last_name, fore_name, initials, collective_name.",
    )
    publication_types = models.JSONField(default=list, blank=True)
    mesh_terms = models.JSONField("MeSH terms", default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    abstract = models.TextField(blank=True)
    language = models.CharField(max_length=20, blank=True)
    retracted = models.BooleanField(default=False)
    date_revised = models.DateField(null=True, blank=True)
    source_format = models.CharField(max_length=32, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    source_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="Digest of the source record as last imported (MEDLINE XML).",
    )
    field_sources = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text=(
            "Which copy each imported field came from, when not the best copy merged: "
            "{field: [revision date or '', source rank, parser revision]} (docs/importing.md)."
        ),
    )
    parser_revision = models.PositiveSmallIntegerField(
        default=0,
        editable=False,
        help_text="records.PARSERS_REVISION of the code that read the best copy merged.",
    )
    is_demo = models.BooleanField(
        "demonstration data",
        default=False,
        help_text="Invented for the demo: never shown as real evidence.",
    )
    import_batch = models.ForeignKey(
        "literature.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="publications",
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="publications")
    notes = models.TextField("curator notes", blank=True)
    source_urls = models.JSONField(
        default=list, blank=True, help_text="Pages where the curated facts were read."
    )

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(
                Lower("doi"), condition=Q(doi__isnull=False), name="publication_doi_ci_unique"
            ),
            models.CheckConstraint(
                condition=Q(pmid__isnull=True) | ~Q(pmid=""), name="publication_pmid_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(doi__isnull=True) | ~Q(doi=""), name="publication_doi_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(pmcid__isnull=True) | ~Q(pmcid=""), name="publication_pmcid_not_blank"
            ),
        ]

    def __str__(self) -> str:
        first = self.first_author
        year = f" {self.year}" if self.year else ""
        title = self.display_title[:80]
        return f"{first}{year}: {title}" if first else f"{title}{year}"

    @property
    def display_title(self) -> str:
        """The title for admin lists: invisible formatting characters that reached the database
        by an import are shown as [U+XXXX], so a reversed or split title cannot pass unseen."""
        return reveal_invisible(self.title)

    def clean(self) -> None:
        self.title = strip_invisible(self.title)
        self.journal = strip_invisible(self.journal)
        if not self.title.strip():
            raise ValidationError({"title": "A publication needs a title."})
        for field in ("pmid", "doi", "pmcid"):
            if getattr(self, field) == "":
                setattr(self, field, None)
        if self.is_demo and self.pmid:
            raise ValidationError({"pmid": "Demonstration publications never carry a real PMID."})

    @property
    def first_author(self) -> str:
        if not self.authors:
            return ""
        author = self.authors[0]
        return author.get("collective_name") or author.get("last_name", "")

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""


class Passage(models.Model):
    """A passage an editor actually read in a publication: what it says and where it was read.

    A citation in an article points at passages, not only at the publication, so a reader (and
    the claim audit, articles/claim_audit.py) can see what the cited sentence rests on. A passage
    may also record what was *not* visible (``seen=False``, e.g. "adverse-effect section not
    visible"), and whether the figure is the authors' own or one they cite from elsewhere.
    """

    class Location(models.TextChoices):
        ABSTRACT = "abstract", "Abstract"
        SUMMARY = "summary", "Summary or key points"
        FULL_TEXT = "full_text", "Full-text section"
        PAGE = "page", "Page"
        TABLE = "table", "Table"
        LABEL = "label", "Prescribing information"
        METADATA = "metadata", "Bibliographic record only"

    class Attribution(models.TextChoices):
        OWN = "own", "The authors' own finding"
        CITED = "cited", "A figure the authors cite from elsewhere"

    publication = ParentalKey(Publication, on_delete=models.CASCADE, related_name="passages")
    key = models.SlugField(
        max_length=80, help_text="Short name, unique within the publication, e.g. 'headache'."
    )
    text = models.TextField(help_text="The excerpt, quoted or closely paraphrased.")
    location = models.CharField(max_length=20, choices=Location.choices)
    location_detail = models.CharField(
        max_length=200, blank=True, help_text='Where exactly, e.g. "Key points", "p. 452".'
    )
    attribution = models.CharField(
        max_length=10, choices=Attribution.choices, default=Attribution.OWN
    )
    seen = models.BooleanField(
        default=True,
        help_text="Unticked: this records that the part named was NOT visible in what was read.",
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["publication_id", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "key"], name="passage_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.publication_id}:{self.key}"

    @property
    def where(self) -> str:
        """Where it was read, for readers: "Abstract", "Full-text section: Results"."""
        label = self.get_location_display()
        return f"{label}: {self.location_detail}" if self.location_detail else label

    def clean(self) -> None:
        if not self.text.strip():
            raise ValidationError({"text": "A passage needs its text."})


class ReportedPatient(TimeStampedModel, ClusterableModel):
    """One patient as reported in one publication, for one topic."""

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Not reported"

    # The topic-defined fields (setting, lesion_depth, response, response_assessment,
    # status_at_last_follow_up) take their values from the topic's vocabulary
    # (evidence.vocabulary.vocabulary_for); clean() checks them, as every importer does.
    TOPIC_FIELDS = (
        "setting",
        "lesion_depth",
        "response",
        "response_assessment",
        "status_at_last_follow_up",
    )

    publication = ParentalKey(Publication, on_delete=models.CASCADE, related_name="patients")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="patients")
    label = models.CharField(
        max_length=100, help_text='How the report names the case, e.g. "Case 2" or "Patient 1".'
    )
    age = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Years.")
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    setting = models.CharField(max_length=VALUE_MAX_LENGTH, default=UNKNOWN)
    site = models.CharField(max_length=120, blank=True, help_text="e.g. scalp, nose, breast.")
    lesion_size_mm = models.PositiveIntegerField(
        "largest lesion (mm)", null=True, blank=True, help_text="Largest diameter in millimetres."
    )
    lesion_count = models.PositiveSmallIntegerField("number of lesions", null=True, blank=True)
    lesion_depth = models.CharField(max_length=VALUE_MAX_LENGTH, default=UNKNOWN)
    surgery_candidate = models.BooleanField(
        null=True, blank=True, help_text="Could the patient have surgery? Leave empty if unknown."
    )
    prior_treatments = ParentalManyToManyField(
        Treatment, blank=True, related_name="prior_for_patients"
    )
    concurrent_treatments = ParentalManyToManyField(
        Treatment, blank=True, related_name="concurrent_for_patients"
    )
    treatment_details = models.TextField(
        blank=True, help_text="Other treatments in the report's own words."
    )
    regimen_strength = models.CharField(
        max_length=50, blank=True, help_text='As reported, e.g. "5% cream". Never guess.'
    )
    regimen_frequency_per_week = models.DecimalField(
        "applications per week", max_digits=4, decimal_places=1, null=True, blank=True
    )
    regimen_duration_weeks = models.DecimalField(
        "treatment duration (weeks)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    occlusion = models.BooleanField(null=True, blank=True, help_text="Applied under a dressing?")
    response = models.CharField(max_length=VALUE_MAX_LENGTH, default=UNKNOWN)
    response_assessment = models.CharField(
        "response assessed by", max_length=VALUE_MAX_LENGTH, default=UNKNOWN
    )
    time_to_response_weeks = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True
    )
    follow_up_months = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    recurrence = models.BooleanField(null=True, blank=True)
    recurrence_months = models.DecimalField(
        "time to recurrence (months)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    treatment_stopped_early = models.BooleanField(null=True, blank=True)
    status_at_last_follow_up = models.CharField(max_length=VALUE_MAX_LENGTH, default=UNKNOWN)
    biomarkers = models.TextField(
        blank=True,
        help_text="Biomarkers measured (e.g. immunohistochemistry before and after), as reported.",
    )
    curator_notes = models.TextField(blank=True)
    verified = models.BooleanField(
        default=False, help_text="A second curator checked every fact against the source."
    )
    is_demo = models.BooleanField(
        "demonstration data",
        default=False,
        help_text="An invented, illustrative case: never presented as real evidence.",
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["publication_id", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "topic", "label"], name="patient_label_unique_per_report"
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__lte=120), name="patient_age_plausible"
            ),
            models.CheckConstraint(
                condition=Q(regimen_frequency_per_week__isnull=True)
                | (Q(regimen_frequency_per_week__gt=0) & Q(regimen_frequency_per_week__lte=21)),
                name="patient_frequency_plausible",
            ),
            models.CheckConstraint(
                condition=Q(recurrence_months__isnull=True) | Q(recurrence=True),
                name="patient_recurrence_time_needs_recurrence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} — {self.publication}"

    def clean(self) -> None:
        if self.publication_id and self.publication.is_demo != self.is_demo:
            raise ValidationError(
                {"is_demo": "A demonstration case belongs in a demonstration publication only."}
            )
        if self.recurrence_months is not None and self.recurrence is not True:
            raise ValidationError(
                {"recurrence_months": "Give a time to recurrence only when there was one."}
            )
        if self.topic_id is not None:
            errors = vocabulary_errors(
                vocabulary_for(self.topic),
                {name: getattr(self, name) for name in self.TOPIC_FIELDS},
                topic=self.topic,
            )
            if errors:
                raise ValidationError(errors)

    def vocabulary(self) -> Vocabulary:
        """The case vocabulary of this case's topic."""
        return vocabulary_for(self.topic)

    def get_topic_field_display(self, name: str) -> str:
        """The topic's label of a topic-defined field's value (the value itself if undefined)."""
        value = getattr(self, name)
        return self.vocabulary().labels_for(name).get(value, value)

    def get_absolute_url(self) -> str:
        return reverse("reportedpatient:edit", args=[self.pk])


class AdverseEvent(models.Model):
    """A side effect reported for one patient."""

    patient = ParentalKey(ReportedPatient, on_delete=models.CASCADE, related_name="adverse_events")
    kind = models.CharField(
        max_length=100, help_text='e.g. "local skin reaction", "flu-like symptoms".'
    )
    # A value of the patient's topic's vocabulary ("severities"), checked by clean().
    severity = models.CharField(max_length=VALUE_MAX_LENGTH, default=UNKNOWN)
    led_to_stop = models.BooleanField("treatment paused or stopped", null=True, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["patient_id", "kind"]

    def __str__(self) -> str:
        return f"{self.kind} ({self.get_severity_display()})"

    def topic_of_patient(self) -> Topic | None:
        """The patient's topic; None while the event has no patient or the patient no topic."""
        # An event in a form may hang on a patient that is not saved yet (no patient_id).
        if self.patient_id is None and not AdverseEvent.patient.is_cached(self):
            return None
        patient = self.patient
        return patient.topic if patient.topic_id is not None else None

    def get_severity_display(self) -> str:
        """The topic's label of the severity (the value itself when the topic lacks it)."""
        topic = self.topic_of_patient()
        labels = vocabulary_for(topic).labels_for("severity") if topic is not None else {}
        return labels.get(self.severity, self.severity)

    def clean(self) -> None:
        topic = self.topic_of_patient()
        if topic is not None:
            errors = vocabulary_errors(
                vocabulary_for(topic), {"severity": self.severity}, topic=topic
            )
            if errors:
                raise ValidationError(errors)


class SourceSpan(models.Model):
    """Where in the publication a fact about a patient was read."""

    patient = ParentalKey(ReportedPatient, on_delete=models.CASCADE, related_name="source_spans")
    field = models.CharField(
        max_length=50, help_text='The case field this supports, e.g. "response" or "age".'
    )
    section = models.CharField(max_length=100, blank=True, help_text='e.g. "Case report", "Fig 2".')
    quote = models.TextField(blank=True, help_text="The words of the report that state the fact.")
    page = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["patient_id", "field"]

    def __str__(self) -> str:
        return f"{self.field}: {self.section or self.page or 'source'}"

    def clean(self) -> None:
        if not (self.quote.strip() or self.section.strip() or self.page.strip()):
            raise ValidationError("Give a quote, a section or a page for the source.")
        case_fields = {f.name for f in ReportedPatient._meta.get_fields()}
        if self.field not in case_fields:
            raise ValidationError({"field": f"{self.field!r} is not a field of a reported case."})


class Appraisal(TimeStampedModel):
    """The JBI critical-appraisal checklist for case reports (8 items), one per publication."""

    class Answer(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        UNCLEAR = "unclear", "Unclear"
        NOT_APPLICABLE = "na", "Not applicable"

    ITEMS = (
        ("demographics", "Patient's demographic characteristics clearly described"),
        ("history", "Patient's history clearly described and presented as a timeline"),
        ("presentation", "Clinical condition at presentation clearly described"),
        ("diagnosis", "Diagnostic tests or assessment methods and results clearly described"),
        ("intervention", "Intervention or treatment procedure clearly described"),
        ("post_intervention", "Clinical condition after the intervention clearly described"),
        ("adverse_events", "Adverse or unanticipated events identified and described"),
        ("takeaway", "The report provides takeaway lessons"),
    )

    publication = models.OneToOneField(
        Publication, on_delete=models.CASCADE, related_name="appraisal"
    )
    demographics = models.CharField(
        ITEMS[0][1], max_length=8, choices=Answer.choices, default=Answer.UNCLEAR
    )
    history = models.CharField(
        ITEMS[1][1], max_length=8, choices=Answer.choices, default=Answer.UNCLEAR
    )
    presentation = models.CharField(
        ITEMS[2][1], max_length=8, choices=Answer.choices, default=Answer.UNCLEAR
    )
    diagnosis = models.CharField(
        ITEMS[3][1], max_length=8, choices=Answer.choices, default=Answer.UNCLEAR
    )
    intervention = models.CharField(
        ITEMS[4][1], max_length=8, choices=Answer.choices, default=Answer.UNCLEAR
    )
    post_intervention = models.CharField(
        ITEMS[5][1], max_length=8, choices=Answer.choices, default=Answer.UNCLEAR
    )
    adverse_events = models.CharField(
        ITEMS[6][1], max_length=8, choices=Answer.choices, default=Answer.UNCLEAR
    )
    takeaway = models.CharField(
        ITEMS[7][1], max_length=8, choices=Answer.choices, default=Answer.UNCLEAR
    )
    appraiser = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"JBI appraisal of {self.publication}"

    def answers(self) -> dict[str, str]:
        return {name: getattr(self, name) for name, _ in self.ITEMS}

    @property
    def yes_count(self) -> int:
        return sum(1 for value in self.answers().values() if value == self.Answer.YES)


class ResearchQuestion(models.Model):
    """An open question an editor adds to a topic, beyond the built-in research gaps.

    With a measure, the number of cases that inform it is computed from the case table.
    """

    class Measure(models.TextChoices):
        NONE = "", "Not computed from the cases"
        DOSE_FREQUENCY = "dose_frequency", "Dose and frequency reported"
        DURATION = "duration", "Treatment duration reported"
        OCCLUSION = "occlusion", "Occlusion reported"
        BIOPSY = "biopsy", "Response confirmed by biopsy"
        COMBINATION = "combination", "Given with radiation or chemotherapy"
        BIOMARKERS = "biomarkers", "Biomarkers reported"
        LONG_TERM = "long_term", "Follow-up beyond 12 months"

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="research_questions")
    question = models.CharField(max_length=300)
    measure = models.CharField(max_length=30, choices=Measure.choices, blank=True)
    note = models.TextField(blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["topic", "sort_order", "pk"]

    def __str__(self) -> str:
        return self.question


class EvidenceFact(models.Model):
    """A fact read in one publication about a topic's treatment: how it works, or a side effect
    and how often it happens. Plain-language summaries quote the statement and cite the source.

    Every number in the statement must be one of the fact's value, count or denominator, so a
    summary never shows a number that is not stored with its source.
    """

    class Kind(models.TextChoices):
        MECHANISM = "mechanism", "How the treatment works"
        COMMON = "common", "Common side effect"
        UNCOMMON = "uncommon", "Uncommon side effect"
        SERIOUS = "serious", "Rare but serious side effect"

    class Unit(models.TextChoices):
        NONE = "", "No number"
        PERCENT = "percent", "Percent of people"
        PEOPLE = "people", "Number of people"
        CASES = "cases", "Number of reported cases"

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="facts")
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="facts")
    key = models.SlugField(max_length=100, help_text="A short name, unique within the topic.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    statement = models.TextField(
        help_text="Plain words shown to readers, e.g. “In a study of more than 800 people, "
        "6.0% had a headache.” Only the numbers given below may appear in it."
    )
    value = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=10, choices=Unit.choices, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True, help_text="e.g. 35 (of 215).")
    denominator = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many people the value refers to, as the source says."
    )
    quote = models.TextField(blank=True, help_text="The words of the source that state the fact.")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["topic", "kind", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "key"], name="fact_key_unique_per_topic"),
            models.CheckConstraint(
                condition=Q(count__isnull=True)
                | Q(denominator__isnull=True)
                | Q(count__lte=models.F("denominator")),
                name="fact_count_within_denominator",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.statement[:80]}"

    def clean(self) -> None:
        if not self.statement.strip():
            raise ValidationError({"statement": "A fact needs a statement."})
        if self.value is not None and not self.unit:
            raise ValidationError({"unit": "Say what the value counts."})
        if self.unit == self.Unit.PERCENT and self.value is not None and self.value > 100:
            raise ValidationError({"value": "A percentage cannot be above 100."})
        stored = {Decimal(v) for v in (self.value, self.count, self.denominator) if v is not None}
        untraced = [
            n for n in re.findall(r"\d+(?:\.\d+)?", self.statement) if Decimal(n) not in stored
        ]
        if untraced:
            raise ValidationError(
                {
                    "statement": f"The number(s) {', '.join(untraced)} are not the fact's value, "
                    "count or denominator; store every number in the statement."
                }
            )


class SafetyRuleSet(models.Model):
    """One version of a topic's safety rules (issue #15 §2): reviewed data, not code.

    `rules` is a list in the shape of the topic definition schema's `safety_rule`
    (evidence/safety_rules.py checks it). A version starts as a draft, which Summary editors
    may edit; only a clinician reviewer approves it (evidence.rulesets). Approving retires the
    approved version before it: at most one draft and one approved version per topic, and only
    the approved one is used when summaries are drafted. Approved and retired versions never
    change. `is_demo` marks a version approved by the demo loader, not by a clinician.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        RETIRED = "retired", "Retired"

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="safety_rule_sets")
    version = models.PositiveIntegerField()
    rules = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.TextField(blank=True, help_text="What changed and why.")
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["topic", "-version"]
        permissions = [
            ("approve_safetyruleset", "Can approve a topic's safety rules as the clinician")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "version"], name="safety_rules_version_unique"
            ),
            models.UniqueConstraint(
                fields=["topic"],
                condition=Q(status="approved"),
                name="safety_rules_one_approved_per_topic",
            ),
            models.UniqueConstraint(
                fields=["topic"],
                condition=Q(status="draft"),
                name="safety_rules_one_draft_per_topic",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_at__isnull=False),
                name="safety_rules_approved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} safety rules, version {self.version} ({self.get_status_display()})"

    def clean(self) -> None:
        from .safety_rules import check_rules
        from .topic_definition import definition_for

        # Choice answers are checked against the topic's own questionnaire once it has one.
        stored = getattr(self.topic, "definition", None)
        questionnaire = definition_for(self.topic).data["questionnaire"] if stored else ()
        problems = check_rules(self.rules, questionnaire, source="rules")
        if problems:
            raise ValidationError({"rules": problems})


class EvidenceSnapshot(models.Model):
    """The evidence of a topic as a clinician reviewed it: immutable once stored.

    Holds the inputs of the topic's report (every case as plain data with its id and version,
    the appraisal rows, the editors' questions), the headline numbers as computed then, the
    evidence date, who reviewed it and when. `evidence.snapshots` rebuilds the report from it;
    the articles app links page revisions to snapshots (this model knows nothing of pages).
    """

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="snapshots")
    taken_at = models.DateTimeField(help_text="When the clinician approved this evidence.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField(max_length=150)
    evidence_date = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    cases = models.JSONField(
        default=list, blank=True, help_text="Each case: id, version and plain data."
    )
    appraisals = models.JSONField(default=list, blank=True)
    questions = models.JSONField(default=list, blank=True)
    numbers = models.JSONField(default=dict, help_text="The headline numbers as computed then.")

    class Meta:
        ordering = ["-taken_at", "-pk"]
        get_latest_by = ["taken_at", "pk"]

    def __str__(self) -> str:
        return f"{self.topic} as reviewed by {self.reviewer_name} on {self.taken_at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # What a clinician approved is a record: it is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise ValidationError("An evidence snapshot cannot be changed once stored.")
        super().save(*args, **kwargs)
