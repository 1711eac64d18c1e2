"""Shared fixtures. Tests never reach the internet: sockets to non-loopback hosts are refused."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if (
        isinstance(host, str)
        and host not in ("127.0.0.1", "localhost", "::1")
        and not (host.startswith("/") or self.family == socket.AF_UNIX)
    ):
        raise RuntimeError(f"tests may not open network connections (tried {address!r})")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def _fresh_default_cache() -> None:
    """Counters kept in the default cache (audit log refusals, API limits) start at zero."""
    from django.core.cache import caches

    caches["default"].clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request: pytest.FixtureRequest) -> Iterator[None]:
    """Rate-limit counts (core.ratelimit) live in a database table, shared by processes. A test
    in a transaction leaves none behind (rolled back); a transactional test's are cleared."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.core.cache import caches

    caches["ratelimit"].clear()
    yield
    caches["ratelimit"].clear()


def ensure_wagtail_tree() -> object:
    """Recreate what Wagtail's migrations add (locale, tree root, default site) if missing.

    Transactional tests (live server, browser) flush every table when they finish, so later
    tests cannot rely on rows created by migrations. Returns the default site's root page.
    """
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page, Site

    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    from wagtail.models import Collection

    if Collection.get_first_root_node() is None:  # images and documents need the root collection
        Collection.add_root(name="Root")
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        site = Site.objects.create(
            hostname="localhost", port=80, root_page=root, is_default_site=True
        )
    return site.root_page


@pytest.fixture
def wagtail_tree(db: None) -> object:
    return ensure_wagtail_tree()


# --- Staff second factor in tests ---------------------------------------------------------
# Every /admin/ page needs a verified TOTP device (evidencepress.core.middleware). Tests that
# sign a user in with client.force_login() or client.login() get a confirmed device and a
# verified session, as if they had typed a code. tests/security/ checks the real flow.
_real_force_login = None
_real_login = None


def totp_code(device: object, at: float | None = None) -> str:
    """The six digits an authenticator app shows for this TOTP device now (or at `at`)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)  # type: ignore[attr-defined]
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"  # type: ignore[attr-defined]


def _mark_otp_verified(client: object, user: object) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    session = client.session  # type: ignore[attr-defined]
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def _force_login_with_otp(self: object, user: object, backend: str | None = None) -> None:
    _real_force_login(self, user, backend)  # type: ignore[misc]
    _mark_otp_verified(self, user)


def _login_with_otp(self: object, **credentials: object) -> bool:
    """Client.login with a request object (django-axes needs one) and a verified second factor."""
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    user = authenticate(RequestFactory().post("/admin/login/"), **credentials)
    if user is None:
        return False
    _real_force_login(self, user, getattr(user, "backend", None))  # type: ignore[misc]
    _mark_otp_verified(self, user)
    return True


@pytest.fixture(autouse=True)
def _otp_aware_test_client(monkeypatch: pytest.MonkeyPatch) -> None:
    global _real_force_login, _real_login
    from django.test import Client

    if _real_force_login is None:
        _real_force_login, _real_login = Client.force_login, Client.login
    monkeypatch.setattr(Client, "force_login", _force_login_with_otp)
    monkeypatch.setattr(Client, "login", _login_with_otp)
