"""Staff sign-in: lockout (C1), password policy (C2), second factor (C4), sessions (C5-C7).

These tests use the real login form: the conftest shortcut that marks force_login() sessions
as verified is exactly what they must not rely on.
"""

from __future__ import annotations

import gzip
import re
from datetime import timedelta
from pathlib import Path

import django.contrib.auth
import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .conftest import PASSWORD, totp_code

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "wagtailadmin_home",
    "wagtailadmin_explore_root",
    "wagtaildocs:index",
    "wagtailimages:index",
    "wagtailadmin_account",
]


def password_login(client: Client, username: str, password: str = PASSWORD) -> object:
    return client.post(
        reverse("wagtailadmin_login"),
        {"username": username, "password": password, "next": reverse("wagtailadmin_home")},
        REMOTE_ADDR="192.0.2.10",
    )


def enter_code(client: Client, code: str) -> object:
    return client.post(
        reverse("core:otp_verify"), {"token": code, "next": reverse("wagtailadmin_home")}
    )


# --- C4: a second factor for every admin page --------------------------------------------


def test_password_alone_opens_no_admin_page(enrolled_editor: tuple[object, TOTPDevice]) -> None:
    client = Client()
    response = password_login(client, "edna")
    assert response.status_code == 302  # the password was right
    reached = []
    for name in ADMIN_PAGES:
        response = client.get(reverse(name))
        if response.status_code == 200:
            reached.append(name)
        else:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("core:otp_verify"))
    assert reached == []


def test_password_then_code_opens_the_admin(enrolled_editor: tuple[object, TOTPDevice]) -> None:
    _, device = enrolled_editor
    client = Client()
    password_login(client, "edna")
    form = client.get(reverse("core:otp_verify"))
    assert form.status_code == 200
    assert b"six-digit code" in form.content
    response = enter_code(client, totp_code(device))
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert client.get(reverse("wagtailadmin_home")).status_code == 200


def test_a_wrong_code_keeps_the_admin_closed(enrolled_editor: tuple[object, TOTPDevice]) -> None:
    _, device = enrolled_editor
    client = Client()
    password_login(client, "edna")
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = enter_code(client, wrong)
    assert response.status_code == 200
    assert b"did not match" in response.content
    assert client.get(reverse("wagtailadmin_home")).status_code == 302


def test_a_code_cannot_be_used_twice(enrolled_editor: tuple[object, TOTPDevice]) -> None:
    _, device = enrolled_editor
    code = totp_code(device)
    first = Client()
    password_login(first, "edna")
    assert enter_code(first, code).status_code == 302
    second = Client()  # someone who saw the code over the editor's shoulder
    password_login(second, "edna")
    response = enter_code(second, code)
    assert response.status_code == 200
    assert second.get(reverse("wagtailadmin_home")).status_code == 302


def test_an_expired_code_is_refused(enrolled_editor: tuple[object, TOTPDevice]) -> None:
    _, device = enrolled_editor
    with time_machine.travel(timezone.now() - timedelta(minutes=5), tick=False):
        old_code = totp_code(device)
    client = Client()
    password_login(client, "edna")
    if old_code == totp_code(device):  # one chance in a million that the codes coincide
        pytest.skip("the old and the current code happen to be equal")
    assert enter_code(client, old_code).status_code == 200
    assert client.get(reverse("wagtailadmin_home")).status_code == 302


def test_first_sign_in_enrols_an_authenticator(editor: object) -> None:
    client = Client()
    password_login(client, "edna")
    response = client.get(reverse("wagtailadmin_home"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("core:otp_setup"))
    page = response.content.decode()
    assert reverse("core:otp_setup_qr") in page
    qr = client.get(reverse("core:otp_setup_qr"))
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert b"<script" not in qr.content
    assert "no-store" in qr["Cache-Control"]
    device = TOTPDevice.objects.get(user=editor)
    assert not device.confirmed
    response = client.post(
        reverse("core:otp_setup"),
        {"token": totp_code(device), "next": reverse("wagtailadmin_home")},
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("wagtailadmin_home")).status_code == 200


def test_a_password_alone_cannot_add_a_second_authenticator(
    enrolled_editor: tuple[object, TOTPDevice],
) -> None:
    client = Client()
    password_login(client, "edna")
    response = client.get(reverse("core:otp_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:otp_verify"))
    assert client.get(reverse("core:otp_setup_qr")).status_code == 404
    assert TOTPDevice.objects.filter(user=enrolled_editor[0]).count() == 1


def test_anonymous_visitors_cannot_use_the_otp_pages(db: None) -> None:
    client = Client()
    for name in ("core:otp_verify", "core:otp_setup"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("wagtailadmin_login"))
    assert client.get(reverse("core:otp_setup_qr")).status_code == 404


def test_otp_next_parameter_cannot_leave_the_site(
    enrolled_editor: tuple[object, TOTPDevice],
) -> None:
    _, device = enrolled_editor
    client = Client()
    password_login(client, "edna")
    response = client.post(
        reverse("core:otp_verify"), {"token": totp_code(device), "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")


# --- C1: lockout after five failures -----------------------------------------------------


def _attempts(username: str, password: str, count: int) -> list[object]:
    client = Client()
    return [password_login(client, username, password) for _ in range(count)]


def test_sixth_attempt_is_locked_out_even_with_the_right_password(editor: object) -> None:
    failures = _attempts("edna", "wrong password, not hers", 5)
    # The form again with an error, four times; the fifth failure starts the lockout.
    assert [r.status_code for r in failures] == [200, 200, 200, 200, 429]
    client = Client()
    response = password_login(client, "edna")  # the right password, too late
    assert response.status_code == 429
    assert b"Sign in paused" in response.content
    assert "_auth_user_id" not in client.session


def test_lockout_looks_the_same_for_unknown_accounts(editor: object) -> None:
    _attempts("edna", "wrong", 5)
    _attempts("nobody-by-this-name", "wrong", 5)
    known = password_login(Client(), "edna", "wrong")
    unknown = password_login(Client(), "nobody-by-this-name", "wrong")
    assert known.status_code == unknown.status_code == 429
    # Same page apart from the per-request CSRF token.
    assert _without_tokens(known.content) == _without_tokens(unknown.content)


def _without_tokens(content: bytes) -> bytes:
    return re.sub(rb"[A-Za-z0-9]{32,}", b"TOKEN", content)


def test_lockout_is_per_account_and_address(editor: object) -> None:
    _attempts("edna", "wrong", 5)
    other_address = Client().post(
        reverse("wagtailadmin_login"),
        {"username": "edna", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert other_address.status_code == 302  # a colleague elsewhere is not locked out


def test_lockout_ends_after_the_cool_off(editor: object) -> None:
    _attempts("edna", "wrong", 5)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert password_login(Client(), "edna").status_code == 302


# Behind one proxy every request has the proxy's REMOTE_ADDR; the proxy appends the address it
# saw to X-Forwarded-For. Whatever the client wrote in that header itself comes first.
PROXY = "10.0.0.1"


def _through_proxy(username: str, password: str, *, seen: str, forged: str = "") -> object:
    forwarded = f"{forged}, {seen}" if forged else seen
    return Client().post(
        reverse("wagtailadmin_login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_behind_a_proxy_an_attacker_locks_out_only_their_own_address(
    editor: object, settings: object
) -> None:
    settings.TRUSTED_PROXIES = 1  # type: ignore[attr-defined]
    attacker, colleague = "203.0.113.66", "198.51.100.7"
    # Five wrong passwords, each naming the colleague's address in a forged header.
    codes = [
        _through_proxy("edna", "wrong", seen=attacker, forged=colleague).status_code  # type: ignore[attr-defined]
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 200, 429]
    assert _through_proxy("edna", PASSWORD, seen=attacker).status_code == 429  # type: ignore[attr-defined]
    assert _through_proxy("edna", PASSWORD, seen=colleague).status_code == 302  # type: ignore[attr-defined]
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {attacker}


def test_without_trusted_proxies_the_header_is_ignored(editor: object, settings: object) -> None:
    settings.TRUSTED_PROXIES = 0  # type: ignore[attr-defined]
    for _ in range(5):
        _through_proxy("edna", "wrong", seen="203.0.113.66")
    # Without a trusted proxy REMOTE_ADDR is the client: a different header changes nothing.
    assert _through_proxy("edna", PASSWORD, seen="198.51.100.7").status_code == 429  # type: ignore[attr-defined]


def test_the_audit_log_records_the_client_not_the_proxy(
    enrolled_editor: tuple[object, TOTPDevice], settings: object
) -> None:
    from evidencepress.core.audit import audit_record
    from evidencepress.core.models import AuditEvent

    settings.TRUSTED_PROXIES = 1  # type: ignore[attr-defined]
    request = RequestFactory().get(
        "/admin/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.66"
    )
    event = audit_record(action="test.proxy", actor=enrolled_editor[0], request=request)
    assert AuditEvent.objects.get(pk=event.pk).source_ip == "203.0.113.66"


# --- C2: password policy -----------------------------------------------------------------


def _common_passwords(count: int) -> list[str]:
    source = Path(django.contrib.auth.__file__).parent / "common-passwords.txt.gz"
    with gzip.open(source, "rt") as fh:
        return [line.strip() for line, _ in zip(fh, range(count), strict=False)]


def test_the_100_most_common_passwords_are_refused() -> None:
    accepted = []
    for password in _common_passwords(100):
        try:
            validate_password(password)
        except ValidationError:
            continue
        accepted.append(password)
    assert accepted == []


def test_common_password_refused_even_when_long_enough() -> None:
    long_common = next(p for p in _common_passwords(20_000) if len(p) >= 12)
    with pytest.raises(ValidationError, match="too common"):
        validate_password(long_common)


def test_eleven_characters_are_too_short_and_twelve_are_enough() -> None:
    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("kqzvwpltrmx")
    validate_password("kqzvwpltrmxj")


def test_long_passphrases_without_digits_or_symbols_are_accepted() -> None:
    validate_password("walking along the quiet river bank in autumn " * 2 + "x" * 38)  # 128
    validate_password("tulips grow beside the old stone mill")


# --- C5-C7: sessions ---------------------------------------------------------------------


def test_login_gives_a_new_session_key(enrolled_editor: tuple[object, TOTPDevice]) -> None:
    client = Client()
    client.get(reverse("wagtailadmin_login"))
    session = client.session
    session["visited"] = True
    session.save()
    before = client.cookies["sessionid"].value
    password_login(client, "edna")
    assert client.cookies["sessionid"].value != before


def _verified_client(device: TOTPDevice) -> Client:
    client = Client()
    password_login(client, "edna")
    assert enter_code(client, totp_code(device)).status_code == 302
    return client


def test_thirty_one_idle_minutes_end_the_session(
    enrolled_editor: tuple[object, TOTPDevice],
) -> None:
    client = _verified_client(enrolled_editor[1])
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert client.get(reverse("wagtailadmin_home")).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29 + 31)):
        response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


def test_a_busy_session_still_ends_after_twelve_hours(
    enrolled_editor: tuple[object, TOTPDevice],
) -> None:
    client = _verified_client(enrolled_editor[1])
    start = timezone.now()
    for minutes in range(20, 12 * 60, 20):  # a request every 20 minutes for 12 hours
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get(reverse("wagtailadmin_home")).status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=1)):
        response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


def test_cookie_replayed_after_logout_is_useless(
    enrolled_editor: tuple[object, TOTPDevice],
) -> None:
    client = _verified_client(enrolled_editor[1])
    stolen = client.cookies["sessionid"].value
    client.post(reverse("wagtailadmin_logout"))
    replay = Client()
    replay.cookies["sessionid"] = stolen
    response = replay.get(reverse("wagtailadmin_home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


def test_deactivating_or_changing_the_password_ends_other_sessions(
    enrolled_editor: tuple[object, TOTPDevice],
) -> None:
    user, device = enrolled_editor
    client = _verified_client(device)
    user.set_password("a brand new long passphrase 7")
    user.save()
    assert client.get(reverse("wagtailadmin_home")).status_code == 302
    device.last_t = -1
    device.save()
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        other = Client()
        other.post(
            reverse("wagtailadmin_login"),
            {"username": "edna", "password": "a brand new long passphrase 7"},
        )
        assert enter_code(other, totp_code(device)).status_code == 302
        assert other.get(reverse("wagtailadmin_home")).status_code == 200
        user.is_active = False
        user.save()
        assert other.get(reverse("wagtailadmin_home")).status_code == 302
