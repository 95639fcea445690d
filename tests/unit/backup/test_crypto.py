"""AES-256-GCM streams: round trip, wrong key named clearly, damage and truncation detected."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backup.crypto import FRAME, decrypt_stream, encrypt_stream, key_id
from backup.errors import CorruptObject, WrongKey
from backup.settings import parse_key
from erpcore.exceptions import ConfigError

KEY = bytes(range(32))


def roundtrip(data: bytes, key: bytes = KEY) -> bytes:
    sealed = b"".join(encrypt_stream([data], key))
    return b"".join(decrypt_stream([sealed], key))


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 700))
def test_roundtrip_any_chunking(data: bytes, step: int) -> None:
    sealed = b"".join(encrypt_stream([data[i : i + step] for i in range(0, len(data), step)], KEY))
    assert len(sealed) == len(data) + 21 + 20 * (1 + max(0, len(data) - 1) // FRAME)
    pieces = [sealed[i : i + step] for i in range(0, len(sealed), step)]
    assert b"".join(decrypt_stream(pieces, KEY)) == data


def test_multi_frame_roundtrip() -> None:
    data = os.urandom(FRAME * 2 + 17)
    assert roundtrip(data) == data


def test_wrong_key_is_named() -> None:
    sealed = b"".join(encrypt_stream([b"ledger"], KEY))
    other = bytes(32)
    with pytest.raises(WrongKey, match=f"key id {key_id(KEY)}.*configured key has id {key_id(other)}"):
        b"".join(decrypt_stream([sealed], other))


def test_flipped_bit_and_truncation_detected() -> None:
    data = os.urandom(FRAME + 100)
    sealed = bytearray(b"".join(encrypt_stream([data], KEY)))
    damaged = bytes(sealed[:100]) + bytes([sealed[100] ^ 1]) + bytes(sealed[101:])
    with pytest.raises(CorruptObject, match="failed authentication"):
        b"".join(decrypt_stream([damaged], KEY))
    cut = bytes(sealed[: FRAME + 40])  # first frame intact, the last one gone
    with pytest.raises(CorruptObject, match="truncated"):
        b"".join(decrypt_stream([cut], KEY))


def test_parse_key_accepts_hex_and_base64_and_rejects_short() -> None:
    import base64

    assert parse_key(KEY.hex()) == KEY
    assert parse_key(base64.b64encode(KEY).decode()) == KEY
    with pytest.raises(ConfigError, match="32 bytes"):
        parse_key(base64.b64encode(b"short").decode())


def test_deterministic_encryption_for_wal_is_stable_and_decrypts() -> None:
    from backup.crypto import encrypt_deterministic

    a, b = encrypt_deterministic(b"segment", KEY), encrypt_deterministic(b"segment", KEY)
    assert a == b and a != encrypt_deterministic(b"segment2", KEY)
    assert b"".join(decrypt_stream([a], KEY)) == b"segment"
