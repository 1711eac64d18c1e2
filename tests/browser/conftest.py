"""Playwright driving Debian's chromium (/usr/bin/chromium) against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("EVIDENCEPRESS_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"
# The flags Debian's chromium needs as root in a container with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    # Playwright's sync API runs an event loop; Django refuses ORM calls from inside one unless
    # told that this is deliberate (the tests run the ORM and the browser in turns, not at once).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make system-deps` (apt: chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


def sign_in_to_admin(page: object, base_url: str, username: str, password: str) -> None:
    """Sign in through the real admin form, then the second step (a TOTP code).

    Gives the user a confirmed authenticator if they have none, and types its current code,
    as the staff member would from their phone.
    """
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ..conftest import totp_code

    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Browser test", confirmed=True)
    page.goto(base_url + "/admin/login/")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/otp/verify/**")  # type: ignore[attr-defined]
    page.fill("input[name=token]", totp_code(device))  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/")  # type: ignore[attr-defined]
