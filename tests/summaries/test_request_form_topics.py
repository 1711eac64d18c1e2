"""The request form asks the chosen topic's own questions, and who the summary is for."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client

from evidencepress.evidence.models import Topic
from evidencepress.evidence.topic_definition import DEFAULT_PATH
from evidencepress.summaries.forms import SummaryRequestForm, questionnaire_for
from evidencepress.summaries.models import SummaryRequest
from evidencepress.summaries.selectors import request_situation

from .test_request_form import URL, valid_post

pytestmark = pytest.mark.django_db


def safety_topic() -> Topic:
    """A topic whose definition asks two questions of its own (the neutral default's)."""
    data = copy.deepcopy(json.loads(DEFAULT_PATH.read_text(encoding="utf-8")))
    data["questionnaire"][1]["label"] = "How far has the reaction spread?"
    topic = Topic.objects.create(
        name="Imiquimod side effects", slug="imiquimod-safety", treatment="Imiquimod",
        condition="Side effects",
    )  # fmt: skip
    topic.definition = data  # as topicdb's Topic.definition stores it
    return topic


def test_a_topic_with_a_definition_asks_its_own_questions_in_its_order() -> None:
    topic = safety_topic()
    form = SummaryRequestForm(topic=topic)
    names = list(form.fields)
    assert names[:4] == ["topic", "for_whom", "site", "lesion_depth"]
    assert "setting" not in names and "lesion_size_mm" not in names
    depth = form.fields["lesion_depth"]
    assert depth.label == "How far has the reaction spread?"
    assert [value for value, _ in depth.choices] == ["localised", "extensive", "unknown"]
    assert depth.initial == "unknown"
    assert [field.name for field in form.question_fields] == ["site", "lesion_depth"]


def test_a_posted_answer_is_checked_against_the_topics_own_options() -> None:
    topic = safety_topic()
    post = valid_post(topic=topic.slug, lesion_depth="nodular", site="arm", for_whom="other")
    post.update(prior_treatments=[], current_treatments=[])
    form = SummaryRequestForm(post, topic=topic)
    assert not form.is_valid()
    assert form.errors["lesion_depth"] == ["Choose one of the answers shown."]
    form = SummaryRequestForm({**post, "lesion_depth": "extensive"}, topic=topic)
    assert form.is_valid(), form.errors
    situation = form.situation()
    assert situation["for_whom"] == "other"
    assert situation["lesion_depth"] == "extensive" and "setting" not in situation


def test_a_topic_without_a_stored_definition_keeps_todays_questions(topic: Topic) -> None:
    keys = [q.key for q in questionnaire_for(topic)]
    assert keys == [
        "setting", "site", "lesion_size_mm", "lesion_count", "lesion_depth", "surgery_possible",
    ]  # fmt: skip


def test_the_page_offers_every_topic_and_asks_the_chosen_ones_questions(
    client: Client, topic: Topic
) -> None:
    Topic.objects.create(name="Another topic", slug="another-topic", treatment="T", condition="C")
    page = client.get(URL + "?topic=another-topic").content.decode()
    assert '<option value="another-topic" selected>Another topic</option>' in page
    assert 'name="topic" value="another-topic"' in page  # the posted form's hidden topic
    assert "About the illness: Another topic" in page
    assert "Who is this summary for?" in page
    page = client.get(URL + "?topic=nonsense").content.decode()
    assert f'<option value="{topic.slug}" selected>' in page  # back to the demo topic


@pytest.mark.parametrize(
    ("posted", "stored"), [("other", "other"), ("self", "self"), (None, "self")]
)
def test_who_it_is_for_is_stored_and_read_back(
    client: Client, topic: Topic, posted: Any, stored: str
) -> None:
    client.post(URL, valid_post(for_whom=posted))
    summary_request = SummaryRequest.objects.get()
    assert summary_request.situation["for_whom"] == stored
    assert request_situation(summary_request).for_whom == stored


def test_a_made_up_answer_to_who_it_is_for_is_refused(client: Client, topic: Topic) -> None:
    page = client.post(URL, valid_post(for_whom="everyone")).content.decode()
    assert "Choose “Myself” or “Someone I care for”." in page
    assert not SummaryRequest.objects.exists()
