"""The shared factories make valid rows: demo flags agree, roles are real groups, logins work."""

from __future__ import annotations

import pytest
from django.test import Client

from evidencepress.core import roles

from .factories import PASSWORD, AdverseEventFactory, ReportedPatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_patient_and_its_publication_agree_on_demo_and_pass_validation() -> None:
    for demo in (False, True):
        patient = ReportedPatientFactory(is_demo=demo)
        assert patient.publication.is_demo is demo and patient.publication.pmid is None
        patient.publication.full_clean()
        patient.full_clean()
    event = AdverseEventFactory()
    assert event.patient.topic_id is not None


def test_a_user_by_role_is_in_that_group_only_and_can_log_in() -> None:
    editor = UserFactory(role=roles.EDITORS)
    assert list(editor.groups.values_list("name", flat=True)) == [roles.EDITORS]
    assert editor.has_perm("wagtailadmin.access_admin")
    assert Client().login(username=editor.username, password=PASSWORD)
    assert not UserFactory().groups.exists()
    with pytest.raises(ValueError, match="No such role"):
        UserFactory(role="Editor")
