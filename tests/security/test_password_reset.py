"""C8: the staff password reset (Wagtail's `/admin/password_reset/`).

A stranger cannot learn whether an address has an account; a reset link works once, stops
working after PASSWORD_RESET_TIMEOUT (at most an hour), and only ever points at our host.
"""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new staff passphrase 31"
LINK = re.compile(r"https?://[^\s\"'<>]+")
CSRF = re.compile(r'("CSRF_TOKEN": "|name="csrfmiddlewaretoken" value=")[^"]+')


@pytest.fixture
def staff() -> object:
    return get_user_model().objects.create_user(
        "resa", "resa@example.org", "the old staff passphrase 12", is_staff=True
    )


def ask_for_reset(email: str) -> tuple[int, str, str]:
    response = Client().post(reverse("wagtailadmin_password_reset"), {"email": email})
    page = Client().get(response["Location"]) if response.status_code == 302 else response
    # The CSRF token is random per request; everything else must be identical.
    html = CSRF.sub("CSRF", page.content.decode())
    return response.status_code, response.get("Location", ""), html


def reset_link() -> str:
    assert len(mail.outbox) == 1
    links = LINK.findall(mail.outbox[0].body)
    confirm = [link for link in links if "/password_reset/confirm/" in link]
    assert len(confirm) == 1, links
    return confirm[0]


def test_known_and_unknown_addresses_get_the_same_answer(staff: object) -> None:
    known = ask_for_reset("resa@example.org")
    unknown = ask_for_reset("nobody-here@example.org")
    assert known == unknown
    assert known[0] == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["resa@example.org"]


def test_every_link_in_the_email_points_at_our_host(staff: object) -> None:
    ask_for_reset("resa@example.org")
    links = LINK.findall(mail.outbox[0].body)
    assert links
    hosts = {re.sub(r"^https?://([^/:]+).*$", r"\1", link) for link in links}
    assert hosts <= {"testserver", *settings.ALLOWED_HOSTS} - {"*"}


def use_link(client: Client, link: str, password: str = NEW_PASSWORD) -> int:
    """Follow the emailed link and set a password; returns the final status (302 = done)."""
    path = re.sub(r"^https?://[^/]+", "", link)
    landing = client.get(path)
    if landing.status_code != 302:  # Django redirects a valid token to .../set-password/
        return landing.status_code
    done = client.post(landing["Location"], {"new_password1": password, "new_password2": password})
    return done.status_code


def test_a_reset_link_works_once(staff: object) -> None:
    ask_for_reset("resa@example.org")
    link = reset_link()
    assert use_link(Client(), link) == 302
    user = get_user_model().objects.get(username="resa")
    assert user.check_password(NEW_PASSWORD)

    again = use_link(Client(), link, password="someone else's passphrase 77")
    assert again != 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_reset_link_expires_within_the_hour(staff: object) -> None:
    assert settings.PASSWORD_RESET_TIMEOUT <= 3600
    with time_machine.travel(datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)) as clock:
        ask_for_reset("resa@example.org")
        link = reset_link()
        clock.shift(datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60))
        assert use_link(Client(), link) != 302
    user = get_user_model().objects.get(username="resa")
    assert user.check_password("the old staff passphrase 12")
