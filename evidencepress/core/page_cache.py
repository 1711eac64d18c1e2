"""A whole-response cache for anonymous readers of public pages, keyed on the content version.

Only responses that are identical for every anonymous reader are stored: GET, no query string,
no session cookie on the request (so never a logged-in editor or a reviewer), status 200, no
Set-Cookie (a page that issues a CSRF token is a form and is never stored), no
`Cache-Control: private`/`no-store`/`no-cache`, and a path outside the excluded prefixes (the admin
with its previews, the summary request form, search).

Every key includes the database's content version (`core.content_version`: triggers advance it
on any write to the evidence, the articles and Wagtail's pages, sites, images and documents,
whether made by the ORM, `QuerySet.update()`, an import's raw SQL or a `sqlite3` session). A
change anywhere therefore moves every page to keys nothing is stored under yet (the evidence on a
page is live, and one change can alter many pages); the old entries are never read again and
expire after `PAGE_CACHE["TIMEOUT"]` seconds. Nothing has to announce a change: there are no
signal receivers and nothing to call after a write. Reading the version is one small query;
while it cannot be read (inside a transaction, or after the version rows were emptied) nothing
is served from or stored in the cache.

Settings: `PAGE_CACHE = {"ENABLED": bool, "ALIAS": cache alias, "TIMEOUT": seconds,
"EXCLUDE_PREFIXES": [...]}`. Use a cache all app servers share (file or Redis), so a publish on
one server clears the others.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DatabaseError, close_old_connections, connection
from django.http import HttpRequest, HttpResponse

from .content_version import current_version

DEFAULT_EXCLUDE_PREFIXES = (
    "/admin/",
    "/django-admin/",
    "/summaries/",
    "/search/",
    "/documents/",
    "/accounts/",
    "/_util/",
)
_STORED_TYPES = (
    "text/html",
    "application/xml",
    "text/xml",
    "application/rss+xml",
    "application/atom+xml",
    "text/plain",
)
HIT_HEADER = "X-Page-Cache"
# Each process keeps its most used entries in memory as well: the shared cache compresses what it
# stores, and decompressing a 150 kB page on every hit would cost more than the rest of the hit.
# Keys include the content version, so a change made elsewhere still takes effect on the next
# request.
LOCAL_ENTRIES = 256
Entry = tuple[int, list[tuple[str, str]], bytes]  # status, headers, body
_local: OrderedDict[str, tuple[float, Entry]] = OrderedDict()
_local_lock = threading.Lock()


def _local_get(key: str) -> Entry | None:
    with _local_lock:
        found = _local.get(key)
        if found is None:
            return None
        expires, entry = found
        if expires < time.monotonic():
            del _local[key]
            return None
        _local.move_to_end(key)
        return entry


def _local_put(key: str, entry: Entry, timeout: int) -> None:
    with _local_lock:
        _local[key] = (time.monotonic() + timeout, entry)
        _local.move_to_end(key)
        while len(_local) > LOCAL_ENTRIES:
            _local.popitem(last=False)


def _config() -> dict[str, Any]:
    return dict(getattr(settings, "PAGE_CACHE", {}))


def _cache() -> BaseCache:
    alias = _config().get("ALIAS", "default")
    # Settings without the alias (e.g. tests with one memory cache) fall back to the default.
    return caches[alias if alias in settings.CACHES else "default"]


def _timeout() -> int:
    return int(_config().get("TIMEOUT", 300))


def cache_enabled() -> bool:
    return bool(_config().get("ENABLED", False))


def content_key() -> str | None:
    """The content version as a short token for keys, or None when the cache must not be used
    (inside a transaction, or while a watched table has no version row)."""
    version = current_version()
    if version is None:
        return None
    return hashlib.sha256(repr(version).encode()).hexdigest()[:32]


def _shareable(environ: dict[str, Any], methods: tuple[str, ...]) -> bool:
    """Could the answer to this WSGI request be shared with every anonymous reader? Read from
    the environ alone, so that the middleware and the WSGI layer decide alike. A session
    cookie's name anywhere in the Cookie header counts (a false alarm only costs a miss)."""
    if environ.get("REQUEST_METHOD") not in methods or environ.get("QUERY_STRING"):
        return False
    if environ.get("HTTP_AUTHORIZATION"):
        return False
    if settings.SESSION_COOKIE_NAME in environ.get("HTTP_COOKIE", ""):
        return False
    path = f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
    excluded = tuple(_config().get("EXCLUDE_PREFIXES", DEFAULT_EXCLUDE_PREFIXES))
    return not path.startswith(excluded)


def request_is_cacheable(request: HttpRequest) -> bool:
    """Could the response to this request be shared with every anonymous reader?"""
    return _shareable(request.META, ("GET", "HEAD"))


def response_is_cacheable(request: HttpRequest, response: HttpResponse) -> bool:
    """Is this response the same for everyone (nothing personal, no cookie, complete)?"""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    control = response.get("Cache-Control", "").lower()
    if any(word in control for word in ("private", "no-store", "no-cache")):
        return False
    if "cookie" in response.get("Vary", "").lower() and request.COOKIES:
        return False
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    return content_type in _STORED_TYPES


def _raw_host(environ: dict[str, Any]) -> str:
    """The Host a WSGI request names, as Django's `HttpRequest._get_raw_host` reads it."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return str(environ["HTTP_X_FORWARDED_HOST"])
    if "HTTP_HOST" in environ:
        return str(environ["HTTP_HOST"])
    host, port = str(environ.get("SERVER_NAME", "")), str(environ.get("SERVER_PORT", ""))
    secure = environ.get("wsgi.url_scheme") == "https"
    return host if port == ("443" if secure else "80") else f"{host}:{port}"


def _environ_key(environ: dict[str, Any], version: str) -> str:
    """The stored page's key: host and raw path, exactly as the WSGI server passed them."""
    where = f"{_raw_host(environ)}|{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
    digest = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()[:40]
    return f"evidencepress:page:{version}:{digest}"


def _stored(cache: BaseCache, key: str) -> Entry | None:
    """The stored page under `key`: this process's copy, else the shared cache's."""
    stored = _local_get(key)
    if stored is None:
        stored = cache.get(key)
        if stored is not None:
            # The shared copy may be older; a short local life keeps the total bounded.
            _local_put(key, stored, min(60, _timeout()))
    return stored


def _key(request: HttpRequest, version: str) -> str:
    request.get_host()  # raises DisallowedHost for a host that is not ours: never stored
    return _environ_key(request.META, version)


class PageCacheMiddleware:
    """Serve stored public responses before the rest of the stack runs; store new ones.

    Put it first in MIDDLEWARE: a stored response already carries the security headers that the
    inner middleware added when it was first rendered.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not cache_enabled() or not request_is_cacheable(request):
            return self.get_response(request)
        version = content_key()
        if version is None:
            return self.get_response(request)
        cache = _cache()
        key = _key(request, version)
        # HEAD requests are answered by the view (a stored body must not be sent for them).
        stored = _stored(cache, key) if request.method == "GET" else None
        if stored is not None:
            status, headers, content = stored
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            response[HIT_HEADER] = "hit"
            return response
        response = self.get_response(request)
        if response_is_cacheable(request, response):
            timeout = _timeout()
            headers = [(name, value) for name, value in response.items() if name != HIT_HEADER]
            # Stored only if nothing changed while the page was rendered: the page may show the
            # change, but the key would name the content before it.
            if request.method == "GET" and content_key() == version:
                entry = (response.status_code, headers, response.content)
                cache.set(key, entry, timeout)
                _local_put(key, entry, timeout)
            response[HIT_HEADER] = "miss"
        return response


class PageCacheWSGI:
    """Serve stored pages at the WSGI level, before Django builds a request at all.

    Wraps the Django WSGI application (evidencepress/wsgi.py). Only a plain anonymous GET of an
    address outside the excluded prefixes is looked up, under the same key the middleware
    stores (host and raw path as the server passed them); anything else, and every miss, goes
    to Django, whose middleware stores what may be shared. An entry only exists for a host
    Django accepted, so an unknown Host header still reaches Django and gets its 400.
    """

    def __init__(self, application: Callable[..., Any]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        entry = self._lookup(environ) if cache_enabled() else None
        if entry is None:
            return self.application(environ, start_response)
        status, headers, content = entry
        reason = HTTPStatus(status).phrase
        start_response(
            f"{status} {reason}",
            [
                *((name, value) for name, value in headers if name.lower() != "content-length"),
                ("Content-Length", str(len(content))),
                (HIT_HEADER, "hit"),
            ],
        )
        return [content]

    @staticmethod
    def _lookup(environ: dict[str, Any]) -> Entry | None:
        # HEAD requests are answered by Django (a stored body must not be sent for them).
        if not _shareable(environ, ("GET",)):
            return None
        if connection.in_atomic_block:  # only ever in tests: nothing can be served from here
            return None
        # The version is read outside Django's request cycle, so the connection is opened and
        # let go here as Django does around a request (CONN_MAX_AGE decides whether it stays).
        close_old_connections()
        try:
            version = content_key()
        except DatabaseError:
            version = None  # Django answers, and reports the database's trouble its own way
        finally:
            close_old_connections()
        if version is None:
            return None
        return _stored(_cache(), _environ_key(environ, version))
