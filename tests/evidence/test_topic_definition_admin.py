"""The admin shows a topic's definition and its versions; those who may change topics edit it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidencepress.evidence.models import ReportedPatient, Topic, TopicVersion
from evidencepress.evidence.topics import load_definition_text
from tests.factories import PublicationFactory

pytestmark = pytest.mark.django_db

DEMO = Path("evidencepress/demo/data/topics/imiquimod-angiosarcoma.json")


@pytest.fixture
def topic() -> Topic:
    topic, _ = load_definition_text(DEMO.read_text(encoding="utf-8"), source="demo.json")
    return topic


def user_with(django_user_model: Any, name: str, *codenames: str) -> Any:
    group = Group.objects.create(name=name)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(content_type__app_label="evidence", codename__in=codenames),
    )
    user = django_user_model.objects.create_user(name, f"{name}@example.org", "a-long-pass-9")
    user.groups.add(group)
    return user


def test_an_editor_sees_the_definition_and_saves_a_change(
    client: Any, django_user_model: Any, topic: Topic
) -> None:
    editor = user_with(django_user_model, "editor", "change_topic", "view_topic")
    client.force_login(editor)
    url = reverse("topic:definition", args=[topic.pk])
    page = client.get(url).content.decode()
    assert "Where did the angiosarcoma start?" in page  # the definition's text
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["wording"]["treatment_form"] = "the 5% cream"
    response = client.post(url, {"definition": json.dumps(data, indent=2), "note": "Wording"})
    assert response.status_code == 302
    version = topic.versions.get(number=2)
    assert (version.created_by, version.note) == (editor, "Wording")
    topic.refresh_from_db()
    assert topic.definition["wording"]["treatment_form"] == "the 5% cream"
    page = client.get(url).content.decode()
    assert "Wording" in page and editor.get_username() in page


def test_an_uploaded_file_with_errors_is_refused_with_key_and_line(
    client: Any, django_user_model: Any, topic: Topic
) -> None:
    client.force_login(user_with(django_user_model, "editor", "change_topic"))
    case = ReportedPatient.objects.create(
        topic=topic, publication=PublicationFactory(), label="Case 1", setting="radiation"
    )
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["vocabulary"]["settings"] = [
        t for t in data["vocabulary"]["settings"] if t["value"] != "radiation"
    ]
    data["questionnaire"][0]["options"] = [
        o for o in data["questionnaire"][0]["options"] if o["value"] != "radiation"
    ]
    upload = SimpleUploadedFile("new.json", json.dumps(data, indent=2).encode())
    response = client.post(reverse("topic:definition", args=[topic.pk]), {"upload": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert "new.json:" in page and "vocabulary.settings: setting &#x27;radiation&#x27;" in page
    assert f"case #{case.pk}" in page
    assert TopicVersion.objects.filter(topic=topic).count() == 1


def test_a_file_of_another_topic_is_refused(
    client: Any, django_user_model: Any, topic: Topic
) -> None:
    client.force_login(user_with(django_user_model, "editor", "change_topic"))
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["slug"] = "someone-else"
    data["name"] = "Someone else"
    response = client.post(
        reverse("topic:definition", args=[topic.pk]), {"definition": json.dumps(data, indent=2)}
    )
    assert "slug: is &#x27;someone-else&#x27;, but this is the definition of topic" in (
        response.content.decode()
    )
    assert not Topic.objects.filter(slug="someone-else").exists()


def test_who_may_only_view_topics_sees_but_cannot_save(
    client: Any, django_user_model: Any, topic: Topic
) -> None:
    client.force_login(user_with(django_user_model, "viewer", "view_topic"))
    url = reverse("topic:definition", args=[topic.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Check and save" not in page.content.decode()
    response = client.post(url, {"definition": DEMO.read_text(encoding="utf-8")})
    assert response.status_code in (302, 403)
    assert topic.versions.count() == 1
    client.force_login(user_with(django_user_model, "outsider"))
    assert client.get(url).status_code in (302, 403)
