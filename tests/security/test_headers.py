"""Response headers (A3), cookie flags (A4) and settings guards (A2), as production sends them.

The test client runs with the security values of settings/production.py (HTTPS, HSTS,
__Host- cookies) read in a subprocess; every URL the resolver can build without arguments is
requested, plus a public page, a document, a 404 and the admin login.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import Morsel
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

pytestmark = pytest.mark.django_db

HSTS_MIN = 31_536_000
STRICT_REFERRERS = {
    "same-origin",
    "no-referrer",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
ADMIN_RELAXED_SCRIPT = {"'self'", "'unsafe-inline'"}  # documented in docs/security.md


@pytest.fixture
def site_content(db: None) -> dict[str, str]:
    """A public home page and one uploaded document."""
    from wagtail.documents.models import Document
    from wagtail.models import Collection

    from evidencepress.demo.loader import ensure_home_page

    ensure_home_page()
    if Collection.get_first_root_node() is None:  # flushed by an earlier transactional test
        Collection.add_root(name="Root")
    document = Document(title="Protocol")
    document.file.save("protocol.txt", ContentFile(b"plain protocol text"), save=False)
    document.save()
    return {"document": document.url}


def named_urls_without_arguments() -> list[str]:
    """Every URL name in the resolver (with namespaces) that reverses without arguments."""
    names: set[str] = set()

    def walk(patterns: list[object], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    urls = set()
    for name in names:
        try:
            urls.add(reverse(name))
        except NoReverseMatch:
            continue
    return sorted(urls)


def parse_csp(value: str) -> dict[str, set[str]]:
    directives: dict[str, set[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = set(words[1:])
    return directives


def header_problems(path: str, response: object) -> list[str]:
    """Every way this response falls short of the A3 pass figure."""
    problems = []
    hsts = response.get("Strict-Transport-Security", "")  # type: ignore[attr-defined]
    match = re.search(r"max-age=(\d+)", hsts)
    if not match or int(match.group(1)) < HSTS_MIN or "includeSubDomains" not in hsts:
        problems.append(f"{path}: HSTS {hsts!r}")
    csp = parse_csp(response.get("Content-Security-Policy", ""))  # type: ignore[attr-defined]
    if csp.get("frame-ancestors") != {"'none'"}:
        problems.append(f"{path}: frame-ancestors {csp.get('frame-ancestors')}")
    script = csp.get("script-src", csp.get("default-src"))
    allowed_script = ADMIN_RELAXED_SCRIPT if path.startswith("/admin/") else {"'self'"}
    if script is None or not script <= allowed_script | {"'none'"} or "'unsafe-eval'" in script:
        problems.append(f"{path}: script-src {script}")
    if "default-src" not in csp or csp.get("object-src", csp["default-src"]) != {"'none'"}:
        problems.append(f"{path}: object-src {csp.get('object-src')}")
    if response.get("X-Content-Type-Options") != "nosniff":  # type: ignore[attr-defined]
        problems.append(f"{path}: X-Content-Type-Options")
    if response.get("Referrer-Policy") not in STRICT_REFERRERS:  # type: ignore[attr-defined]
        problems.append(f"{path}: Referrer-Policy {response.get('Referrer-Policy')}")  # type: ignore[attr-defined]
    if response.get("Cross-Origin-Opener-Policy") != "same-origin":  # type: ignore[attr-defined]
        problems.append(f"{path}: Cross-Origin-Opener-Policy")
    policy = response.get("Permissions-Policy", "")  # type: ignore[attr-defined]
    if not {"camera=()", "microphone=()", "geolocation=()", "payment=()"} <= {
        part.strip() for part in policy.split(",")
    }:
        problems.append(f"{path}: Permissions-Policy {policy!r}")
    if response.has_header("Server"):  # type: ignore[attr-defined]
        problems.append(f"{path}: Server {response['Server']!r}")  # type: ignore[index]
    if response.get("X-Frame-Options") != "DENY":  # type: ignore[attr-defined]
        problems.append(f"{path}: X-Frame-Options {response.get('X-Frame-Options')}")  # type: ignore[attr-defined]
    return problems


def cookie_problems(path: str, cookies: dict[str, Morsel[str]]) -> Iterator[str]:
    for name, morsel in cookies.items():
        if not morsel.value:
            continue  # a deletion
        if not name.startswith("__Host-"):
            yield f"{path}: cookie {name} lacks the __Host- prefix"
        if not morsel["secure"]:
            yield f"{path}: cookie {name} is not Secure"
        if morsel["samesite"] not in ("Lax", "Strict"):
            yield f"{path}: cookie {name} SameSite={morsel['samesite']!r}"
        if morsel["domain"] or morsel["path"] != "/":
            yield f"{path}: cookie {name} domain/path"
        if "session" in name and not morsel["httponly"]:
            yield f"{path}: cookie {name} is readable by scripts"


def test_every_url_class_carries_the_security_headers(
    prod: dict[str, object], site_content: dict[str, str]
) -> None:
    urls = {
        "/",
        "/no-such-page-here/",
        reverse("wagtailadmin_login"),
        site_content["document"],
        *named_urls_without_arguments(),
    }
    client = Client()
    problems: list[str] = []
    statuses: dict[str, int] = {}
    for path in sorted(urls):
        response = client.get(path, secure=True)
        statuses[path] = response.status_code
        problems += header_problems(path, response)
        problems += cookie_problems(path, response.cookies)
        if response.streaming:  # read file responses to the end so the file gets closed
            b"".join(response.streaming_content)
    assert statuses["/"] == 200
    assert statuses["/no-such-page-here/"] == 404
    assert statuses[site_content["document"]] == 200
    assert len(urls) >= 10, sorted(urls)
    assert problems == []


def test_plain_http_is_sent_to_https(prod: dict[str, object], site_content: dict[str, str]) -> None:
    response = Client().get("/", secure=False)
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_login_cookies_are_secure_host_only_and_http_only(prod: dict[str, object]) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("cookie", "c@example.org", "a long enough passphrase 9")
    client = Client()
    form = client.get(reverse("wagtailadmin_login"), secure=True)
    login = client.post(
        reverse("wagtailadmin_login"),
        {"username": "cookie", "password": "a long enough passphrase 9"},
        secure=True,
    )
    assert login.status_code == 302
    seen = {**form.cookies, **login.cookies}
    assert {"__Host-csrftoken", "__Host-sessionid"} <= set(seen)
    assert list(cookie_problems("login", seen)) == []
    # A browser-session cookie (Wagtail's "remember me" unticked) or at most 30 minutes.
    assert seen["__Host-sessionid"]["max-age"] in ("", 1800)


def test_documents_download_instead_of_rendering(
    prod: dict[str, object], site_content: dict[str, str]
) -> None:
    response = Client().get(site_content["document"], secure=True)
    assert b"".join(response.streaming_content) == b"plain protocol text"
    assert response["Content-Disposition"].startswith("attachment")
    assert "default-src 'none'" in response["Content-Security-Policy"]


# --- A2: settings guards: flip each relied-on setting, the matching check must fire ------

GUARDS = [
    ("SECURE_HSTS_SECONDS", 0, "security.W004"),
    ("SECURE_HSTS_INCLUDE_SUBDOMAINS", False, "security.W005"),
    ("SECURE_CONTENT_TYPE_NOSNIFF", False, "security.W006"),
    ("SECURE_SSL_REDIRECT", False, "security.W008"),
    ("SECRET_KEY", "short", "security.W009"),
    ("SESSION_COOKIE_SECURE", False, "security.W012"),
    ("SESSION_COOKIE_HTTPONLY", False, "security.W015"),
    ("CSRF_COOKIE_SECURE", False, "security.W016"),
    ("DEBUG", True, "security.W018"),
    ("X_FRAME_OPTIONS", "SAMEORIGIN", "security.W019"),
    ("ALLOWED_HOSTS", [], "security.W020"),
    ("SECURE_REFERRER_POLICY", None, "security.W022"),
    (
        "AUTHENTICATION_BACKENDS",
        ["django.contrib.auth.backends.ModelBackend"],
        "evidencepress.S001",
    ),
    ("MIDDLEWARE", "drop:axes.middleware.AxesMiddleware", "evidencepress.S002"),
    (
        "MIDDLEWARE",
        "drop:evidencepress.core.middleware.StaffSessionMiddleware",
        "evidencepress.S003",
    ),
    ("CONTENT_SECURITY_POLICY", "script:'unsafe-inline'", "evidencepress.S004"),
    ("SESSION_COOKIE_AGE", 14 * 24 * 3600, "evidencepress.S005"),
    ("SESSION_SAVE_EVERY_REQUEST", False, "evidencepress.S005"),
    ("AUTH_PASSWORD_VALIDATORS", [], "evidencepress.S006"),
    ("WAGTAILDOCS_INLINE_CONTENT_TYPES", ["application/pdf"], "evidencepress.S007"),
    ("WAGTAILDOCS_SERVE_METHOD", "direct", "evidencepress.S007"),
    ("WAGTAIL_PRIVATE_PAGE_OPTIONS", {"SHARED_PASSWORD": True}, "evidencepress.S008"),
    ("SECURE_CROSS_ORIGIN_OPENER_POLICY", "unsafe-none", "evidencepress.S009"),
]


def _deploy_check_ids() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True, tags=["security"])}


def _insecure(settings: object, name: str, value: object) -> object:
    current = getattr(settings, name)
    if isinstance(value, str) and value.startswith("drop:"):
        return [entry for entry in current if entry != value[5:]]
    if isinstance(value, str) and value.startswith("script:"):
        directives = dict(current["DIRECTIVES"])
        directives["script-src"] = [*directives["script-src"], value[7:]]
        return {**current, "DIRECTIVES": directives}
    return value


def test_production_values_pass_every_guard(prod: dict[str, object], settings: object) -> None:
    settings.SECRET_KEY = "prod-like-" + "s" * 60  # type: ignore[attr-defined]
    settings.ALLOWED_HOSTS = ["evidence.example.org"]  # type: ignore[attr-defined]
    guarded = {check_id for _, _, check_id in GUARDS}
    assert _deploy_check_ids() & guarded == set()


@pytest.mark.parametrize(
    ("name", "value", "check_id"), GUARDS, ids=[g[2] + ":" + g[0] for g in GUARDS]
)
def test_an_insecure_value_is_reported(
    prod: dict[str, object], settings: object, name: str, value: object, check_id: str
) -> None:
    settings.SECRET_KEY = "prod-like-" + "s" * 60  # type: ignore[attr-defined]
    settings.ALLOWED_HOSTS = ["evidence.example.org"]  # type: ignore[attr-defined]
    setattr(settings, name, _insecure(settings, name, value))
    assert check_id in _deploy_check_ids()


# --- A6: host header poisoning -------------------------------------------------------------


def test_unknown_hosts_are_refused(prod: dict[str, object]) -> None:
    response = Client().get("/", HTTP_HOST="evil.example", secure=True)
    assert response.status_code == 400


def test_a_forwarded_host_never_reaches_a_password_reset_email(prod: dict[str, object]) -> None:
    from django.contrib.auth import get_user_model
    from django.core import mail

    get_user_model().objects.create_user("resetme", "resetme@example.org", "x" * 20)
    response = Client().post(
        reverse("wagtailadmin_password_reset"),
        {"email": "resetme@example.org"},
        HTTP_X_FORWARDED_HOST="evil.example",
        secure=True,
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "evil.example" not in message.body + str(message.extra_headers)


def test_the_permissions_policy_header_is_well_formed(
    prod: dict[str, object], site_content: dict[str, str], settings: Any
) -> None:
    response = Client().get("/", secure=True)
    entries = [part.strip() for part in response["Permissions-Policy"].split(",")]
    # Structured-field syntax: feature=(), or feature=(self) — never quotes around self.
    assert all(re.fullmatch(r"[a-z-]+=\((self)?\)", entry) for entry in entries), entries
    assert {entry.split("=")[0] for entry in entries} == set(settings.PERMISSIONS_POLICY)
