"""Staff second factor (TOTP, RFC 6238) on top of django-otp.

Services used by the OTP views (evidencepress/core/views.py), the test fixtures and the
browser-test login helper. A user has at most one TOTP device: unconfirmed while enrolling,
confirmed once a first code matched.
"""

from __future__ import annotations

import io
import logging
from base64 import b32encode

import segno
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger("evidencepress.security")

DEVICE_NAME = "Authenticator app"


def confirmed_totp_devices(user: AbstractBaseUser) -> list[TOTPDevice]:
    """The user's confirmed TOTP devices (usually one)."""
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True))


def totp_enrolment_device(*, user: AbstractBaseUser) -> TOTPDevice:
    """Return the user's unconfirmed TOTP device, creating one with a fresh random key.

    Refuses (ValueError) when the user already has a confirmed device: a second device may
    only be added by an administrator, never by someone who knows just the password.
    """
    if confirmed_totp_devices(user):
        raise ValueError("this account already has a confirmed authenticator")
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice(user=user, name=DEVICE_NAME, confirmed=False)
            device.full_clean()
            device.save()
    return device


def totp_secret_for_display(device: TOTPDevice) -> str:
    """The key in base32, grouped in fours, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> bytes:
    """An SVG QR code of the device's otpauth:// URL (segno; no scripts, no external refs)."""
    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(
        buffer, kind="svg", scale=5, xmldecl=False, svgns=True, title="Authenticator QR code"
    )
    return buffer.getvalue()


def totp_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm an enrolling device with its first code; True when the code matched."""
    if device.confirmed:
        raise ValueError("device is already confirmed")
    if not device.verify_token(token):
        logger.warning("otp enrolment code rejected", extra={"user_id": device.user_id})
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    logger.info("otp device enrolled", extra={"user_id": device.user_id})
    return True


def totp_verify(*, user: AbstractBaseUser, token: str) -> TOTPDevice | None:
    """The confirmed device that accepts this code, or None (throttled devices never accept).

    django-otp rejects a code already used (last_t) and slows guessing down exponentially
    after each failure (OTP_TOTP_THROTTLE_FACTOR).
    """
    for device in confirmed_totp_devices(user):
        if device.verify_token(token):
            return device
    logger.warning("otp verification failed", extra={"user_id": user.pk})
    return None


def totp_throttled(user: AbstractBaseUser) -> bool:
    """True while every confirmed device is in its post-failure wait."""
    devices = confirmed_totp_devices(user)
    return bool(devices) and all(not device.verify_is_allowed()[0] for device in devices)
