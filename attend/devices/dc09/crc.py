"""CRC-16/ARC as SIA DC-09 uses it: polynomial 0x8005 reflected (0xA001), initial value 0."""

from __future__ import annotations

__all__ = ["crc16_arc"]


def _table() -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        rows.append(crc)
    return tuple(rows)


_TABLE = _table()


def crc16_arc(data: bytes) -> int:
    """Return the CRC of `data`; `crc16_arc(b"123456789") == 0xBB3D`."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc
