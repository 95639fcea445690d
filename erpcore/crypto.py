"""Sensitive fields at rest: AES-256-GCM with a key id in every value, so keys can rotate without downtime.

A sealed value is text: `v1:<key id>:<base64url(nonce + ciphertext + tag)>`. The associated data is the
field's name (`employee.salary`), so a value copied into another column fails authentication. Reading uses
whichever configured key the value names; writing uses the active key. With no key configured, values are
stored as they are (a development database) and `erpops keys rotate` seals them once a key is set.

Keys come from the settings (`encryption_key`, ERPOPS_ENCRYPTION_KEY, and/or `encryption_key_file`), as
`KID:BASE64KEY` entries; `erpops keys generate` prints a fresh one.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from erpcore.exceptions import ConfigError, IntegrityViolation, ValidationFailed

if TYPE_CHECKING:
    from erpcore.config import Settings

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
HINT = "set ERPOPS_ENCRYPTION_KEY (or encryption_key_file) with that key's KID:BASE64KEY entry"


class MissingKey(ConfigError):
    """A stored value names a key id that is not configured (exit 2: the configuration cannot be used; HTTP 500
    with this code: the server, not the request, is wrong)."""

    code = "encryption_key_missing"


class DecryptionFailed(IntegrityViolation):
    """A sealed value fails authentication: altered, moved from another field, or the key id reused."""

    code = "decryption_failed"


def key_id(stored: str | None) -> str | None:
    """The key id a stored value was sealed with, or None for a plain (or absent) value."""
    if stored is None or not stored.startswith(VERSION + ":"):
        return None
    return stored.split(":", 2)[1]


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_key(kid: str) -> str:
    """A new `KID:BASE64KEY` entry (256 random bits)."""
    if not KEY_ID.match(kid):
        raise ValidationFailed(f"key id {kid!r} must be 1-32 letters, digits, '_' or '-'")
    return f"{kid}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip('=')}"


def parse_keys(text: str, origin: str) -> dict[str, bytes]:
    """`KID:BASE64KEY` entries separated by commas or new lines (`#` starts a comment), in order."""
    keys: dict[str, bytes] = {}
    for raw in re.split(r"[,\n]", text):
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        kid, sep, encoded = entry.partition(":")
        kid = kid.strip()
        if not sep or not KEY_ID.match(kid):
            raise ConfigError(f"{origin}: an entry is not KID:BASE64KEY (key id of letters, digits, '_' or '-'); "
                              "`erpops keys generate KID` prints one")
        try:
            key = _b64decode(encoded.strip())
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise ConfigError(f"{origin}: key {kid!r} is not {KEY_BYTES} bytes of base64; "
                              "`erpops keys generate KID` prints one")
        if kid in keys:
            raise ConfigError(f"{origin}: key id {kid!r} is listed twice")
        keys[kid] = key
    return keys


@dataclass(frozen=True)
class Keyring:
    """The configured keys by id and the one new values are sealed with (None: values stay plain)."""

    keys: Mapping[str, bytes] = field(default_factory=dict)
    active: str | None = None

    def __post_init__(self) -> None:
        if self.active is not None and self.active not in self.keys:
            raise ConfigError(f"encryption_active_key {self.active!r} is not among the configured keys "
                              f"({', '.join(self.keys) or 'none'})")

    def seal(self, value: str | None, context: str) -> str | None:
        """`value` as it is stored: sealed with the active key, or plain when no key is configured."""
        if value is None:
            return None
        if self.active is None:
            if value.startswith(VERSION + ":"):
                raise ValidationFailed(f"{context} must not start with '{VERSION}:'")
            return value
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, value.encode(), context.encode())
        return f"{VERSION}:{self.active}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"

    def open(self, stored: str | None, context: str) -> str | None:
        """The plain value of a stored one; MissingKey or DecryptionFailed, one line each, when it cannot be."""
        kid = key_id(stored)
        if stored is None or kid is None:
            return stored
        key = self.keys.get(kid)
        if key is None:
            raise MissingKey(f"{context} holds values encrypted with key {kid!r}, which is not configured: {HINT}")
        try:
            blob = _b64decode(stored.split(":", 2)[2])
            return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
            raise DecryptionFailed(f"{context}: a value sealed with key {kid!r} fails authentication (altered, "
                                   f"copied from another field, or key {kid!r} is not the key it was written "
                                   "with)") from None

    def is_current(self, stored: str | None) -> bool:
        """Whether a stored value needs no rotation: absent, or sealed with the active key (plain if none)."""
        return stored is None or key_id(stored) == self.active


def keyring(settings: Settings) -> Keyring:
    """The keys the settings name: the key file's entries, then ERPOPS_ENCRYPTION_KEY's; the active one is
    `encryption_active_key`, else the last listed."""
    keys: dict[str, bytes] = {}
    path: Path | None = settings.encryption_key_file
    if path is not None:
        try:
            keys.update(parse_keys(path.read_text(), f"encryption_key_file {path}"))
        except OSError as exc:
            raise ConfigError(f"encryption_key_file {path} cannot be read: {exc.strerror}") from exc
    if settings.encryption_key is not None:
        for kid, key in parse_keys(settings.encryption_key.get_secret_value(), "ERPOPS_ENCRYPTION_KEY").items():
            if keys.get(kid, key) != key:
                raise ConfigError(f"key id {kid!r} names two different keys (key file and ERPOPS_ENCRYPTION_KEY)")
            keys[kid] = key
    active = settings.encryption_active_key or (list(keys)[-1] if keys else None)
    return Keyring(keys, active)


def mask(value: str | None, keep: int = 4) -> str | None:
    """`****1234`: all but the last `keep` characters hidden (all of a short value)."""
    if value is None:
        return None
    shown = value[-keep:] if len(value) > 2 * keep else ""
    return "****" + shown
