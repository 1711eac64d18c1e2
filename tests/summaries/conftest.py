"""Fixtures for the summaries tests: a small topic with demo cases, users in each role."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from evidencepress.evidence.models import Publication, ReportedPatient, Topic, Treatment
from evidencepress.summaries.models import EDITORS_GROUP, SummaryRequest
from evidencepress.summaries.services import summary_request_submit

from .definitions import DEMO_DATA

# Until topics store their definition (Topic.definition, issue 16 §1), the demo topic's slug is
# given the demo definition here; a topic that stores one is left alone.
_STORES_DEFINITION = any(f.name == "definition" for f in Topic._meta.get_fields())


@pytest.fixture(autouse=True)
def demo_topic_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    if _STORES_DEFINITION:
        return

    def definition(self: Topic) -> dict[str, Any]:
        return DEMO_DATA if self.slug == DEMO_DATA["slug"] else {}

    monkeypatch.setattr(Topic, "definition", property(definition), raising=False)


EDITOR_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("summaries", "view_summaryrequest"),
    ("summaries", "change_summaryrequest"),
    ("summaries", "delete_summaryrequest"),
)


def editors_group() -> Group:
    """The group the data migration makes (re-made here: transactional tests flush it)."""
    group, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    for app_label, codename in EDITOR_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


def make_user(username: str, *, group: bool = False, clinician: bool = False, **extra: Any) -> Any:
    user = get_user_model().objects.create_user(
        username, f"{username}@staff.example.org", "a-long-passphrase-1", **extra
    )
    if group:
        user.groups.add(editors_group())
    if clinician:
        user.user_permissions.add(Permission.objects.get(codename="approve_clinically"))
    if not group:
        # Plain staff can enter the Wagtail admin, but are not summary editors.
        user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def topic(db: None) -> Topic:
    topic, _ = Topic.objects.get_or_create(
        slug="imiquimod-angiosarcoma",
        defaults={
            "name": "Imiquimod for cutaneous angiosarcoma",
            "treatment": "Imiquimod",
            "condition": "Cutaneous angiosarcoma",
            **({"definition": DEMO_DATA} if _STORES_DEFINITION else {}),
        },
    )
    for slug, name, category in (
        ("surgery", "Surgery", "surgery"),
        ("radiotherapy", "Radiotherapy", "radiotherapy"),
        ("paclitaxel", "Paclitaxel", "chemotherapy"),
        ("imiquimod", "Imiquimod", "topical"),
    ):
        Treatment.objects.get_or_create(slug=slug, defaults={"name": name, "category": category})
    publication = Publication.objects.create(
        title="Demonstration series (not real patients)", is_demo=True
    )
    for label, setting, depth in (
        ("Illustrative case A", "scalp_face", "superficial"),
        ("Illustrative case B", "scalp_face", "nodular"),
        ("Illustrative case C", "radiation", "deep"),
    ):
        ReportedPatient.objects.create(
            publication=publication,
            topic=topic,
            label=label,
            setting=setting,
            site="scalp" if setting == "scalp_face" else "breast",
            lesion_depth=depth,
            lesion_size_mm=12 if depth == "superficial" else 60,
            surgery_candidate=depth != "superficial",
            response="complete" if depth == "superficial" else "partial",
            is_demo=True,
        )
    return topic


@pytest.fixture
def editor(db: None) -> Any:
    return make_user("sam-editor", group=True)


@pytest.fixture
def clinician(db: None) -> Any:
    return make_user("dr-clin", group=True, clinician=True)


@pytest.fixture
def plain_staff(db: None) -> Any:
    return make_user("pat-staff", is_staff=True)


@pytest.fixture
def outside_clinician(db: None) -> Any:
    """Holds the clinical-approval permission but is not in Summary editors."""
    return make_user("dr-outside", clinician=True, is_staff=True)


@pytest.fixture
def superuser(db: None) -> Any:
    return get_user_model().objects.create_superuser(
        "root", "root@staff.example.org", "a-long-passphrase-1"
    )


SITUATION = {
    "setting": "scalp_face",
    "site": "scalp",
    "lesion_size_mm": 15,
    "lesion_count": 1,
    "lesion_depth": "superficial",
    "surgery_possible": "no",
    "prior_treatments": ["radiotherapy"],
    "prior_treatments_other": "",
    "current_treatments": [],
    "current_treatments_other": "",
    "question": "Could the cream help me?",
}


def submit(topic: Topic, **overrides: Any) -> SummaryRequest:
    situation = {**SITUATION, **overrides.pop("situation", {})}
    return summary_request_submit(
        topic=topic,
        email=overrides.pop("email", "reader@example.com"),
        situation=situation,
        detail=overrides.pop("detail", "short"),
        consent_version="test",
    )


@pytest.fixture
def new_request(topic: Topic) -> SummaryRequest:
    return submit(topic)
