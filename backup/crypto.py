"""Client-side AES-256-GCM for backup objects: the key stays here, sites only ever see ciphertext.

Stream format: MAGIC, 8-byte key id, 8-byte nonce prefix, then frames of (4-byte length, ciphertext).
Each frame seals up to 1 MiB with nonce = prefix || frame counter and AAD saying whether it is the
last frame, so reordered, dropped or truncated frames fail authentication like flipped bits do.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Iterable, Iterator

from backup.errors import CorruptObject, WrongKey

MAGIC = b"ERPB\x01"
FRAME = 1 << 20
HEADER = len(MAGIC) + 8 + 8
TAG = 16
_MORE, _LAST = b"more", b"last"


def key_id(key: bytes) -> str:
    """A public fingerprint of the key, stored in manifests so a wrong key is named before any download."""
    return hashlib.sha256(b"erpops-backup-key-id\0" + key).hexdigest()[:16]


def encrypt_stream(chunks: Iterable[bytes], key: bytes, nonce_prefix: bytes | None = None) -> Iterator[bytes]:
    """Encrypt a byte stream chunk by chunk (random nonce prefix unless one is given)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(key)
    prefix = nonce_prefix or os.urandom(8)
    yield MAGIC + bytes.fromhex(key_id(key)) + prefix
    counter = 0
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) > FRAME:
            yield _seal(aead, prefix, counter, bytes(buffer[:FRAME]), _MORE)
            del buffer[:FRAME]
            counter += 1
    yield _seal(aead, prefix, counter, bytes(buffer), _LAST)


def _seal(aead: object, prefix: bytes, counter: int, plain: bytes, aad: bytes) -> bytes:
    sealed: bytes = aead.encrypt(prefix + struct.pack(">I", counter), plain, aad)  # type: ignore[attr-defined]
    return struct.pack(">I", len(sealed)) + sealed


def encrypt_deterministic(data: bytes, key: bytes) -> bytes:
    """Same plaintext, same ciphertext: the nonce prefix is a keyed hash of the content.

    For WAL files, so that archiving a segment twice stores one object, not two. Nonces repeat only
    for identical plaintext, which reveals equality and nothing else.
    """
    prefix = hmac.new(key, b"erpops-wal-nonce\0" + hashlib.sha256(data).digest(), hashlib.sha256).digest()[:8]
    return b"".join(encrypt_stream([data], key, prefix))


def decrypt_stream(chunks: Iterable[bytes], key: bytes, what: str = "object") -> Iterator[bytes]:
    """Decrypt a stream made by `encrypt_stream`; a wrong key raises WrongKey, damage raises CorruptObject."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(key)
    reader = _Reader(iter(chunks))
    header = reader.take(HEADER)
    if len(header) < HEADER or not header.startswith(MAGIC):
        raise CorruptObject(f"{what} is not an erpops encrypted object (bad header)")
    stored_id = header[len(MAGIC) : len(MAGIC) + 8].hex()
    if stored_id != key_id(key):
        raise WrongKey(
            f"{what} was encrypted with key id {stored_id}, but the configured key has id {key_id(key)}: "
            "set backup.encryption_key to the key the backup was made with"
        )
    prefix = header[len(MAGIC) + 8 :]
    counter = 0
    while True:
        size_bytes = reader.take(4)
        if len(size_bytes) < 4:
            raise CorruptObject(f"{what} is truncated: the last frame is missing")
        (size,) = struct.unpack(">I", size_bytes)
        sealed = reader.take(size)
        if len(sealed) < size or size < TAG:
            raise CorruptObject(f"{what} is truncated in frame {counter}")
        nonce = prefix + struct.pack(">I", counter)
        for aad in (_MORE, _LAST):
            try:
                plain = aead.decrypt(nonce, sealed, aad)
                break
            except InvalidTag:
                continue
        else:
            raise CorruptObject(f"{what}: frame {counter} failed authentication (the object is damaged)")
        yield plain
        if aad == _LAST:
            if reader.take(1):
                raise CorruptObject(f"{what} has bytes after its last frame")
            return
        counter += 1


class _Reader:
    """Take exact byte counts out of a chunk iterator."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = bytearray()

    def take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            nxt = next(self.chunks, None)
            if nxt is None:
                break
            self.buffer += nxt
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out
