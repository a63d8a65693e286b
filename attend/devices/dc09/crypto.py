"""DC-09 encryption: AES-CBC with an all-zero IV over `pad|data]xdata_timestamp`.

The block cipher sits behind the small `BlockCipher` protocol so the codec does not
depend on any one library. `default_cipher()` uses the `cryptography` package when it
is installed and returns None otherwise; then encrypted frames are answered DUH.
"""

from __future__ import annotations

import re
import secrets
from functools import cache
from typing import Protocol

from attend.devices.dc09.frame import FormatError

__all__ = [
    "BlockCipher",
    "CryptographyAes",
    "default_cipher",
    "open_payload",
    "parse_key",
    "seal_payload",
]

BLOCK = 16
KEY_SIZES = (16, 24, 32)
_HEX = re.compile(rb"(?:[0-9A-Fa-f]{32})+")
_PAD_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class BlockCipher(Protocol):
    """AES-CBC, all-zero IV, no padding; `data` is a whole number of 16-byte blocks."""

    def encrypt(self, key: bytes, data: bytes) -> bytes: ...

    def decrypt(self, key: bytes, data: bytes) -> bytes: ...


class CryptographyAes:
    """`BlockCipher` on the `cryptography` package (imported only when constructed)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._cipher, self._aes, self._cbc = Cipher, algorithms.AES, modes.CBC

    def encrypt(self, key: bytes, data: bytes) -> bytes:
        encryptor = self._cipher(self._aes(key), self._cbc(bytes(BLOCK))).encryptor()
        return bytes(encryptor.update(data) + encryptor.finalize())

    def decrypt(self, key: bytes, data: bytes) -> bytes:
        decryptor = self._cipher(self._aes(key), self._cbc(bytes(BLOCK))).decryptor()
        return bytes(decryptor.update(data) + decryptor.finalize())


@cache
def default_cipher() -> BlockCipher | None:
    """The installed AES backend, or None when `cryptography` is not installed."""
    try:
        return CryptographyAes()
    except ImportError:
        return None


def parse_key(text: str) -> bytes:
    """Hex key of either case → 16, 24 or 32 bytes; anything else raises ValueError."""
    cleaned = text.strip()
    if not re.fullmatch(r"[0-9A-Fa-f]+", cleaned) or len(cleaned) // 2 not in KEY_SIZES:
        raise ValueError("a DC-09 key is 32, 48 or 64 hex digits (AES-128/192/256)")
    if len(cleaned) % 2:
        raise ValueError("odd number of hex digits")
    return bytes.fromhex(cleaned)


def open_payload(payload: bytes, key: bytes, cipher: BlockCipher) -> bytes:
    """Decrypt the hex after `[` and drop the pad: returns `data]xdata_timestamp`.

    1. The payload must be whole blocks of hex (either case).
    2. The pad ends at the first `|` (which is dropped) or, for an empty data field,
       at the first `]` (which is kept). The pad may not contain `[`, `]` or `|`, so
       the first of them ends it, whatever the pad's length or content.
    """
    if not _HEX.fullmatch(payload):
        raise FormatError("encrypted payload is not whole blocks of hex")
    clear = cipher.decrypt(key, bytes.fromhex(payload.decode("ascii")))
    for index, byte in enumerate(clear):
        if byte == 0x7C:  # "|"
            return clear[index + 1 :]
        if byte == 0x5D:  # "]"
            return clear[index:]
        if byte == 0x5B:  # "["
            break
    raise FormatError("no pad separator in the cleartext")


def seal_payload(clear: bytes, key: bytes, cipher: BlockCipher, pad: bytes | None = None) -> bytes:
    """Encrypt `pad + clear` (clear starts with `|` or `]`) → upper-case hex.

    The pad is at least 16 bytes and fills the last block; random letters and digits
    unless a test passes its own.
    """
    if pad is None:
        size = BLOCK + (-len(clear)) % BLOCK
        pad = bytes(secrets.choice(_PAD_ALPHABET) for _ in range(size))
    if (len(pad) + len(clear)) % BLOCK:
        raise ValueError("pad does not fill the last block")
    return cipher.encrypt(key, pad + clear).hex().upper().encode("ascii")
