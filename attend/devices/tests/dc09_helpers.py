"""Shared pieces of the DC-09 tests: the five verified vectors and a test-only AES backend.

The AES backend uses pycryptodomex, which is installed only as a dependency of the test
peers (siadc09, pysiaalarm); production uses `cryptography` through `CryptographyAes`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from attend.devices.dc09 import Account

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)

VECTORS = [
    (
        b'\nCE110032"SIA-DCS"9876R579BDFL789ABC#12345A[#12345A|NFA129]\r',
        b'\n1B990020"ACK"9876R579BDFL789ABC#12345A[]\r',
    ),
    (
        b'\n87CD0037"ADM-CID"9876R579BDFL789ABC#12345A[#12345A|1110 00 129]\r',
        b'\n1B990020"ACK"9876R579BDFL789ABC#12345A[]\r',
    ),
    (
        b'\n7BE80027"ADM-CID"0001L0#1234[#1234|1120 01 015]\r',
        b'\n1BC10012"ACK"0001L0#1234[]\r',
    ),
    (
        b'\n9EC40027"ADM-CID"0001L0#1002[#1002|1602 00 001]\r',
        b'\n9E580012"ACK"0001L0#1002[]\r',
    ),
    (
        b'\n28330015"NULL"0000R0L0#1234[]\r',
        b'\n181A0014"ACK"0000R0L0#1234[]\r',
    ),
]

KEYS = {
    128: bytes.fromhex("000102030405060708090a0b0c0d0e0f"),
    192: bytes.fromhex("000102030405060708090a0b0c0d0e0f1011121314151617"),
    256: bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
}


def plain_accounts() -> dict[str, Account]:
    return {name: Account(name) for name in ("12345A", "1234", "1002")}


class DomeAes:
    """BlockCipher on pycryptodomex (tests only)."""

    def encrypt(self, key: bytes, data: bytes) -> bytes:
        from Cryptodome.Cipher import AES

        return bytes(AES.new(key, AES.MODE_CBC, iv=bytes(16)).encrypt(data))

    def decrypt(self, key: bytes, data: bytes) -> bytes:
        from Cryptodome.Cipher import AES

        return bytes(AES.new(key, AES.MODE_CBC, iv=bytes(16)).decrypt(data))
