"""Static checks of the code base: template safety (D4), bandit (H1), supported versions and
pinned requirements (H2/H4), no secrets in the repository (H5)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import django
import pytest
import wagtail

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "evidencepress"
ALLOWLIST = ROOT / "security" / "template-allowlist.txt"

UNSAFE_TEMPLATE = re.compile(
    # A string literal (mark_safe("<br>"), SafeString("")) is fine; anything else is not.
    r"\|\s*safe\b|\b(?:mark_safe|SafeString|SafeText)\((?!\s*(?:\"[^\"]*\"|'[^']*')\s*\))"
    r"|\{%\s*autoescape\s+off"
    r"|(?<=\s)[\w:-]+=\{\{"
)


def _allowlist() -> list[tuple[str, str]]:
    entries = []
    for line in ALLOWLIST.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            path, text, reason = (part.strip() for part in line.split("|", 2))
            assert reason, f"{ALLOWLIST}: every exception needs a reason ({path})"
            entries.append((path, text))
    return entries


def unsafe_template_uses() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted([*SOURCE.rglob("*.html"), *SOURCE.rglob("*.py")]):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if UNSAFE_TEMPLATE.search(line):
                found.append((str(path.relative_to(ROOT)), number, line.strip()))
    return found


def test_no_unreviewed_safe_filters_mark_safe_or_unquoted_attributes() -> None:
    allowed = _allowlist()
    unreviewed = [
        f"{path}:{number}: {line}"
        for path, number, line in unsafe_template_uses()
        if not any(path == a_path and a_text in line for a_path, a_text in allowed)
    ]
    assert unreviewed == []


def test_the_lint_catches_what_it_is_meant_to() -> None:
    for bad in (
        "{{ value|safe }}",
        "{{ value | safe }}",
        "x = mark_safe(text)",
        "format_html('{}', SafeString(text))",
        "{% autoescape off %}",
        '<a href="/x" title={{ title }}>',
    ):
        assert UNSAFE_TEMPLATE.search(bad), bad
    for fine in (
        '<a href="?q={{ q|urlencode }}">',
        '<p class="safety">{{ text }}</p>',
        'return SafeString("")',
    ):
        assert not UNSAFE_TEMPLATE.search(fine), fine


def test_allowlist_has_no_stale_entries() -> None:
    uses = unsafe_template_uses()
    stale = [
        f"{path} | {text}"
        for path, text in _allowlist()
        if not any(path == u_path and text in line for u_path, _, line in uses)
    ]
    assert stale == []


@pytest.mark.slow
def test_bandit_finds_no_high_severity_issue() -> None:
    bandit = Path(sys.executable).with_name("bandit")
    done = subprocess.run(
        [str(bandit), "-r", str(SOURCE), "-lll", "-q", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    high = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert high == []
    assert report["metrics"]["_totals"]["loc"] > 1000  # it really scanned the code


def test_django_and_wagtail_are_in_supported_series() -> None:
    assert django.VERSION[:2] == (5, 2), "Django 5.2 LTS (security support until April 2028)"
    assert wagtail.VERSION[0] == 8, "Wagtail 8.x"
    pins = _pins()
    assert pins["django"].startswith("5.2.")
    assert pins["wagtail"].startswith("8.")


def _pins() -> dict[str, str]:
    pins = {}
    for requirements in (ROOT / "requirements").glob("*.txt"):
        for line in requirements.read_text().splitlines():
            line = line.split("#")[0].strip()
            if not line or line.startswith("-r"):
                continue
            match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([\w.]+)", line)
            assert match, f"{requirements.name}: {line!r} is not pinned with =="
            pins[match.group(1).split("[")[0].lower()] = match.group(2)
    return pins


def test_every_requirement_is_pinned() -> None:
    assert len(_pins()) >= 20


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abpors]-[A-Za-z0-9-]{10,}"),
    "API key assignment": re.compile(
        r"(?i)\b(?:api_key|secret_key|password|token)\s*=\s*['\"][A-Za-z0-9+/=_\-]{24,}['\"]"
    ),
    "Fernet key": re.compile(r"['\"][A-Za-z0-9_\-]{43}=['\"]"),
}
# Places where a fixed, deliberately public value is expected (each says so in a comment).
SECRET_ALLOWED = ("evidencepress/settings/test.py", "evidencepress/settings/dev.py", "tests/")


def repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_no_secrets_in_the_repository() -> None:
    hits = []
    for path in repository_files():
        relative = str(path.relative_to(ROOT))
        if relative.startswith(SECRET_ALLOWED) or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(errors="ignore")
        hits += [f"{relative}: {kind}" for kind, rx in SECRET_PATTERNS.items() if rx.search(text)]
    assert hits == []


def test_the_secret_scan_recognises_secrets() -> None:
    samples = [
        "-----BEGIN RSA PRIVATE KEY-----",
        "AKIAABCDEFGHIJKLMNOP",
        "SECRET_KEY = 'q9w8e7r6t5y4u3i2o1p0a9s8d7f6g5h4'",
        "KEY = 'ZXZpZGVuY2VwcmVzcy10ZXN0LWtleS1ub3QtcmVhbCE='",
    ]
    for sample in samples:
        assert any(rx.search(sample) for rx in SECRET_PATTERNS.values()), sample
