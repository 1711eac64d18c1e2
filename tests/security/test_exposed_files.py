"""A7: no file or tool that should stay private is reachable over HTTP.

The test client runs with the production values of the security settings
(tests/security/production.py), DEBUG off, and real files in place: an uploaded document and
image in MEDIA_ROOT, the repository's .git directory and settings modules on disk. Every
address below must answer with something other than 200-with-content (after following
redirects), and never with the file's bytes.

The project ships no web-server configuration (nginx or other) to check: in production Django
serves neither /static/ nor /media/, and docs/security.md tells the operator not to let the
web server serve media/documents/. That part of A7 belongs to the deployment recipe.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_TEXT = b"Wombat-board-minutes-2210 confidential"


@pytest.fixture
def uploads(wagtail_tree: object) -> dict[str, str]:
    """One document and one image stored under MEDIA_ROOT, as an editor's upload would be."""
    root = Collection.get_first_root_node()
    document = get_document_model()(title="Board minutes", collection=root)
    document.file.save("board-minutes.txt", ContentFile(DOCUMENT_TEXT))
    document.save()
    image = get_image_model().objects.create(
        title="Scan", file=get_test_image_file("scan.png"), collection=root
    )
    return {"document": document.file.name, "image": image.file.name}


def exposed_paths(uploads: dict[str, str]) -> list[str]:
    return [
        "/.git/HEAD",
        "/.git/config",
        "/.env",
        "/manage.py",
        "/pyproject.toml",
        "/requirements/base.txt",
        "/var/db.sqlite3",
        "/db.sqlite3",
        "/var/backups/",
        f"/media/{uploads['document']}",
        f"/media/{uploads['image']}",
        "/media/documents/",
        "/media/original_images/",
        "/media/",
        "/static/",
        "/static/../evidencepress/settings/base.py",
        "/static/%2e%2e/evidencepress/settings/base.py",
        "/static/..%2fevidencepress%2fsettings%2fbase.py",
        "/static/../../evidencepress/settings/production.py",
        "/documents/",
        "/__debug__/",
        "/__debug__/render_panel/",
        "/django-admin/",
        "/django-admin/login/",
    ]


# Bytes that only the real files contain; none may appear in any answer.
SECRETS_OF_FILES = (
    b"ref: refs/heads",  # .git/HEAD
    b"[core]",  # .git/config
    b"SECRET_KEY",  # settings modules
    b"DJANGO_SETTINGS_MODULE",  # manage.py
    b"SQLite format 3",  # a database file
    DOCUMENT_TEXT,
    b"\x89PNG",  # the uploaded image
    b"Index of /",  # a directory listing
)


def test_no_private_file_or_debug_tool_is_served(
    prod: dict[str, object], uploads: dict[str, str]
) -> None:
    assert prod["DEBUG"] is False
    assert (ROOT / ".git").exists()  # the files we ask for do exist next to the code
    paths = exposed_paths(uploads)
    client = Client()
    served: list[tuple[str, int, int]] = []
    leaked: list[tuple[str, bytes]] = []
    for path in paths:
        response = client.get(path, secure=True, follow=True)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if response.status_code == 200 and body:
            served.append((path, response.status_code, len(body)))
        leaked += [(path, secret) for secret in SECRETS_OF_FILES if secret in body]
    assert served == [] and leaked == [], (
        f"{len(served)} of {len(paths)} addresses answered 200 with content: {served}; "
        f"file contents in answers: {leaked}"
    )
    print(f"A7: 0 of {len(paths)} addresses answered 200 with content")  # the measured figure


def test_uploads_are_reachable_only_through_wagtails_serve_view(
    prod: dict[str, object], uploads: dict[str, str]
) -> None:
    """The same document is served by /documents/<id>/<name> (download, strict CSP): the
    walk above fails for the right reason, not because the file is missing."""
    document = get_document_model().objects.get()
    response = Client().get(document.url, secure=True)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == DOCUMENT_TEXT
    assert response["Content-Disposition"].startswith("attachment")
    direct = Client().get(f"/media/{uploads['document']}", secure=True)
    assert direct.status_code == 404


def test_debug_toolbar_and_django_admin_are_not_installed() -> None:
    from django.apps import apps
    from django.urls import Resolver404, resolve

    assert not apps.is_installed("debug_toolbar")
    for path in ("/django-admin/", "/__debug__/"):
        try:
            match = resolve(path)
        except Resolver404:
            continue
        # Only Wagtail's page catch-all may match, and it has no page there.
        assert match.url_name == "wagtail_serve", (path, match.url_name)
