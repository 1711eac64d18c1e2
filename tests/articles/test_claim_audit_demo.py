"""The claim audit on the corrected demo pages: nothing to find, and the command says so; the
reference list shows what was read in each source."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from evidencepress.articles.models import ArticlePage
from evidencepress.demo.loader import load_demo
from evidencepress.evidence.models import Publication

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(wagtail_tree: Any) -> dict[str, int]:
    return load_demo()


def test_audit_claims_all_passes_on_the_corrected_demo(demo: dict[str, int]) -> None:
    out = io.StringIO()
    call_command("audit_claims", "--all", stdout=out)
    assert "0 finding(s)" in out.getvalue(), out.getvalue()


def test_reference_list_shows_what_we_read_and_no_title_not_seen(
    demo: dict[str, int], client: Client
) -> None:
    side_effects = ArticlePage.objects.get(slug="imiquimod-side-effects-explained")
    html = client.get(side_effects.url).content.decode()
    assert '<details class="ref-read">' in html
    # The second-hand headache figure is shown as such under its reference.
    assert "a figure the authors cite from another study" in html
    assert "multicentre actinic keratosis study" in html
    for slug in ("imiquimod-cream-angiosarcoma", "imiquimod-side-effects-explained"):
        page = ArticlePage.objects.get(slug=slug)
        assert "[Title not seen]" not in client.get(page.url).content.decode()


def test_the_audit_finds_the_claims_the_issue_named_when_put_back(demo: dict[str, int]) -> None:
    """The uncorrected wording of issue #15 on the demo article is found again."""
    page = ArticlePage.objects.get(slug="imiquimod-cream-angiosarcoma")
    cutis = Publication.objects.get(title__startswith="An Update on Cutaneous Angiosarcoma")
    body = list(page.body.raw_data)
    body.append(
        {
            "type": "rich_text",
            "value": {
                "text": "<p>For a few of these people, doctors have tried imiquimod cream.</p>"
                "<p>Some reports describe the cream used together with radiation.</p>",
                "citations": [cutis.pk],
            },
        }
    )
    page.body = body
    page.save_revision()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_claims", "--page", str(page.pk), stdout=out)
    assert "not_seen" in out.getvalue()
    assert "Imiquimod itself was NOT visible" in out.getvalue()
