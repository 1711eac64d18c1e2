"""Write the public site as static files: every live public page, archive routes, feeds,
sitemap.xml, robots.txt, publication entries, static files and the media the pages use.

Pages are rendered by the real URLconf through Django's test client (the same code path as a
live request, so each file equals the live response byte for byte), starting from the sitemap,
the feeds and robots.txt, then following every same-site link found in the HTML. Paths that
only work on a server (the admin, search, the summary request form, documents) are not
exported; a static host should send them to the application.

Everything is written to a fresh directory next to the destination and swapped in at the end,
so a failed export leaves the previous export as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.files.storage import default_storage
from django.test import Client
from django.test.utils import override_settings
from wagtail.models import Site

SERVER_ONLY_PREFIXES = (
    "/admin/",
    "/django-admin/",
    "/search/",
    "/summaries/",
    "/documents/",
    "/accounts/",
    "/_util/",
)
MAX_URLS = 20_000


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not value:
                continue
            if name in ("href", "src"):
                self.links.append(value)
            elif name == "srcset":
                self.links.extend(part.strip().split(" ")[0] for part in value.split(","))


def links_in(html: str) -> list[str]:
    """Every href, src and srcset URL in a document, as written."""
    parser = _LinkParser()
    parser.feed(html)
    return parser.links


def local_path(url: str, host: str) -> str | None:
    """The site path a link points at, or None for other sites, fragments and query strings."""
    url, _ = urldefrag(url)
    parts = urlsplit(url)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    if parts.netloc and parts.netloc != host:
        return None
    if parts.query or not parts.path.startswith("/"):
        return None
    return parts.path


def file_for(path: str) -> Path:
    """Where a URL path is written: `/a/b/` → `a/b/index.html`, `/feed.xml` → `feed.xml`."""
    relative = path.lstrip("/")
    if not relative or relative.endswith("/"):
        relative += "index.html"
    target = Path(relative)
    if ".." in target.parts:
        raise ValueError(f"refusing to write outside the export: {path!r}")
    return target


@dataclass
class ExportResult:
    destination: Path
    pages: list[str] = field(default_factory=list)
    static_files: int = 0
    media_files: int = 0
    broken: list[tuple[str, int]] = field(default_factory=list)


def _seed_paths(site: Site) -> list[str]:
    from .feeds import published_articles
    from .sitemaps import site_sitemaps

    seeds = ["/", "/robots.txt", "/sitemap.xml", "/feeds/articles.xml", "/feeds/articles.atom"]
    for sitemap_class in site_sitemaps().values():
        sitemap = sitemap_class(None)
        for item in sitemap.items():
            location = sitemap.location(item)
            if isinstance(location, str) and location.startswith("/"):
                seeds.append(location)
            elif location:
                seeds.append(urlsplit(str(location)).path)
    topic_slugs = {a.topic.slug for a in published_articles() if a.topic_id is not None}
    for slug in sorted(topic_slugs):
        seeds += [f"/feeds/topics/{slug}.xml", f"/feeds/topics/{slug}.atom"]
    return seeds


def _copy_static(target: Path) -> int:
    """Copy every static file the finders know (first match wins, as collectstatic does)."""
    seen: set[str] = set()
    prefix = settings.STATIC_URL.strip("/")
    for finder in get_finders():
        for relative, storage in finder.list(["CVS", ".*", "*~"]):
            if relative in seen:
                continue
            seen.add(relative)
            destination = target / prefix / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with storage.open(relative) as source, destination.open("wb") as out:
                shutil.copyfileobj(source, out)
    return len(seen)


def site_export(
    *,
    destination: Path,
    site: Site | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Render the public site of `site` (the default site) into `destination`.

    Raises RuntimeError if the home page itself cannot be rendered; any other page that fails is
    listed in `ExportResult.broken` and left out.
    """
    site = site or Site.objects.select_related("root_page").get(is_default_site=True)
    host = site.hostname if site.port in (80, 443) else f"{site.hostname}:{site.port}"
    static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    media_prefix = "/" + settings.MEDIA_URL.strip("/") + "/"
    destination = destination.resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=destination.name + ".", dir=destination.parent))
    result = ExportResult(destination=destination)
    try:
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, site.hostname]):
            client = Client(HTTP_HOST=host)
            secure = bool(getattr(settings, "SECURE_SSL_REDIRECT", False))
            queue: deque[str] = deque(_seed_paths(site))
            seen: set[str] = set()
            media: set[str] = set()
            while queue and len(seen) < MAX_URLS:
                path = queue.popleft()
                if path in seen or path.startswith(SERVER_ONLY_PREFIXES):
                    continue
                seen.add(path)
                if path.startswith(static_prefix):
                    continue
                if path.startswith(media_prefix):
                    media.add(path[len(media_prefix) :])
                    continue
                response = client.get(path, secure=secure)
                if response.status_code != 200:
                    if path == "/":
                        raise RuntimeError(f"the home page returned {response.status_code}")
                    result.broken.append((path, response.status_code))
                    continue
                target = work / file_for(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(response.content)
                result.pages.append(path)
                if progress:
                    progress(path)
                if response.get("Content-Type", "").startswith("text/html"):
                    queue.extend(_followable(links_in(response.content.decode()), host))
            result.static_files = _copy_static(work)
            result.media_files = _copy_media(work, media_prefix, media)
        _swap(work, destination)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return result


def _followable(links: Iterable[str], host: str) -> Iterable[str]:
    for link in links:
        path = local_path(link, host)
        if path is not None:
            yield path


def _copy_media(target: Path, media_prefix: str, names: set[str]) -> int:
    copied = 0
    for name in sorted(names):
        if not default_storage.exists(name):
            continue
        destination = target / media_prefix.strip("/") / file_for("/" + name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name) as source, destination.open("wb") as out:
            shutil.copyfileobj(source, out)
        copied += 1
    return copied


def _swap(work: Path, destination: Path) -> None:
    """Replace `destination` with `work` (old export removed only after the new one is in place)."""
    old = None
    if destination.exists():
        old = destination.with_name(destination.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        destination.rename(old)
    work.rename(destination)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
