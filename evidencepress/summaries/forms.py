"""The public request form: plain words, every field optional except email and consent.

The field list is approved in docs/dpia.md (a test compares them): adding a field needs a
data-protection review first.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from evidencepress.core.text import strip_invisible
from evidencepress.evidence.models import Topic, Treatment
from evidencepress.evidence.topic_definition import Question, definition_for
from evidencepress.evidence.vocabulary import UNKNOWN, UNSURE

CONSENT_VERSION = "2026-11-1"
HONEYPOT_FIELD = "website"

SURGERY_CHOICES = [("yes", "Yes"), ("no", "No"), ("unsure", "Not sure")]
DETAIL_CHOICES = [
    ("short", "Short: the main points on one page"),
    ("detailed", "Detailed: more about the reported cases and the evidence"),
]


# Domains that never reach a reader's mailbox from the internet (RFC 6761, RFC 6762, RFC 8375).
PRIVATE_MAIL_DOMAINS = ("localhost", "local", "internal", "invalid", "home.arpa")
UNDELIVERABLE = (
    "We can only send to an ordinary email address on the internet, like name@example.com. "
    "Check the part after the @."
)


# RFC 6531 lets the part before the @ hold letters such as ë, but Django's mail backend cannot
# send to it: it writes such a name as an RFC 2047 encoded word, which no mail server reads as
# that mailbox (django.core.mail.message.sanitize_address). Internationalised domains are fine:
# they are sent as punycode.
UNSENDABLE_LOCAL_PART = (
    "We cannot yet send email to an address with letters such as ë or ü before the @. "
    "If you have another email address, please write that one."
)


class ReaderEmailField(forms.EmailField):
    """An email field that explains, in plain words, the one kind of address we cannot send to."""

    def validate(self, value: Any) -> None:
        local_part, at, _domain = str(value or "").rpartition("@")
        if at and local_part and not local_part.isascii():
            raise forms.ValidationError(UNSENDABLE_LOCAL_PART, code="unsendable_local_part")
        super().validate(value)


def is_public_mail_domain(domain: str) -> bool:
    """False for address literals (`[127.0.0.1]`), dotless names and private-use domains."""
    name = domain.strip().rstrip(".").casefold()
    if not name or name.startswith("[") or "." not in name:
        return False
    return not any(
        name == private or name.endswith(f".{private}") for private in PRIVATE_MAIL_DOMAINS
    )


def consent_sentence() -> str:
    days = settings.SUMMARIES_RETENTION_DAYS
    return (
        "I agree that EvidencePress stores my answers and email address, encrypted, so that "
        "our summary editors and a clinician can read them to write my summary, and that "
        f"they are deleted {days} days after the summary is sent or declined."
    )


FOR_WHOM_CHOICES = [("self", "Myself"), ("other", "Someone I care for")]
# Limits and plain errors of the questionnaire's number questions, by key.
NUMBER_LIMITS: dict[str, tuple[int, int, dict[str, str]]] = {
    "lesion_size_mm": (
        1,
        500,
        {
            "invalid": "Write the size as a whole number of millimetres, like 15.",
            "min_value": "The size must be at least 1 millimetre.",
            "max_value": "That is more than 50 centimetres. Check the number, or leave it empty.",
        },
    ),
    "lesion_count": (
        1,
        200,
        {
            "invalid": "Write the number as a whole number, like 3.",
            "min_value": "Write at least 1, or leave it empty.",
            "max_value": "Write a number up to 200, or leave it empty.",
        },
    ),
}
NOT_SURE_VALUES = (UNSURE, UNKNOWN)


def questionnaire_for(topic: Topic | None) -> tuple[Question, ...]:
    """The topic's own questions (its definition's questionnaire), in its order."""
    if topic is None:
        return ()
    return definition_for(topic).questionnaire


def question_field(question: Question) -> forms.Field:
    """The form field that asks one of a topic's questions, in plain words."""
    common: dict[str, Any] = {"label": question.label, "help_text": question.help_text}
    if question.kind == "choice":
        choices = [(option.value, option.label) for option in question.options]
        not_sure = next((v for v, _ in choices if v in NOT_SURE_VALUES), None)
        return forms.ChoiceField(
            choices=choices,
            initial=not_sure,
            required=question.required or not_sure is not None,
            widget=forms.RadioSelect,
            error_messages={
                "required": "Choose one answer, or “Not sure”." if not_sure else "Choose one.",
                "invalid_choice": "Choose one of the answers shown.",
            },
            **common,
        )
    if question.kind == "yes_no":
        return forms.ChoiceField(
            choices=SURGERY_CHOICES,
            initial=UNSURE,
            widget=forms.RadioSelect,
            error_messages={"required": "Choose one answer, or “Not sure”."},
            **common,
        )
    if question.kind == "number":
        low, high, messages = NUMBER_LIMITS.get(
            question.key,
            (0, 10_000, {"invalid": "Write a whole number, like 3, or leave it empty."}),
        )
        return forms.IntegerField(
            required=question.required,
            min_value=low,
            max_value=high,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            error_messages=messages,
            **common,
        )
    return forms.CharField(required=question.required, max_length=100, **common)


class SummaryRequestForm(forms.Form):
    """The request form: the topic's own questions (its questionnaire), then the same for all.

    The topic is chosen first (`topic=` or, when bound, the posted topic) and decides which
    questions are asked; they are inserted after "Who is this summary for?".
    """

    topic = forms.ModelChoiceField(
        label="Which treatment and condition is your question about?",
        queryset=Topic.objects.all(),
        to_field_name="slug",
        empty_label=None,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Choose one of the topics in the list."},
    )
    for_whom = forms.ChoiceField(
        label="Who is this summary for?",
        help_text="If it is for someone you care for, answer every question for them.",
        choices=FOR_WHOM_CHOICES,
        initial="self",
        required=False,  # "Myself" is chosen until the reader changes it
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose “Myself” or “Someone I care for”."},
    )
    prior_treatments = forms.MultipleChoiceField(
        label="Treatments you have had before",
        help_text="Tick all that apply.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose treatments from the list only."},
    )
    prior_treatments_other = forms.CharField(
        label="Other treatments you have had (optional)",
        required=False,
        max_length=300,
    )
    current_treatments = forms.MultipleChoiceField(
        label="Treatments you are having now",
        help_text="Tick all that apply.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose treatments from the list only."},
    )
    current_treatments_other = forms.CharField(
        label="Other treatments you are having now (optional)",
        required=False,
        max_length=300,
    )
    question = forms.CharField(
        label="What would you most like to know?",
        help_text="In your own words. Please do not include your name or other people’s names.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    detail = forms.ChoiceField(
        label="How much detail would you like?",
        choices=DETAIL_CHOICES,
        initial="short",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose short or detailed."},
    )
    email = ReaderEmailField(
        label="Your email address",
        help_text="We send the summary here. We use it for nothing else.",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Write your email address, so that we can send you the summary.",
            "invalid": "Write an email address like name@example.com.",
        },
    )
    consent = forms.BooleanField(
        label="I agree",
        error_messages={
            "required": "Tick this box to agree, or we cannot write your summary.",
        },
    )
    # Honeypot: hidden from people by CSS and from screen readers; bots fill it in.
    website = forms.CharField(label="Leave this empty", required=False, max_length=200)

    def __init__(self, *args: Any, topic: Topic | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chosen_topic = self._choose_topic(topic)
        if self.chosen_topic is not None and not self.is_bound:
            self.initial["topic"] = self.chosen_topic.slug
        self.questions = questionnaire_for(self.chosen_topic)
        fields = list(self.fields.items())
        at = [name for name, _ in fields].index("for_whom") + 1
        asked = [(q.key, question_field(q)) for q in self.questions]
        self.fields = dict(fields[:at] + asked + fields[at:])
        treatments = [(t.slug, t.name) for t in Treatment.objects.order_by("name")]
        self.fields["prior_treatments"].choices = treatments  # type: ignore[attr-defined]
        self.fields["current_treatments"].choices = treatments  # type: ignore[attr-defined]
        self.fields["consent"].help_text = consent_sentence()
        self.fields[HONEYPOT_FIELD].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self._describe_fields()

    def _choose_topic(self, topic: Topic | None) -> Topic | None:
        """The posted topic when bound (`topic` if it is that one); else `topic`, or the first
        topic by name that has its own definition (else the first topic)."""
        if self.is_bound:
            slug = self.data.get("topic")
            if topic is not None and topic.slug == slug:
                return topic
            return Topic.objects.filter(slug=slug).first() if isinstance(slug, str) else None
        if topic is not None:
            return topic
        topics = list(Topic.objects.order_by("name"))
        # A topic with its own definition asks its own questions: offer that one first.
        return next((t for t in topics if t.definition), topics[0] if topics else None)

    @property
    def question_fields(self) -> list[forms.BoundField]:
        """The topic's questions, as bound fields in the questionnaire's order."""
        return [self[question.key] for question in self.questions]

    def _describe_fields(self) -> None:
        """Point each input at its hint and error text (aria-describedby) for screen readers."""
        for name, field in self.fields.items():
            bound = self[name]
            described = []
            if field.help_text:
                described.append(f"{bound.auto_id}_hint")
            if self.is_bound and self._errors is not None and name in self._errors:
                described.append(f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)

    def full_clean(self) -> None:
        super().full_clean()
        self._describe_fields()

    def clean_for_whom(self) -> str:
        return str(self.cleaned_data.get("for_whom") or "self")

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        if not is_public_mail_domain(email.rpartition("@")[2]):
            raise forms.ValidationError(UNDELIVERABLE, code="undeliverable")
        return email

    @property
    def is_spam(self) -> bool:
        """True when the honeypot was filled in (call after is_valid())."""
        return bool(self.cleaned_data.get(HONEYPOT_FIELD, "").strip())

    def situation(self) -> dict[str, Any]:
        """The answers about the reader's illness, as stored (encrypted) with the request."""
        data = self.cleaned_data
        answers: dict[str, Any] = {"for_whom": data["for_whom"]}
        for question in self.questions:
            value = data[question.key]
            answers[question.key] = (
                strip_invisible(value).strip() if isinstance(value, str) else value
            )
        answers.update(
            prior_treatments=sorted(data["prior_treatments"]),
            prior_treatments_other=strip_invisible(data["prior_treatments_other"]).strip(),
            current_treatments=sorted(data["current_treatments"]),
            current_treatments_other=strip_invisible(data["current_treatments_other"]).strip(),
            question=strip_invisible(data["question"]).strip(),
        )
        return answers
