"""D1 browser gate (nightly, `make security-full`, step "xss"): 0 dialogs in a real browser.

    EVIDENCEPRESS_TEST_DB_TAG=-xss DJANGO_SETTINGS_MODULE=evidencepress.settings.test \
        .venv/bin/pytest security/xss_browser.py -p no:xdist --create-db -q -s

Not collected by `make test` (it lives outside tests/). It stores the corpus of
security/xss/payloads.txt exactly as the parse gate does (security/xss/seed.py: raw POSTs to
the admin, the import command, the public request form), serves the site with pytest-django's
live server on 127.0.0.1, and opens every public page, admin listing and edit view, and the
summary request views in Debian's chromium through Playwright, with a `dialog` listener.
Every payload calls alert(); the pass figure is 0 dialogs.

The browser ignores the Content-Security-Policy (`bypass_csp`), so the figure measures the
escaping alone, not the CSP that would also stop most inline script in production. The HTML
inside the feeds (what a feed reader would render) and the admin choosers' HTML are loaded
with `set_content`. Handlers that need a click or a hover are not exercised here; the parse
gate counts every `on*` attribute, fired or not.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from security.xss.corpus import feed_html_parts, payloads
from security.xss.seed import seed

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser,
    # The swimmer plot's long, odd title: matplotlib warns and still draws (see the parse gate).
    pytest.mark.filterwarnings("ignore:Glyph .* missing from font"),
    pytest.mark.filterwarnings("ignore:constrained_layout not applied"),
]


def signed_in(username: str, *, group: str | None = None) -> Client:
    """A test client signed in with the second factor done (a confirmed TOTP device)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    users = get_user_model().objects
    if group is None:
        user = users.create_superuser(username, f"{username}@example.org", "x" * 20)
    else:
        user = users.create_user(username, f"{username}@example.org", "x" * 20)
        user.groups.add(Group.objects.get(name=group))
    device = TOTPDevice.objects.create(user=user, name="xss", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_no_payload_opens_a_dialog_in_chromium(live_server: Any, tmp_path: Path) -> None:
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM and browser take turns
    from playwright.sync_api import sync_playwright

    from evidencepress.core import roles
    from evidencepress.demo.loader import ensure_home_page
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.conftest import ensure_wagtail_tree

    ensure_wagtail_tree()
    ensure_home_page()
    roles.ensure_roles()
    editor = signed_in("xss-browser-admin")
    summary_editor = signed_in("xss-browser-summaries", group=roles.SUMMARY_EDITORS)
    seeded = seed(editor, tmp_path)

    dialogs: list[str] = []
    opened = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )

        def visit(client: Client | None, urls: list[str]) -> int:
            context = browser.new_context(bypass_csp=True)
            if client is not None:
                context.add_cookies(
                    [
                        {
                            "name": settings.SESSION_COOKIE_NAME,
                            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                            "url": live_server.url,
                        }
                    ]
                )
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(f"{page.url}: {d.message}"), d.dismiss()))
            count = 0
            for url in urls:
                response = page.goto(live_server.url + url, wait_until="load")
                assert response is not None, url
                assert response.status == 200, url
                page.wait_for_timeout(300)  # image errors, autofocus, animations
                count += 1
                if url.startswith("/feeds/"):
                    for part in feed_html_parts(response.body()):
                        page.set_content(part, wait_until="load")
                        page.wait_for_timeout(100)
                        count += 1
                elif "chooser" in url or "/choose/" in url:
                    page.set_content(json.loads(response.text()).get("html", ""))
                    page.wait_for_timeout(100)
            context.close()
            return count

        # The listener works: an unescaped payload in a page does open a dialog.
        probe = browser.new_page()
        probed: list[str] = []
        probe.on("dialog", lambda d: (probed.append(d.message), d.dismiss()))
        probe.set_content("<p>probe</p><img src=x onerror=alert('probe')>")
        probe.wait_for_timeout(300)
        probe.close()
        assert probed == ["probe"], probed

        opened += visit(None, [*seeded.public_urls, *seeded.feed_urls])
        opened += visit(editor, [*seeded.admin_urls, *seeded.chooser_urls])
        opened += visit(summary_editor, seeded.summaries_urls)
        browser.close()

    figures = (
        f"D1 browser: {len(payloads())} payloads, {opened} pages opened, {len(dialogs)} dialogs"
    )
    print(figures)
    assert dialogs == [], figures + "\n" + "\n".join(dialogs[:20])
