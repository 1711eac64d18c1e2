"""Admin forms for the evidence base: lists edited one item per line, identifiers normalised."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from wagtail.admin.forms import WagtailAdminModelForm

from evidencepress.core.identifiers import normalise_doi, normalise_pmid, normalise_title

# "Smith JA" (Vancouver style): a surname followed by up to four capital initials.
_VANCOUVER = re.compile(r"^(?P<last>.+?)\s+(?P<initials>[A-Z]{1,4})$")


def initials_of(fore_name: str) -> str:
    """Return the initials of a fore name, e.g. "Jean-Paul Anne" -> "JPA"."""
    return "".join(part[0].upper() for part in re.split(r"[\s\-.]+", fore_name) if part)


def author_to_line(author: dict[str, str]) -> str:
    """Render one stored author as the line an editor sees: "Last, Fore" or a group name."""
    if author.get("collective_name"):
        return author["collective_name"]
    last = author.get("last_name", "")
    first = author.get("fore_name") or author.get("initials", "")
    return f"{last}, {first}" if first else last


def author_from_line(line: str) -> dict[str, str]:
    """Read one typed author: "Last, Fore names", "Last AB" (Vancouver) or a group name."""
    text = " ".join(line.split())
    if "," in text:
        last, _, fore = text.partition(",")
        fore = fore.strip()
        return {
            "last_name": last.strip(),
            "fore_name": fore,
            "initials": initials_of(fore),
            "collective_name": "",
        }
    match = _VANCOUVER.match(text)
    if match:
        return {
            "last_name": match["last"],
            "fore_name": "",
            "initials": match["initials"],
            "collective_name": "",
        }
    return {"last_name": "", "fore_name": "", "initials": "", "collective_name": text}


class LinesField(forms.Field):
    """A list of strings edited as a textarea, one item per line; blank lines are dropped."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return "" if value is None else str(value)

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value if str(item).strip()]
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial) != self.to_python(data)


class AuthorsField(LinesField):
    """Authors in citation order, one per line, stored as the importer's author dicts."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            return "\n".join(
                author_to_line(item) if isinstance(item, dict) else str(item) for item in value
            )
        return super().prepare_value(value)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.prepare_value(initial) != self.prepare_value(self.to_python(data))


class PublicationForm(WagtailAdminModelForm):
    """Publication edit form: normalises PMID and DOI, keeps the title key for dedupe in step."""

    # Longer than the stored 12 digits so that a pasted "PMID: 31415926" reaches clean_pmid.
    pmid = forms.CharField(
        label="PMID",
        required=False,
        max_length=40,
        help_text='Digits only, or paste "PMID: 31415926". Never on demonstration data.',
    )
    authors = AuthorsField(
        required=False,
        help_text='One author per line, in citation order: "Smith, Jane A", "Smith JA", '
        "or a group name.",
    )
    publication_types = LinesField(required=False, help_text="One per line.")
    mesh_terms = LinesField(label="MeSH terms", required=False, help_text="One per line.")
    keywords = LinesField(required=False, help_text="One per line.")
    source_urls = LinesField(
        label="Source URLs",
        required=False,
        help_text="Pages where the curated facts were read, one address per line.",
    )

    def clean_pmid(self) -> str | None:
        value = self.cleaned_data.get("pmid")
        if not value:
            return None
        pmid = normalise_pmid(value.removeprefix("PMID:").strip())
        if pmid is None:
            raise forms.ValidationError("A PMID is a number, e.g. 31415926.")
        return pmid

    def clean_doi(self) -> str | None:
        value = self.cleaned_data.get("doi")
        if not value:
            return None
        doi = normalise_doi(value)
        if doi is None:
            raise forms.ValidationError('A DOI looks like "10.1001/jamadermatol.2019.1234".')
        return doi

    def clean_pmcid(self) -> str | None:
        value = (self.cleaned_data.get("pmcid") or "").strip().upper()
        if not value:
            return None
        return value if value.startswith("PMC") else f"PMC{value}"

    def clean_authors(self) -> list[dict[str, str]]:
        # Lines the editor did not touch keep their stored dict, so fore names and initials from
        # an import survive an unrelated edit of the publication.
        stored = {
            author_to_line(a): a for a in (self.instance.authors or []) if isinstance(a, dict)
        }
        lines = self.cleaned_data.get("authors") or []
        return [stored.get(line) or author_from_line(line) for line in lines]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        patients = self.formsets.get("patients")
        if patients is not None and "is_demo" in cleaned:
            seen: set[tuple[Any, str]] = set()
            for form in patients.forms:
                if not form.is_valid() or form.cleaned_data.get("DELETE"):
                    continue
                if form.cleaned_data.get("is_demo") != cleaned["is_demo"]:
                    form.add_error(
                        "is_demo",
                        "A case is demonstration data exactly when its publication is.",
                    )
                # The publication is not a field of the inline forms, so Django's unique check
                # cannot see this constraint (patient_label_unique_per_report) before saving.
                key = (form.cleaned_data.get("topic"), form.cleaned_data.get("label", "").strip())
                if key in seen:
                    form.add_error("label", "Another case of this topic here has this label.")
                seen.add(key)
        return cleaned

    def save(self, commit: bool = True) -> Any:
        self.instance.title_normalized = normalise_title(self.instance.title)[:500]
        return super().save(commit=commit)


def case_field_choices() -> list[tuple[str, str]]:
    """Choices for SourceSpan.field: every editable fact of a reported case."""
    from .models import ReportedPatient

    skip = {"id", "publication", "curator_notes", "verified", "is_demo"}
    return [("", "---------")] + [
        (field.name, str(field.verbose_name).capitalize())
        for field in ReportedPatient._meta.get_fields()
        if getattr(field, "concrete", False)
        and getattr(field, "editable", False)
        and field.name not in skip
    ]


class SummaryFilterForm(forms.Form):
    """Optional filters on the cases behind a topic's evidence summary (a GET form)."""

    CASES = (("all", "All cases, including demonstration data"), ("real", "Real cases only"))

    cases = forms.ChoiceField(choices=CASES, required=False, initial="all")
    setting = forms.ChoiceField(required=False)
    lesion_depth = forms.ChoiceField(required=False)
    surgery_candidate = forms.NullBooleanField(
        required=False,
        widget=forms.Select(choices=(("", "Any"), ("true", "Yes"), ("false", "No"))),
    )
    site = forms.CharField(required=False, max_length=120)

    def __init__(self, *args: Any, topic: Any = None, **kwargs: Any) -> None:
        from .vocabulary import vocabulary_for

        super().__init__(*args, **kwargs)
        vocabulary = vocabulary_for(topic)
        any_choice = [("", "Any")]
        for name in ("setting", "lesion_depth"):
            self.fields[name].choices = any_choice + vocabulary.choices(vocabulary.terms_for(name))
            self.fields[name].label = vocabulary.field_label(name, self.fields[name].label or "")

    def case_filters(self) -> Any:
        """The cleaned filters as topic_reports.CaseFilters (call after is_valid())."""
        from .topic_reports import CaseFilters

        data = self.cleaned_data
        return CaseFilters(
            setting=data.get("setting") or None,
            site=(data.get("site") or "").strip() or None,
            lesion_depth=data.get("lesion_depth") or None,
            surgery_candidate=data.get("surgery_candidate"),
            include_demo=data.get("cases") != "real",
        )


def topic_value_choices(field_name: str, topic: Any, current: str = "") -> list[tuple[str, str]]:
    """(value, label) choices of a topic-defined case field: the topic's own vocabulary, or,
    when the topic is not known yet (a new case), the values of every topic (the model's clean()
    then checks the value against the topic chosen). A stored value the vocabulary lacks is
    kept, marked, so that an editor sees it rather than a silently different choice."""
    from .models import Topic
    from .vocabulary import vocabulary_for

    if topic is not None:
        choices = vocabulary_for(topic).choices(vocabulary_for(topic).terms_for(field_name))
    else:
        labels: dict[str, list[str]] = {}
        for each in Topic.objects.only("pk", "definition") or [None]:
            for term in vocabulary_for(each).terms_for(field_name):
                seen = labels.setdefault(term.value, [])
                if term.label not in seen:
                    seen.append(term.label)
        choices = [(value, " / ".join(names)) for value, names in labels.items()]
    if current and current not in {value for value, _ in choices}:
        choices.append((current, f"{current} (not a value of this topic)"))
    return choices


class VocabularySelect(forms.Select):
    """A select of a topic-defined case field ("setting", ..., "severity") whose options are
    read when it is drawn: the `topic`'s vocabulary once `use_topic_vocabulary` has set it."""

    def __init__(self, field_name: str, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.field_name = field_name
        self.topic: Any = None

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        self.choices = topic_value_choices(self.field_name, self.topic, current=value or "")
        return super().get_context(name, value, attrs)


def use_topic_vocabulary(form: Any) -> None:
    """Give the vocabulary selects of a case form (and of its nested adverse-event and case
    forms) the choices of the case's topic, when the case has one."""
    from .models import AdverseEvent, ReportedPatient

    instance = getattr(form, "instance", None)
    topic = None
    if isinstance(instance, ReportedPatient) and instance.topic_id is not None:
        topic = instance.topic
    elif isinstance(instance, AdverseEvent):
        topic = instance.topic_of_patient()
    if topic is not None:
        for field in form.fields.values():
            if isinstance(field.widget, VocabularySelect):
                field.widget.topic = topic
    for formset in getattr(form, "formsets", {}).values():
        for child in formset.forms:
            use_topic_vocabulary(child)


class TopicDefinitionForm(forms.Form):
    """A topic's definition, edited as text or uploaded as a file (docs/topic-definition.md)."""

    MAX_UPLOAD_BYTES = 1_000_000

    definition = forms.CharField(
        label="Definition (JSON or YAML)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "w-font-mono"}),
        help_text="Edit and save: it is checked exactly as manage.py load_topic checks a file.",
    )
    upload = forms.FileField(
        label="Or upload a definition file",
        required=False,
        help_text="A .json, .yaml or .yml file; it replaces the text above.",
    )
    note = forms.CharField(
        label="Why this change", max_length=300, required=False, help_text="Kept with the version."
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("upload")
        if upload is not None:
            if upload.size > self.MAX_UPLOAD_BYTES:
                self.add_error("upload", f"{upload.name}: larger than 1 MB.")
                return cleaned
            try:
                cleaned["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("upload", f"{upload.name}: not UTF-8 text.")
                return cleaned
            cleaned["source"] = upload.name
        else:
            cleaned["text"] = cleaned.get("definition", "")
            cleaned["source"] = "definition"
        if not cleaned["text"].strip():
            self.add_error("definition", "Give the definition, or upload a file.")
        return cleaned
