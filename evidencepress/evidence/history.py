"""Every change to the evidence base, recorded in Wagtail's own log: who, when, what, from → to.

Receivers on the evidence models' save, delete and many-to-many signals write one
`wagtail.models.ModelLogEntry` per change (`wagtail.log_actions.log`), so every path through the
ORM is recorded: the admin, services, the demo loader, a shell. The entry's `data` holds

    {"changes": {"Field label": [before, after], ...},   # a creation: [null, value]
     "topics": {"<topic id>": "<topic name>", ...},      # the topics whose evidence it feeds
     "reason": "...", "object": "<what it was>"}

Wagtail's admin sets the acting user for the request (`LogContext`); the reason comes from the
admin forms that ask for one (`recorded_reason`). The topics let the admin show one topic's
history (`topic_history`), including rows since deleted.

The literature importer writes publications with raw SQL (kept statements, executemany), so no
signal fires for it. It records what it changes itself, in bulk once per import: one
"evidence.change" per publication an import updated, field by field (`publication_changes`,
`record_changes`), with the reason "Import batch N (<kind> <source>)" and `data["source"]` naming
the batch. The publications an import creates are shown by their import batch (`topic_imports`),
not one entry per row; citations NLM deleted go through the ORM, so the receivers record them.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import decimal
from collections.abc import Iterator
from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from wagtail.log_actions import log

from .models import (
    AdverseEvent,
    Appraisal,
    EvidenceFact,
    Publication,
    ReportedPatient,
    ResearchQuestion,
    SourceSpan,
    Topic,
)
from .vocabulary import vocabulary_for

CREATE, CHANGE, DELETE = "evidence.create", "evidence.change", "evidence.delete"
ACTIONS = (
    (CREATE, "Evidence added", "Added to the evidence base"),
    (CHANGE, "Evidence changed", "Changed in the evidence base"),
    (DELETE, "Evidence deleted", "Deleted from the evidence base"),
)
RECORDED_MODELS: tuple[type[models.Model], ...] = (
    Topic,
    Publication,
    ReportedPatient,
    AdverseEvent,
    SourceSpan,
    Appraisal,
    EvidenceFact,
    ResearchQuestion,
)
# Derived or bookkeeping columns: recomputed from others, not changes anyone made. A topic's
# definition is versioned whole in TopicVersion (evidence.topics), not field by field here.
_SKIPPED = frozenset(
    {"id", "created_at", "updated_at", "title_normalized", "content_hash", "definition"}
)
_MAX_TEXT = 4000

_reason: contextvars.ContextVar[str] = contextvars.ContextVar("evidence_change_reason", default="")
_source: contextvars.ContextVar[str] = contextvars.ContextVar("evidence_change_source", default="")


@contextlib.contextmanager
def recorded_reason(reason: str, *, source: str = "") -> Iterator[None]:
    """Attach `reason` (an admin form's reason) and `source` (what made the change when no person
    did, e.g. an import batch) to every change recorded inside the block."""
    token = _reason.set((reason or "").strip())
    source_token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(source_token)
        _reason.reset(token)


# --- which topics a row feeds ------------------------------------------------------------------


def topics_fed_by(instance: models.Model) -> dict[int, str]:
    """The topics whose evidence (and so whose pages) this row feeds: {id: name}."""
    ids: set[int] = set()
    if isinstance(instance, Topic):
        ids.add(instance.pk)
    elif isinstance(instance, ReportedPatient | EvidenceFact | ResearchQuestion):
        ids.add(instance.topic_id)
    elif isinstance(instance, AdverseEvent | SourceSpan):
        topic_id = (
            ReportedPatient._base_manager.filter(pk=instance.patient_id)
            .values_list("topic_id", flat=True)
            .first()
        )
        if topic_id is not None:
            ids.add(topic_id)
    elif isinstance(instance, Publication | Appraisal):
        publication_id = (
            instance.pk if isinstance(instance, Publication) else instance.publication_id
        )
        ids |= _publication_topic_ids(publication_id)
    ids.discard(None)  # type: ignore[arg-type]
    if not ids:
        return {}
    return dict(Topic.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "name"))


def _publication_topic_ids(publication_id: int | None) -> set[int]:
    if publication_id is None:
        return set()
    ids = set(
        Publication.topics.through.objects.filter(publication_id=publication_id).values_list(
            "topic_id", flat=True
        )
    )
    ids |= set(
        ReportedPatient._base_manager.filter(publication_id=publication_id).values_list(
            "topic_id", flat=True
        )
    )
    ids |= set(
        EvidenceFact._base_manager.filter(publication_id=publication_id).values_list(
            "topic_id", flat=True
        )
    )
    return ids


# --- field values ------------------------------------------------------------------------------


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in _SKIPPED and not getattr(field, "primary_key", False)
    ]


def _plain(value: Any) -> Any:
    """A JSON-safe value as stored in the log."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[:_MAX_TEXT] + "…"
    return value


def _shown(field: models.Field[Any, Any], value: Any, instance: Any = None) -> Any:
    """How a stored value reads: a choice's label (a topic-defined field's in the words of the
    case's topic), a related row's name."""
    if value is None:
        return None
    if isinstance(instance, ReportedPatient) and field.name in ReportedPatient.TOPIC_FIELDS:
        return instance.vocabulary().labels_for(field.name).get(value, value)
    if isinstance(instance, AdverseEvent) and field.name == "severity":
        topic = instance.topic_of_patient()
        return vocabulary_for(topic).labels_for("severity").get(value, value) if topic else value
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation and field.related_model is not None:
        related = field.related_model._base_manager.filter(pk=value).first()
        return f"{related} (#{value})" if related is not None else f"#{value}"
    return _plain(value)


def _label(field: models.Field[Any, Any]) -> str:
    return str(field.verbose_name)


def _row(instance: models.Model) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in _fields(type(instance))}


# --- receivers ---------------------------------------------------------------------------------


def _record(instance: models.Model, action: str, changes: dict[str, list[Any]]) -> None:
    topics = getattr(instance, "_history_topics", None) or topics_fed_by(instance)
    data: dict[str, Any] = {
        "changes": changes,
        "topics": {str(pk): name for pk, name in topics.items()},
        "object": str(instance)[:300],
    }
    reason = _reason.get()
    if reason:
        data["reason"] = reason
    source = _source.get()
    if source:
        data["source"] = source
    log(instance=instance, action=action, data=data, content_changed=True)


def _before_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    before = None
    if instance.pk is not None and not instance._state.adding:
        names = [field.attname for field in _fields(sender)]
        before = sender._base_manager.filter(pk=instance.pk).values(*names).first()
    instance._history_before = before  # type: ignore[attr-defined]


def _after_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    if kwargs.get("raw"):
        return
    before = getattr(instance, "_history_before", None)
    instance._history_before = None  # type: ignore[attr-defined]
    after = _row(instance)
    changes: dict[str, list[Any]] = {}
    for field in _fields(sender):
        old = None if (created or before is None) else before.get(field.attname)
        new = after.get(field.attname)
        if (created or before is None) and new in (None, "", [], {}):
            continue
        if not created and before is not None and old == new:
            continue
        changes[_label(field)] = [_shown(field, old, instance), _shown(field, new, instance)]
    if not created and before is not None and not changes:
        return  # saved unchanged: nothing to record
    _record(instance, CREATE if created or before is None else CHANGE, changes)


def _before_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    # Read now: once the rows are gone, the topics they fed cannot be looked up.
    instance._history_topics = topics_fed_by(instance)  # type: ignore[attr-defined]


def _after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    row = _row(instance)
    changes = {
        _label(field): [_shown(field, row.get(field.attname), instance), None]
        for field in _fields(sender)
        if row.get(field.attname) not in (None, "", [], {})
    }
    _record(instance, DELETE, changes)


def _m2m_changed(
    sender: Any, instance: models.Model, action: str, model: type[models.Model], **kwargs: Any
) -> None:
    """Many-to-many edits (treatments of a case, topics of a publication), as from → to lists."""
    relation = _M2M.get(sender)
    if relation is None or not isinstance(instance, relation[0]):
        return  # an edit from the other side (e.g. a treatment's cases): not recorded here
    name, label = relation[1], relation[2]
    if action in ("pre_add", "pre_remove", "pre_clear"):
        instance.__dict__[f"_history_m2m_{name}"] = _stored_m2m(sender, instance, model)
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    before = instance.__dict__.pop(f"_history_m2m_{name}", None)
    after = _stored_m2m(sender, instance, model)
    if before is None or before == after:
        return
    _record(instance, CHANGE, {label: [before, after]})


def _stored_m2m(through: Any, instance: models.Model, target: type[models.Model]) -> list[str]:
    """The related rows as stored (modelcluster's parental relations hold unsaved ones in
    memory, so the instance's manager cannot tell before from after)."""
    source = next(
        f.name
        for f in through._meta.concrete_fields
        if f.is_relation and f.related_model is type(instance)
    )
    other = next(
        f.attname
        for f in through._meta.concrete_fields
        if f.is_relation and f.related_model is target and f.name != source
    )
    ids = through.objects.filter(**{source: instance.pk}).values_list(other, flat=True)
    return sorted(str(row) for row in target._base_manager.filter(pk__in=list(ids)))


_M2M: dict[Any, tuple[type[models.Model], str, str]] = {
    ReportedPatient.prior_treatments.through: (
        ReportedPatient,
        "prior_treatments",
        "prior treatments",
    ),
    ReportedPatient.concurrent_treatments.through: (
        ReportedPatient,
        "concurrent_treatments",
        "concurrent treatments",
    ),
    Publication.topics.through: (Publication, "topics", "topics"),
}


def connect() -> None:
    """Connect the receivers (from EvidenceConfig.ready)."""
    for model in RECORDED_MODELS:
        uid = f"evidence_history_{model.__name__}"
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"{uid}_pre_save")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}_post_save")
        pre_delete.connect(_before_delete, sender=model, dispatch_uid=f"{uid}_pre_delete")
        post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}_post_delete")
    for through in _M2M:
        m2m_changed.connect(
            _m2m_changed, sender=through, dispatch_uid=f"evidence_history_{through.__name__}"
        )


# --- changes written without the ORM (the literature importer) --------------------------------


def publication_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The field-by-field changes from one stored state of a publication to another, labelled
    and shown as the receivers record them. Both are {attname: value}; only the fields present in
    both and recorded (`_fields`) are compared."""
    changes: dict[str, list[Any]] = {}
    for field in _fields(Publication):
        name = field.attname
        if name not in before or name not in after or before[name] == after[name]:
            continue
        changes[_label(field)] = [_shown(field, before[name]), _shown(field, after[name])]
    return changes


def record_changes(
    changed: dict[int, tuple[str, dict[str, list[Any]]]],
    *,
    reason: str,
    source: str,
    user: Any = None,
) -> int:
    """Record one "evidence.change" per publication in `changed` ({id: (what it is, changes)}),
    in one bulk insert, with the topics each feeds as stored now. Publications without changes
    are left out. The user is `user`, else the active log context's (the admin request's).
    Returns the number of entries written."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from wagtail.log_actions import get_active_log_context
    from wagtail.models import ModelLogEntry

    changed = {pk: item for pk, item in changed.items() if item[1]}
    if not changed:
        return 0
    context = get_active_log_context()
    user = user or context.user
    topic_ids = _topic_ids_of_publications(list(changed))
    names = dict(
        Topic.objects.filter(pk__in=set().union(*topic_ids.values())).values_list("pk", "name")
    )
    content_type = ContentType.objects.get_for_model(Publication, for_concrete_model=False)
    now = timezone.now()
    entries = []
    for pk, (label, changes) in sorted(changed.items()):
        data: dict[str, Any] = {
            "changes": changes,
            "topics": {str(t): names[t] for t in sorted(topic_ids.get(pk, ())) if t in names},
            "object": label[:300],
            "source": source,
        }
        if reason:
            data["reason"] = reason
        entries.append(
            ModelLogEntry(
                content_type=content_type,
                object_id=str(pk),
                label=label[:255],
                action=CHANGE,
                timestamp=now,
                data=data,
                content_changed=True,
                user=user if getattr(user, "pk", None) else None,
                uuid=context.uuid,
            )
        )
    ModelLogEntry.objects.bulk_create(entries, batch_size=500)
    return len(entries)


def _topic_ids_of_publications(publication_ids: list[int]) -> dict[int, set[int]]:
    """The topics each publication feeds (as `topics_fed_by`), for many at once."""
    found: dict[int, set[int]] = {pk: set() for pk in publication_ids}
    through = Publication.topics.through
    for start in range(0, len(publication_ids), 500):  # SQLite's limit on query parameters
        chunk = publication_ids[start : start + 500]
        for rows in (
            through.objects.filter(publication_id__in=chunk).values_list(
                "publication_id", "topic_id"
            ),
            ReportedPatient._base_manager.filter(publication_id__in=chunk).values_list(
                "publication_id", "topic_id"
            ),
            EvidenceFact._base_manager.filter(publication_id__in=chunk).values_list(
                "publication_id", "topic_id"
            ),
        ):
            for publication_id, topic_id in rows:
                if topic_id is not None:
                    found[publication_id].add(topic_id)
    return found


# --- reading -----------------------------------------------------------------------------------


def topic_history(topic: Topic) -> models.QuerySet[Any]:
    """The recorded changes to a topic's evidence, newest first (deleted rows included)."""
    from wagtail.models import ModelLogEntry

    return (
        ModelLogEntry.objects.filter(action__in=[a for a, _, _ in ACTIONS])
        .filter(data__topics__has_key=str(topic.pk))
        .select_related("user", "content_type")
        .order_by("-timestamp", "-pk")
    )


def object_history(instance: models.Model) -> models.QuerySet[Any]:
    """The recorded changes to one row, newest first."""
    from wagtail.models import ModelLogEntry

    return (
        ModelLogEntry.objects.for_instance(instance)
        .filter(action__in=[a for a, _, _ in ACTIONS])
        .order_by("-timestamp", "-pk")
    )


def topic_imports(topic: Topic) -> list[dict[str, Any]]:
    """Import batches that brought publications into the topic (the importer writes with raw
    SQL, so its rows are recorded here by batch instead of field by field)."""
    rows = (
        Publication.objects.filter(topics=topic, import_batch__isnull=False)
        .values(
            "import_batch_id",
            "import_batch__created_at",
            "import_batch__kind",
            "import_batch__source",
        )
        .annotate(publications=models.Count("pk"))
        .order_by("-import_batch__created_at", "-import_batch_id")
    )
    return [
        {
            "id": row["import_batch_id"],
            "when": row["import_batch__created_at"],
            "kind": row["import_batch__kind"],
            "source": row["import_batch__source"],
            "publications": row["publications"],
        }
        for row in rows
    ]
