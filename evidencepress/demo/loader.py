"""Load and remove the demo content: real references, illustrative cases and the site root.

The data lives in `data/` as JSON in the project's own format:

- `publications.json`: real publications, with only the facts read in their `source_urls`;
- `illustrative_cases.json`: one demonstration publication with invented cases (`is_demo`);
- `safety_cases.json`: the cases of the side-effects topic: patients of real case reports (only
  the facts read in a stored public copy, each with its source span; shared rows, never
  overwritten) and invented ones added to the demonstration publication;
- `topics/*.json`: the demo topics' definitions (vocabulary, questionnaire, wording...), applied
  through `evidence.topics.apply_definition` before anything else, so cases are checked
  against their topic's vocabulary. A definition an editor has changed since (a version not
  recorded by this loader or by the migration) is left as it is;
- `topics.json`, `treatments.json`: the demo topics (those without a definition file get the
  neutral default) and the treatment vocabulary.
- `facts.json`: sourced facts about the treatment (how it works, side effects and how often),
  each tied to a real publication; kept by `remove_demo` like the publications they cite.

Loading is idempotent. Rows the demo owns (demonstration publications and cases) are brought
exactly in line with the files. Shared rows (real publications, topics, treatments) are created
when missing and have empty fields filled, but a value an editor has set is never overwritten,
so `make run` (which loads the demo every time) never undoes curation.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, router, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from evidencepress.articles.models import HomePage
from evidencepress.core.roles import ensure_roles
from evidencepress.evidence.models import (
    AdverseEvent,
    Appraisal,
    EvidenceFact,
    EvidenceSnapshot,
    Passage,
    Publication,
    ReportedPatient,
    SourceSpan,
    Topic,
    TopicVersion,
    Treatment,
)
from evidencepress.evidence.topic_definition import read_definition
from evidencepress.evidence.topics import LEGACY_NOTE, load_definition_text
from evidencepress.literature.models import ImportBatch
from evidencepress.literature.records import normalise_doi, normalise_pmid, normalise_title

from .safety_rules import load_demo_safety_rules, remove_demo_safety_rules

DATA_DIR = Path(__file__).resolve().parent / "data"
TOPICS_DIR = DATA_DIR / "topics"
DEFINITION_NOTE = "Demo definition file"
DEMO_TOPIC_SLUG = "imiquimod-angiosarcoma"
BATCH_SOURCE = "evidencepress/demo/data"

# Keys in the data files that are not model fields: where a record came from and what role it
# plays in the demo. Everything else must be a field name of the model it is loaded into.
PUBLICATION_META_KEYS = frozenset(
    {
        "key",  # the record's id in the shared evidence file
        "shared_topic",  # the record's "topic" (its role) in the shared evidence file
        "roles",  # mechanism, safety, related_vascular_tumour, angiosarcoma_background
        "confidence",  # the curator's confidence in the record, copied into the notes
        "key_findings",  # facts read in the source, copied into the notes
        "reported_cases",  # patients described in the source (other conditions; not loaded)
        "untitled_label",  # shown as the title when the real title was not seen
        "passages",  # what was read in it, and where (loaded as evidence.Passage rows)
    }
)
CASE_CHILD_KEYS = frozenset({"adverse_events", "source_spans"})
PUBLICATION_M2M = ("topics",)
CASE_M2M = ("prior_treatments", "concurrent_treatments")


@dataclass
class _Tally:
    counts: Counter[str]

    def created(self, kind: str) -> None:
        self.counts[f"{kind}_created"] += 1

    def updated(self, kind: str) -> None:
        self.counts[f"{kind}_updated"] += 1


def _read(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def read_data() -> dict[str, Any]:
    """The demo data files, parsed."""
    return {
        "topics": _read("topics.json"),
        "treatments": _read("treatments.json"),
        "publications": _read("publications.json"),
        "illustrative": _read("illustrative_cases.json"),
        "facts": _read("facts.json"),
        "safety_cases": _read("safety_cases.json"),
    }


def _field_value(model: type[models.Model], name: str, value: Any) -> Any:
    """A data-file value as the model stores it: null becomes the field's empty value."""
    field = model._meta.get_field(name)
    if value is None and not field.null:
        return field.get_default()
    if isinstance(field, models.DecimalField) and value is not None:
        return Decimal(str(value))
    return value


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _apply(obj: models.Model, values: dict[str, Any], *, overwrite: bool) -> bool:
    """Set values on obj; with overwrite=False only empty fields are filled. True if changed."""
    changed = False
    for name, value in values.items():
        current = getattr(obj, name)
        if current == value or (not overwrite and not _is_empty(current)):
            continue
        setattr(obj, name, value)
        changed = True
    return changed


def _save(obj: models.Model) -> None:
    obj.full_clean()
    obj.save()


# --- topics and treatments -------------------------------------------------------------------


def definition_files() -> list[Path]:
    """The demo topics' definition files, in name order."""
    return sorted(TOPICS_DIR.glob("*.json"))


def _curated(topic: Topic) -> bool:
    """True when the topic's definition was last changed by someone, not by the demo or the
    migration (its latest version's note says who recorded it)."""
    latest = topic.versions.order_by("-number").values_list("note", flat=True).first()
    return latest is not None and not (latest == LEGACY_NOTE or latest.startswith(DEFINITION_NOTE))


def _load_definitions(tally: _Tally) -> None:
    for path in definition_files():
        text = path.read_text(encoding="utf-8")
        source = f"demo/data/topics/{path.name}"
        slug = read_definition(text, source=source).slug
        topic = Topic.objects.filter(slug=slug).first()
        if topic is not None and _curated(topic):
            continue
        existed = topic is not None
        _, version = load_definition_text(
            text, source=source, note=f"{DEFINITION_NOTE} {path.name}"
        )
        if version is not None:
            tally.created("topic_versions")
        if not existed:
            tally.created("topics")


def _load_topics(records: list[dict[str, Any]], tally: _Tally) -> dict[str, Topic]:
    topics = {}
    for record in records:
        values = {k: _field_value(Topic, k, v) for k, v in record.items() if k != "slug"}
        topic = Topic.objects.filter(slug=record["slug"]).first()
        if topic is None:
            topic = Topic(slug=record["slug"], **values)
            _save(topic)
            tally.created("topics")
        elif _apply(topic, values, overwrite=False):
            _save(topic)
            tally.updated("topics")
        topics[topic.slug] = topic
    return topics


def _load_treatments(records: list[dict[str, Any]], tally: _Tally) -> dict[str, Treatment]:
    treatments = {}
    for record in records:
        values = {k: v for k, v in record.items() if k != "slug"}
        treatment = Treatment.objects.filter(slug=record["slug"]).first()
        if treatment is None:
            treatment = Treatment(slug=record["slug"], **values)
            _save(treatment)
            tally.created("treatments")
        elif _apply(treatment, values, overwrite=False):
            _save(treatment)
            tally.updated("treatments")
        treatments[treatment.slug] = treatment
    return treatments


# --- publications ----------------------------------------------------------------------------


def publication_values(record: dict[str, Any]) -> dict[str, Any]:
    """The Publication field values for one record of a data file (without its topics)."""
    values: dict[str, Any] = {}
    for key, raw in record.items():
        if key in PUBLICATION_META_KEYS or key in PUBLICATION_M2M:
            continue
        values[key] = _field_value(Publication, key, raw)
    values["pmid"] = normalise_pmid(values.get("pmid"))
    values["doi"] = normalise_doi(values.get("doi"))
    values["pmcid"] = values.get("pmcid") or None
    if not values.get("title"):
        values["title"] = record["untitled_label"]
    values["title_normalized"] = normalise_title(values["title"])[:500]
    if not values.get("is_demo"):
        values["notes"] = _real_notes(record)
    return values


def _real_notes(record: dict[str, Any]) -> str:
    parts = []
    if record.get("notes"):
        parts.append(record["notes"])
    if record.get("untitled_label"):
        parts.append(
            "The real title was not seen: pages show the curators' description instead, and "
            "references leave the title out."
        )
    if record.get("confidence"):
        parts.append(f"Confidence in this curated record: {record['confidence']}.")
    if record.get("key_findings"):
        findings = "\n".join(f"- {finding}" for finding in record["key_findings"])
        parts.append(f"Facts read in the source:\n{findings}")
    if record.get("reported_cases"):
        n = len(record["reported_cases"])
        parts.append(
            f"The source describes {n} patient(s) treated for other conditions; they are not "
            "entered as angiosarcoma cases (the side-effects topic holds those with a reaction)."
        )
    return "\n\n".join(parts)


def _find_publication(values: dict[str, Any]) -> Publication | None:
    """Match on PMID, then DOI, then normalised title (the importer's order)."""
    qs = Publication.objects.all()
    if values["pmid"] and (found := qs.filter(pmid=values["pmid"]).first()):
        return found
    if values["doi"] and (found := qs.filter(doi__iexact=values["doi"]).first()):
        return found
    return qs.filter(
        title_normalized=values["title_normalized"], is_demo=values.get("is_demo", False)
    ).first()


def _load_publication(
    record: dict[str, Any],
    topics: dict[str, Topic],
    batch: ImportBatch,
    tally: _Tally,
    *,
    owned: bool,
) -> Publication:
    values = publication_values(record)
    publication = _find_publication(values)
    if publication is None:
        publication = Publication(import_batch=batch, **values)
        _save(publication)
        tally.created("publications")
    elif _apply(publication, values, overwrite=owned):
        _save(publication)
        tally.updated("publications")
    wanted = {topics[slug] for slug in record.get("topics", [])}
    missing = wanted - set(publication.topics.all())
    if missing:
        publication.topics.add(*missing)
    _load_passages(publication, record.get("passages", []), tally)
    return publication


def _load_passages(publication: Publication, records: list[dict[str, Any]], tally: _Tally) -> None:
    """Create the passages the file lists that the publication lacks (matched on `key`); a
    passage an editor has since changed is left as it is."""
    have = set(publication.passages.values_list("key", flat=True))
    for order, record in enumerate(records):
        if record["key"] in have:
            continue
        values = {k: _field_value(Passage, k, v) for k, v in record.items()}
        _save(Passage(publication=publication, sort_order=order, **values))
        tally.created("passages")


# --- illustrative cases ----------------------------------------------------------------------


def _child_rows(objs: models.QuerySet[Any], names: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return sorted(tuple(getattr(obj, name) for name in names) for obj in objs)


def _sync_children(
    model: type[models.Model], patient: ReportedPatient, records: list[dict[str, Any]]
) -> bool:
    """Make the patient's adverse events or source spans equal to records. True if changed."""
    names = tuple(sorted({key for record in records for key in record}))
    existing = model.objects.filter(patient=patient)  # type: ignore[attr-defined]
    wanted = sorted(
        tuple(_field_value(model, name, record.get(name)) for name in names) for record in records
    )
    if _child_rows(existing, names) == wanted and existing.count() == len(records):
        return False
    existing.delete()
    for record in records:
        child = model(patient=patient, **{k: _field_value(model, k, v) for k, v in record.items()})
        _save(child)
    return True


def _load_case(
    record: dict[str, Any],
    publication: Publication,
    topic: Topic,
    treatments: dict[str, Treatment],
    tally: _Tally,
    *,
    owned: bool = True,
) -> ReportedPatient:
    """Load one case; a case the demo does not own (a real patient) is created when missing
    and otherwise left as an editor may have curated it."""
    values = {
        key: _field_value(ReportedPatient, key, value)
        for key, value in record.items()
        if key not in CASE_CHILD_KEYS and key not in CASE_M2M and key != "label"
    }
    patient = ReportedPatient.objects.filter(
        publication=publication, topic=topic, label=record["label"]
    ).first()
    created = patient is None
    if not created and not owned:
        return patient
    if patient is None:
        patient = ReportedPatient(publication=publication, topic=topic, label=record["label"])
    changed = _apply(patient, values, overwrite=True)
    for name in CASE_M2M:
        wanted = {treatments[slug] for slug in record.get(name, [])}
        current = set() if created else set(getattr(patient, name).all())
        if wanted != current:
            getattr(patient, name).set(sorted(wanted, key=lambda t: t.slug))
            changed = True
    if created or changed:
        _save(patient)
    for key, model in (("adverse_events", AdverseEvent), ("source_spans", SourceSpan)):
        if _sync_children(model, patient, record.get(key, [])):
            changed = True
    if created:
        tally.created("cases")
    elif changed:
        tally.updated("cases")
    return patient


def _load_appraisal(values: dict[str, Any], publication: Publication, tally: _Tally) -> None:
    appraisal = Appraisal.objects.filter(publication=publication).first()
    if appraisal is None:
        _save(Appraisal(publication=publication, **values))
        tally.created("appraisals")
    elif _apply(appraisal, values, overwrite=True):
        _save(appraisal)
        tally.updated("appraisals")


def _load_facts(
    records: list[dict[str, Any]],
    topics: dict[str, Topic],
    publications: dict[str, Publication],
    tally: _Tally,
) -> None:
    """Sourced facts (facts.json) on real publications: shared rows, never overwritten."""
    for record in records:
        topic = topics[record["topic"]]
        values = {
            key: _field_value(EvidenceFact, key, value)
            for key, value in record.items()
            if key not in ("key", "topic", "publication")
        }
        values["publication"] = publications[record["publication"]]
        fact = EvidenceFact.objects.filter(topic=topic, key=record["key"]).first()
        if fact is None:
            _save(EvidenceFact(topic=topic, key=record["key"], **values))
            tally.created("facts")
        elif _apply(fact, values, overwrite=False):
            _save(fact)
            tally.updated("facts")


# --- the Wagtail site root -------------------------------------------------------------------


def ensure_home_page() -> int:
    """Make a HomePage the root page of the default Site, replacing Wagtail's welcome page.

    Returns 1 when the home page was created, else 0.
    """
    # Wagtail's migrations create the default locale and the tree root; recreate them if a
    # flushed database lost them, so that the loader works on any migrated database.
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    home = HomePage.objects.first()
    created = 0
    if home is None:
        # Wagtail's initial migration creates a plain Page with slug "home"; move it aside so
        # the new home page can take the slug (slugs are unique among siblings).
        for sibling in root.get_children().filter(slug="home"):
            sibling.slug = f"home-previous-{sibling.pk}"
            sibling.save(update_fields=["slug", "url_path"])
        home = HomePage(title="EvidencePress", slug="home")
        root.add_child(instance=home)
        created = 1
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    elif site.root_page_id != home.pk:
        previous = site.root_page
        site.root_page = home
        site.save()
        _delete_if_welcome_page(previous)
    return created


def _delete_if_welcome_page(page: Page) -> None:
    """Delete Wagtail's placeholder welcome page, and nothing an editor made."""
    if (
        page.specific_class is Page
        and page.depth == 2
        and page.is_leaf()
        and not Site.objects.filter(root_page=page).exists()
    ):
        page.delete()


# --- load and remove -------------------------------------------------------------------------


def _demo_batch(tally: _Tally) -> ImportBatch:
    batch = ImportBatch.objects.filter(kind=ImportBatch.Kind.DEMO, source=BATCH_SOURCE).first()
    if batch is None:
        batch = ImportBatch.objects.create(
            kind=ImportBatch.Kind.DEMO, source=BATCH_SOURCE, source_format="json"
        )
        tally.created("import_batches")
    return batch


@transaction.atomic
def load_demo() -> dict[str, int]:
    """Load the demo topics, treatments, publications and illustrative cases (idempotent).

    Returns counts of rows created and updated, keyed `<kind>_created` / `<kind>_updated`.
    """
    data = read_data()
    tally = _Tally(Counter())
    _load_definitions(tally)
    topics = _load_topics(data["topics"], tally)
    if load_demo_safety_rules(topics):
        tally.created("safety_rule_sets")
    treatments = _load_treatments(data["treatments"], tally)
    batch = _demo_batch(tally)
    created_before = tally.counts["publications_created"]
    by_key = {
        record["key"]: _load_publication(record, topics, batch, tally, owned=False)
        for record in data["publications"]
    }
    _load_facts(data["facts"], topics, by_key, tally)

    illustrative = data["illustrative"]
    demo = _load_publication(illustrative["publication"], topics, batch, tally, owned=True)
    case_topic = topics[illustrative["topic"]]
    for record in illustrative["cases"]:
        _load_case(record, demo, case_topic, treatments, tally)
    _load_appraisal(illustrative["appraisal"], demo, tally)
    safety = data["safety_cases"]
    for group in safety["reported"]:
        publication = by_key[group["publication"]]
        for record in group["cases"]:
            _load_case(record, publication, topics[safety["topic"]], treatments, tally, owned=False)
    for record in safety["illustrative"]:
        _load_case(record, demo, topics[safety["topic"]], treatments, tally)

    new_publications = tally.counts["publications_created"] - created_before
    if new_publications:
        batch.new_count += new_publications
        batch.save(update_fields=["new_count"])
    if ensure_home_page():
        tally.created("home_page")
    from .articles import load_demo_articles  # pages import this module's helpers

    tally.counts.update(load_demo_articles())
    ensure_roles()  # the staff groups, so a demo site has its roles (evidencepress/core/roles.py)
    return dict(tally.counts)


class _CountingCollector(Collector):
    """A deletion collector that gathers every related row instead of fast-deleting some."""

    def can_fast_delete(self, *args: Any, **kwargs: Any) -> bool:
        return False


def _in_use(obj: models.Model) -> bool:
    """True if deleting obj would delete, protect or change any other row."""
    collector = _CountingCollector(using=router.db_for_write(type(obj)), origin=obj)
    try:
        collector.collect([obj])
    except (ProtectedError, RestrictedError):
        return True
    # A topic's own definition versions go with it and do not make it "in use".
    collected = sum(
        len(objs) for model, objs in collector.data.items() if model is not TopicVersion
    )
    # SET_NULL relations register a (lazy, possibly empty) queryset even when nothing refers.
    would_change = any(
        rows.exists() if isinstance(rows, models.QuerySet) else bool(rows)
        for batches in collector.field_updates.values()
        for rows in batches
    )
    return collected > 1 or would_change


@transaction.atomic
def remove_demo() -> dict[str, int]:
    """Delete all demonstration data, and demo topics and treatments that nothing else uses.

    Real publications (is_demo=False) are kept, with their links to the demo topics.
    """
    data = read_data()
    from .articles import remove_demo_articles  # pages import this module's helpers

    pages = remove_demo_articles()
    cases = ReportedPatient.objects.filter(
        models.Q(is_demo=True) | models.Q(publication__is_demo=True)
    )
    publications = Publication.objects.filter(is_demo=True)
    counts = {
        "publications": publications.count(),
        "cases": cases.count(),
        "adverse_events": AdverseEvent.objects.filter(patient__in=cases).count(),
        "source_spans": SourceSpan.objects.filter(patient__in=cases).count(),
        "appraisals": Appraisal.objects.filter(publication__in=publications).count(),
        "topics": 0,
        "treatments": 0,
    }
    cases.delete()
    publications.delete()
    # The evidence the demo pages were reviewed against goes with those pages.
    demo_topics = [record["slug"] for record in data["topics"]]
    counts["safety_rule_sets"] = remove_demo_safety_rules(demo_topics)
    for snapshot in EvidenceSnapshot.objects.filter(topic__slug__in=demo_topics):
        if not _in_use(snapshot):
            snapshot.delete()
    defined = [read_definition(p.read_text(encoding="utf-8")).slug for p in definition_files()]
    for model, kind, key in ((Topic, "topics", "slug"), (Treatment, "treatments", "slug")):
        slugs = [record[key] for record in data[kind]] + (defined if model is Topic else [])
        for obj in model.objects.filter(slug__in=slugs):
            if not _in_use(obj):
                obj.delete()
                counts[kind] += 1
    return {**counts, **pages}
