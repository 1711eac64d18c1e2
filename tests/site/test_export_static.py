"""`export_static`: the public site as files, each identical to the live response."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from evidencepress.articles.static_export import file_for, local_path

from .conftest import SmallSite

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(small_site: SmallSite, tmp_path: Path) -> Path:
    out = StringIO()
    call_command("export_static", "--output", str(tmp_path / "site"), stdout=out)
    assert "Exported" in out.getvalue()
    return tmp_path / "site"


def test_exported_pages_equal_the_live_responses(exported: Path, small_site: SmallSite) -> None:
    client = Client(HTTP_HOST="localhost")
    for path in (
        "/",
        small_site.article.url,
        small_site.topic_page.url,
        "/archive/",
        "/archive/2024/09/",
        "/feeds/articles.xml",
        "/sitemap.xml",
        "/robots.txt",
        f"/evidence/publications/{small_site.publication.pk}/",
    ):
        written = exported / file_for(path)
        assert written.exists(), f"{path} was not exported"
        assert written.read_bytes() == client.get(path).content, path


def test_export_leaves_out_drafts_private_pages_and_server_only_paths(exported: Path) -> None:
    files = {str(p.relative_to(exported)) for p in exported.rglob("*") if p.is_file()}
    assert not any("unpublished-draft" in f or "private-notes" in f for f in files)
    assert not any(f.startswith(("admin/", "search/", "summaries/")) for f in files)
    assert "static/css/site.css" in files and "static/css/print.css" in files
    assert "feeds/topics/imiquimod-angiosarcoma.atom" in files


def test_a_second_export_replaces_the_first(exported: Path, small_site: SmallSite) -> None:
    stale = exported / "stale.html"
    stale.write_text("old")
    call_command("export_static", "--output", str(exported), stdout=StringIO())
    assert not stale.exists()
    assert (exported / "index.html").exists()


def test_links_to_other_sites_and_query_strings_are_not_followed() -> None:
    assert local_path("https://pubmed.ncbi.nlm.nih.gov/1/", "localhost") is None
    assert local_path("/search/?q=x", "localhost") is None
    assert local_path("http://localhost/a/#top", "localhost") == "/a/"
    assert local_path("mailto:x@example.org", "localhost") is None
    assert file_for("/a/b/") == Path("a/b/index.html")
    with pytest.raises(ValueError, match="outside"):
        file_for("/a/../../etc/passwd")
