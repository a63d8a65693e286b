"""TOTP one-time passwords (RFC 6238 over RFC 4226 HOTP), SHA-1, 6 digits, 30-second steps.

Written here rather than taken from a package: it is 40 lines, tested against the RFC's own
vectors, and an authenticator app is all the user needs.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
import time
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6


def new_secret() -> str:
    """A random 160-bit secret, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def code_at(secret: str, at: float | None = None) -> str:
    moment = time.time() if at is None else at
    return hotp(_key(secret), int(moment // STEP_SECONDS))


def verify(secret: str, code: str, at: float | None = None, window: int = 1) -> bool:
    """Accept the code of this step or of `window` steps either side (phone clocks drift)."""
    cleaned = code.strip().replace(" ", "")
    if not (cleaned.isdigit() and len(cleaned) == DIGITS):
        return False
    moment = time.time() if at is None else at
    key = _key(secret)
    step = int(moment // STEP_SECONDS)
    candidates = (hotp(key, step + delta) for delta in range(-window, window + 1))
    return any(hmac.compare_digest(c, cleaned) for c in candidates)


def provisioning_uri(secret: str, *, account: str, issuer: str = "Attend") -> str:
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}"
