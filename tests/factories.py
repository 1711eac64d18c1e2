"""factory_boy factories for the main models: topics, publications, reported patients, staff.

    TopicFactory()                          a topic with a unique name and slug
    PublicationFactory(is_demo=True)        a publication (an invented, labelled one when demo)
    ReportedPatientFactory(topic=t)         a patient in a new publication, demo like it
    AdverseEventFactory(patient=p)          a side effect of that patient
    UserFactory(role=roles.EDITORS)         a staff user in one role's group (roles made first)

Every value is invented test data: titles say "Test", and no PMID or DOI is made up.
"""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from evidencepress.core import roles
from evidencepress.evidence.models import AdverseEvent, Publication, ReportedPatient, Topic

PASSWORD = "a-long-test-passphrase-1"


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Test topic {n}")
    slug = factory.Sequence(lambda n: f"test-topic-{n}")
    treatment = "Test treatment"
    condition = "Test condition"


class PublicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Publication

    title = factory.Sequence(lambda n: f"Test case series {n}")
    journal = "Test J"
    year = 2024
    pmid = None  # no invented identifiers; pass one when a test needs it
    is_demo = False


class ReportedPatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportedPatient

    topic = factory.SubFactory(TopicFactory)
    publication = factory.SubFactory(PublicationFactory, is_demo=factory.SelfAttribute("..is_demo"))
    label = factory.Sequence(lambda n: f"Case {n:03d}")
    response = "complete"
    is_demo = False


class AdverseEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdverseEvent

    patient = factory.SubFactory(ReportedPatientFactory)
    kind = "Redness"
    severity = "mild"


class UserFactory(factory.django.DjangoModelFactory):
    """A staff user; `role` (a name from core.roles.ROLE_NAMES) puts them in that group."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if not create or extracted is None:
            return
        if extracted not in roles.ROLE_NAMES:
            raise ValueError(f"No such role: {extracted!r} (see core.roles.ROLE_NAMES).")
        roles.ensure_roles()
        self.groups.add(Group.objects.get(name=extracted))
