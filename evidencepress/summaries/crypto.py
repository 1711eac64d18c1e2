"""Encryption at rest for summary requests: Fernet tokens (AES-128-CBC + HMAC-SHA256).

Keys come from settings (filled from the environment): SUMMARIES_ENCRYPTION_KEYS, a list of
Fernet keys with the current one first, or SUMMARIES_ENCRYPTION_KEY_FILE, a file with one key
per line (current first). MultiFernet decrypts with any listed key and always encrypts with the
first, so a key is rotated by putting a new key first and running `rotate_summary_keys`.

Fail closed: when no usable key is configured, every encrypt or decrypt raises
EncryptionUnavailable and nothing is stored in clear.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

from .exceptions import EncryptionUnavailable


def _keys_from_file(path: Path, *, generate: bool) -> list[str]:
    if not path.exists():
        if not generate:
            raise EncryptionUnavailable(f"The summaries key file {path} does not exist.")
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once cannot both write a different key.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(Fernet.generate_key().decode() + "\n")
    lines = path.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def configured_keys() -> tuple[str, ...]:
    """The configured keys, current first, from the settings or the key file."""
    keys = getattr(settings, "SUMMARIES_ENCRYPTION_KEYS", None) or []
    if isinstance(keys, str):
        keys = keys.split(",")
    cleaned = [key.strip() for key in keys if key and key.strip()]
    if cleaned:
        return tuple(cleaned)
    key_file = getattr(settings, "SUMMARIES_ENCRYPTION_KEY_FILE", "")
    if key_file:
        generate = bool(getattr(settings, "SUMMARIES_GENERATE_KEY_FILE", False))
        return tuple(_keys_from_file(Path(key_file), generate=generate))
    raise EncryptionUnavailable(
        "No encryption key for summary requests: set SUMMARIES_ENCRYPTION_KEYS or "
        "SUMMARIES_ENCRYPTION_KEY_FILE."
    )


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise EncryptionUnavailable(
            "A summaries encryption key is malformed (expected a 32-byte url-safe base64 "
            "Fernet key)."
        ) from error


def cipher() -> MultiFernet:
    """The MultiFernet for the configured keys (raises EncryptionUnavailable)."""
    return _multifernet(configured_keys())


def keys_available() -> bool:
    """True when a usable key is configured (checked before accepting a submission)."""
    try:
        cipher()
    except EncryptionUnavailable:
        return False
    return True


def encrypt_text(value: str) -> str:
    return cipher().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise EncryptionUnavailable(
            "A stored value cannot be decrypted with any configured key."
        ) from error


def rotate_token(token: str) -> str:
    """Re-encrypt one stored token with the current key (MultiFernet.rotate)."""
    try:
        return cipher().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as error:
        raise EncryptionUnavailable(
            "A stored value cannot be decrypted with any configured key."
        ) from error


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored as a Fernet token; the empty string is stored as empty (nothing to hide).

    Encrypted values cannot be searched or filtered in the database, by design.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return self.decode(decrypt_text(value))

    def decode(self, plaintext: str) -> Any:
        return plaintext

    def encode(self, value: Any) -> str:
        return str(value)

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        plaintext = self.encode(value)
        if plaintext == "":
            return ""
        return encrypt_text(plaintext)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return value if prepared else self.get_prep_value(value)

    def to_python(self, value: Any) -> Any:
        return value


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (dict or list) stored as one Fernet token."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        super().__init__(*args, **kwargs)

    def decode(self, plaintext: str) -> Any:
        return json.loads(plaintext)

    def encode(self, value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        return super().from_db_value(value, expression, connection)

    def value_to_string(self, obj: Any) -> str:
        return self.encode(self.value_from_object(obj))
