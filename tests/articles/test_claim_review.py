"""The claim audit in the review workflow: run on submit, no clinical approval over open
findings, a clinician's written override recorded and shown in the page's history."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from wagtail.models import PageLogEntry, TaskState, WorkflowState

from evidencepress.articles.claim_review import (
    LOG_AUDIT,
    LOG_OVERRIDE,
    claim_override_record,
    open_findings,
)
from evidencepress.articles.models import ArticlePage, ClaimAuditOverride, TopicPage
from evidencepress.articles.services import review_workflow_ensure
from evidencepress.articles.signoff import SignOffTaskError
from evidencepress.core.roles import ensure_roles
from evidencepress.evidence.models import Passage

from .conftest import complete_body

pytestmark = pytest.mark.django_db

WRONG = "Reports show that it cures angiosarcoma."


def _body(publications: Any, sentence: str) -> list[dict[str, Any]]:
    body = complete_body(publications)
    body.append({"type": "rich_text", "value": {"text": f"<p>{sentence}</p>", "citations": []}})
    return body


@pytest.fixture
def people(django_user_model: type[User], topic_page: TopicPage) -> dict[str, User]:
    ensure_roles()
    review_workflow_ensure()
    clinician = django_user_model.objects.create_user("clinician", password="x" * 12)
    clinician.groups.add(Group.objects.get(name="Clinician reviewers"))
    author = django_user_model.objects.create_user("author", password="x" * 12)
    author.groups.add(Group.objects.get(name="Editors"))
    return {"clinician": clinician, "author": author}


def test_sound_article_passes_clinical_review(
    people: dict[str, User], make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(title="Sound", body=complete_body(publications), publish=False)
    assert open_findings(article) == []
    state = article.get_workflow().start(article, people["author"])
    first = state.current_task_state
    first.task.specific.on_action(first, people["clinician"], "approve")
    state.refresh_from_db()
    assert state.current_task_state.task.name == "Editorial sign-off"


def test_submit_runs_the_audit_and_clinical_approval_is_refused_until_overridden(
    people: dict[str, User], make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(title="Claims", body=_body(publications, WRONG), publish=False)
    state = article.get_workflow().start(article, people["author"])
    # Submitting wrote the audit to the page's history.
    entry = PageLogEntry.objects.get(page=article, action=LOG_AUDIT)
    assert entry.data["open_findings"] == 2  # uncited + "cures" at very low certainty
    first = state.current_task_state
    with pytest.raises(SignOffTaskError, match="open finding"):
        first.task.specific.on_action(first, people["clinician"], "approve")
    state.refresh_from_db()
    assert state.current_task_state.task.name == "Clinical review"

    # An override needs a written reason; a blank one changes nothing.
    findings = open_findings(article)
    with pytest.raises(ValidationError):
        claim_override_record(
            page=article, finding_key=findings[0].key, reason="  ", user=people["clinician"]
        )
    assert not ClaimAuditOverride.objects.exists()
    for finding in findings:
        claim_override_record(
            page=article,
            finding_key=finding.key,
            reason="Quoted as an example of a wrong claim in a teaching box.",
            user=people["clinician"],
        )
    log = PageLogEntry.objects.filter(page=article, action=LOG_OVERRIDE)
    assert log.count() == 2
    assert log.first().data["reason"].startswith("Quoted as an example")
    assert open_findings(article) == []
    first = TaskState.objects.get(pk=first.pk)
    first.task.specific.on_action(first, people["clinician"], "approve")
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.current_task_state.task.name == "Editorial sign-off"


def test_rejecting_is_never_blocked_by_findings(
    people: dict[str, User], make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(title="Reject", body=_body(publications, WRONG), publish=False)
    state = article.get_workflow().start(article, people["author"])
    first = state.current_task_state
    first.task.specific.on_action(first, people["clinician"], "reject")
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES


def test_audit_claims_command_exits_non_zero_and_speaks_json(
    make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(title="Cmd", body=_body(publications, WRONG))
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("audit_claims", "--page", str(article.pk), "--format", "json", stdout=out)
    assert raised.value.returncode == 1
    (page,) = json.loads(out.getvalue())
    assert page["page"] == article.pk
    assert {f["kind"] for f in page["findings"]} == {"uncited", "certainty"}
    assert all(f["sentence"] == WRONG for f in page["findings"])
    with pytest.raises(CommandError, match="no page with id"):
        call_command("audit_claims", "--page", "987654", stdout=io.StringIO())


def test_a_citation_without_passages_and_an_unlabelled_demo_claim_are_found(
    make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    mech, demo = publications["mechanism"].pk, publications["demo"].pk
    case = Passage.objects.create(
        publication=publications["demo"], key="case-a", text="Invented case A.", location="page"
    )
    text = (
        f'<p><a linktype="publication" id="{mech}">It calms the skin</a>. '
        f'<a linktype="publication" id="{demo}" passages="{case.pk}">Most people got better</a>.'
        "</p>"
    )
    body = complete_body(publications)
    body.append({"type": "rich_text", "value": {"text": text, "citations": []}})
    article = make_article(title="Passages", body=body)
    kinds = {f.kind for f in open_findings(article)}
    assert kinds == {"no_passage", "demo"}
    passage = publications["mechanism"].passages.get()
    fixed = text.replace(f'id="{mech}">', f'id="{mech}" passages="{passage.pk}">').replace(
        "Most people got better", "In the invented demonstration cases, most got better"
    )
    body[-1]["value"]["text"] = fixed
    article.body = body
    article.save_revision()
    assert open_findings(article) == []


def test_editor_panel_shows_findings_and_only_a_clinician_overrides_with_a_reason(
    people: dict[str, User],
    make_article: Callable[..., ArticlePage],
    publications: Any,
    client: Client,
) -> None:
    article = make_article(title="Panel", body=_body(publications, WRONG), publish=False)
    client.force_login(people["author"])
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    assert "Claim audit: 2 open findings in the saved text." in edit
    assert WRONG in edit
    url = reverse("claim_audit_review", args=[article.pk])
    key = open_findings(article)[0].key
    # An editor sees the findings but may not override them.
    assert client.get(url).status_code == 200
    refused = client.post(url, {"finding_key": key, "reason": "Fine."})
    assert refused.status_code == 302  # Wagtail turns PermissionDenied into a redirect
    assert not ClaimAuditOverride.objects.exists()

    client.force_login(people["clinician"])
    client.post(url, {"finding_key": key, "reason": "   "})
    assert not ClaimAuditOverride.objects.exists()
    client.post(url, {"finding_key": key, "reason": "Teaching example, marked as wrong."})
    override = ClaimAuditOverride.objects.get()
    assert (override.user, override.reason) == (
        people["clinician"],
        "Teaching example, marked as wrong.",
    )
    assert len(open_findings(article)) == 1
    history = client.get(reverse("wagtailadmin_pages:history", args=[article.pk]))
    assert "Claim-audit finding overridden" in history.content.decode()


def test_topic_and_archive_editors_show_the_claim_audit_panel(
    django_user_model: type[User], topic_page: TopicPage, archive: Any, client: Client
) -> None:
    """The audit covers the topic page's introduction and the archive's month introductions;
    their editors show its findings as the article editor does."""
    from evidencepress.articles.models import ArchiveMonth

    topic_page.introduction = f"<p>{WRONG}</p>"
    topic_page.save_revision()
    ArchiveMonth.objects.create(
        page=archive, year=2024, month=9, title="September", intro="<p>Studies found it works.</p>"
    )
    ensure_roles()
    author = django_user_model.objects.create_user("author", password="x" * 12)
    author.groups.add(Group.objects.get(name="Editors"))
    client.force_login(author)

    for page, sentence, count in (
        (topic_page, WRONG, "2 open findings"),
        (archive, "Studies found it works.", "1 open finding"),
    ):
        edit = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))
        assert edit.status_code == 200
        html = edit.content.decode()
        assert f"Claim audit: {count} in the saved text." in html, page
        assert sentence in html
        assert reverse("claim_audit_review", args=[page.pk]) in html

    # Fixed text: the panel says there is nothing open.
    topic_page.introduction = "<p>Imiquimod is a cream.</p>"
    topic_page.save_revision()
    html = client.get(reverse("wagtailadmin_pages:edit", args=[topic_page.pk])).content.decode()
    assert "<strong>Claim audit:</strong> no open findings in the saved text." in html
