"""Hostile input: log injection (D6), XML bombs within time and memory bounds (E1), upload
limits (E6), uploaded content that must not run in our origin (E7), image abuse (I4)."""

from __future__ import annotations

import io
import json
import logging
import resource
import socket
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse
from PIL import Image
from wagtail.documents.models import Document
from wagtail.images.models import Image as WagtailImage
from wagtail.models import Collection

from evidencepress.core.logging import JsonFormatter
from evidencepress.literature.parsers import parse_path
from evidencepress.literature.records import LiteratureParseError

from .conftest import make_user

# --- D6: log injection ---------------------------------------------------------------------

FORGED = 'alice\r\n{"level": "CRITICAL", "message": "admin logged in"}\x1b[2J\x1b[31m'


@pytest.fixture
def json_log() -> tuple[io.StringIO, list[logging.LogRecord]]:
    """Everything logged during the test, formatted by the production formatter."""
    stream, records = io.StringIO(), []

    class Keep(logging.StreamHandler):  # type: ignore[type-arg]
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)
            super().emit(record)

    handler = Keep(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    loggers = [logging.getLogger("evidencepress")]  # the one logger that does not propagate
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield stream, records
    finally:
        root.removeHandler(handler)
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.mark.django_db
def test_crlf_and_ansi_in_user_input_cannot_forge_log_lines(
    json_log: tuple[io.StringIO, list[logging.LogRecord]],
) -> None:
    stream, records = json_log
    client = Client()
    client.post(reverse("wagtailadmin_login"), {"username": FORGED, "password": "x"})
    client.get("/no-such-page/" + "%0D%0A%1B%5B31mFAKE ENTRY")
    client.get(reverse("search"), {"q": FORGED})
    lines = stream.getvalue().splitlines()
    assert records, "nothing was logged: the test would prove nothing"
    assert len(lines) == len({id(r) for r in records})  # one line per record, none forged
    for line in lines:
        entry = json.loads(line)  # every line is one whole JSON object
        assert "\x1b" not in line and "\r" not in line
        assert entry["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert not any(json.loads(line)["message"] == "admin logged in" for line in lines)


def test_the_formatter_escapes_control_characters() -> None:
    record = logging.LogRecord("evidencepress", logging.WARNING, "x", 1, FORGED, None, None)
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert json.loads(line)["message"] == FORGED


# --- E1: XML bombs, external entities, deep nesting: time and memory bounds ----------------

ARTICLE = (
    "<PubmedArticle><MedlineCitation><PMID>1</PMID><Article><Journal><JournalIssue><PubDate>"
    "<Year>2020</Year></PubDate></JournalIssue><Title>J</Title></Journal>"
    "<ArticleTitle>{title}</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
)


def _doc(dtd: str, title: str, body: str | None = None) -> bytes:
    inner = body if body is not None else ARTICLE.format(title=title)
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [{dtd}]>\n'
        f"<PubmedArticleSet>{inner}</PubmedArticleSet>"
    ).encode()


BOMBS = {
    "billion laughs": _doc(
        '<!ENTITY a0 "lol">'
        + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)),
        "&a9;",
    ),
    "quadratic blowup": _doc(f'<!ENTITY big "{"x" * 100_000}">', "&big;" * 20_000),
    "local file entity": _doc('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"),
    "remote DTD": _doc('<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;', "t"),
    "50k-deep nesting": _doc("", "", body="<a>" * 50_000 + "</a>" * 50_000),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_hostile_xml_is_refused_quickly_without_memory_or_network(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    path = tmp_path / "hostile.xml"
    path.write_bytes(BOMBS[name])
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.monotonic()
    try:
        found = list(parse_path(path))
    except LiteratureParseError:
        found = []
    elapsed = time.monotonic() - started
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert elapsed < 2.0
    assert grown_mib < 200
    assert connections == []
    assert all("root:" not in repr(item) for item in found)  # no /etc/passwd content
    assert all(len(repr(item)) < 100_000 for item in found)


# --- E6/E7/I4: uploads --------------------------------------------------------------------


@pytest.fixture
def uploader(staff_roles: None) -> Client:
    from evidencepress.core import roles

    client = Client()
    client.force_login(make_user("uploader", group=roles.EDITORS))
    return client


def _upload_document(client: Client, name: str, content: bytes) -> object:
    return client.post(
        reverse("wagtaildocs:add"),
        {
            "title": name,
            "file": SimpleUploadedFile(name, content),
            "collection": Collection.get_first_root_node().pk,
        },
    )


@pytest.mark.django_db
def test_documents_over_the_limit_are_refused(uploader: Client, settings: object) -> None:
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1024 * 1024  # type: ignore[attr-defined]
    response = _upload_document(uploader, "big.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1))
    assert response.status_code == 200  # the form again, with the error
    assert "Maximum filesize" in str(response.context["form"].errors["file"])
    assert not Document.objects.exists()


def test_the_configured_upload_limits() -> None:
    from django.conf import settings

    assert settings.WAGTAILDOCS_MAX_UPLOAD_SIZE <= 20 * 1024 * 1024
    assert settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE <= 10 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 5 * 1024 * 1024
    assert 0 < settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS <= 50_000_000


@pytest.mark.django_db
def test_an_oversized_form_body_is_refused(db: None) -> None:
    body = "detail=" + "x" * (3 * 1024 * 1024)
    response = Client().post(
        reverse("summaries:request"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["page.html", "drawing.svg", "script.js"])
def test_documents_that_browsers_would_run_are_refused(uploader: Client, name: str) -> None:
    response = _upload_document(uploader, name, b"<script>alert(document.domain)</script>")
    assert response.status_code == 200
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_html_renamed_to_pdf_is_downloaded_not_rendered(uploader: Client) -> None:
    response = _upload_document(uploader, "report.pdf", b"<html><script>alert(1)</script>")
    assert response.status_code == 302
    document = Document.objects.get()
    served = Client().get(document.url)
    content = b"".join(served.streaming_content)
    assert content.startswith(b"<html>")
    assert served["Content-Disposition"].startswith("attachment")
    assert served["Content-Type"] == "application/pdf"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in served["Content-Security-Policy"]


@pytest.mark.django_db
def test_media_files_are_not_served_directly(uploader: Client) -> None:
    _upload_document(uploader, "notes.txt", b"private notes")
    document = Document.objects.get()
    direct = Client().get("/media/" + document.file.name)
    assert direct.status_code == 404


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@pytest.mark.django_db
def test_svg_images_and_pixel_bombs_are_refused(uploader: Client, settings: object) -> None:
    settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = 1_000_000  # type: ignore[attr-defined]
    root = Collection.get_first_root_node().pk
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, content in (("logo.svg", svg), ("huge.png", _png(2000, 1000))):
        response = uploader.post(
            reverse("wagtailimages:add"),
            {"title": name, "file": SimpleUploadedFile(name, content), "collection": root},
        )
        assert response.status_code == 200, name
    assert not WagtailImage.objects.exists()


def test_images_are_never_resized_on_demand_from_unsigned_urls() -> None:
    """No dynamic image-serve view is mounted; if one is added, it must check signatures."""
    names = set()

    def walk(patterns: list[object]) -> None:
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
            else:
                callback = getattr(pattern, "callback", None)
                names.add(
                    getattr(callback, "__module__", "") + "." + getattr(callback, "__name__", "")
                )

    walk(get_resolver().url_patterns)
    dynamic = [name for name in names if "wagtail.images.views.serve" in name]
    assert dynamic == [], "a dynamic image URL must use wagtail's signed ServeView only"
