"""Restricted pages and documents need the verified second factor, whatever the sign-in.

Issue #14: a password typed into Wagtail's front-end login (/_util/login/) or the admin login
used to open login-restricted pages without the TOTP code. These tests sign in with the real
forms (not the conftest shortcut that marks sessions verified).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import PASSWORD, totp_code
from .test_private_content import MARKERS, site_with_private_things  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def body(response: Any) -> bytes:
    return b"".join(response) if response.streaming else response.content


def shows_private_content(client: Client, small: Any, document: Any) -> list[str]:
    shown = []
    if MARKERS[0].encode() in body(client.get(small.private.url)):
        shown.append("page")
    if MARKERS[1].encode() in body(client.get(document.url)):
        shown.append("document")
    return shown


def test_the_front_end_login_form_is_the_admin_sign_in(
    site_with_private_things: tuple[Any, Any],  # noqa: F811
    enrolled_editor: tuple[Any, TOTPDevice],
) -> None:
    small, document = site_with_private_things
    client = Client()
    # Anonymous readers of a restricted page are sent to the admin's sign-in.
    response = client.get(small.private.url)
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == reverse("wagtailadmin_login")
    assert parse_qs(login.query)["next"] == [small.private.url]
    # Wagtail's password-only form is gone: it redirects, and a password posted to it signs
    # nobody in.
    old = client.get("/_util/login/?next=/somewhere/")
    assert old.status_code in (301, 302)
    assert old["Location"] == f"{reverse('wagtailadmin_login')}?next=/somewhere/"
    client.post("/_util/login/", {"username": "edna", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert shows_private_content(client, small, document) == []


def test_a_password_alone_opens_no_restricted_page_or_document(
    site_with_private_things: tuple[Any, Any],  # noqa: F811
    enrolled_editor: tuple[Any, TOTPDevice],
) -> None:
    small, document = site_with_private_things
    _, device = enrolled_editor
    client = Client()
    response = client.post(
        f"{reverse('wagtailadmin_login')}?next={small.private.url}",
        {"username": "edna", "password": PASSWORD, "next": small.private.url},
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session  # the password was right
    for url in (small.private.url, document.url):
        response = client.get(url)
        assert response.status_code == 302, url
        target = urlsplit(response["Location"])
        assert target.path == reverse("core:otp_verify"), url
        assert parse_qs(target.query)["next"] == [url]
        assert "no-store" in response["Cache-Control"]
    assert shows_private_content(client, small, document) == []
    # With the code, the same session reads both, and the verify form sends it back.
    response = client.post(
        reverse("core:otp_verify"), {"token": totp_code(device), "next": small.private.url}
    )
    assert response.status_code == 302
    assert response["Location"] == small.private.url
    assert shows_private_content(client, small, document) == ["page", "document"]


def test_a_signed_in_account_without_an_authenticator_must_enrol_first(
    site_with_private_things: tuple[Any, Any],  # noqa: F811
    editor: Any,
) -> None:
    small, document = site_with_private_things
    client = Client()
    client.post(reverse("wagtailadmin_login"), {"username": "edna", "password": PASSWORD})
    response = client.get(small.private.url, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("core:otp_setup"))
    assert shows_private_content(client, small, document) == []
