"""The browser fixture of tests/browser, for the topic tests that drive chromium."""

from __future__ import annotations

from ..browser.conftest import browser  # noqa: F401  (a fixture, used by name)
