from __future__ import annotations

import base64
from pathlib import Path

import pytest

from attend.lib import totp
from attend.lib.env import SettingError, env_bool, env_int, parse_database_url

# RFC 6238 Appendix B, SHA-1 secret "12345678901234567890", 8 digits.
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("at", "expected"), RFC_VECTORS)
def test_it_matches_the_rfc_6238_vectors(at: int, expected: str) -> None:
    assert totp.hotp(b"12345678901234567890", at // 30, digits=8) == expected


def test_it_accepts_the_neighbouring_step_and_rejects_others() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    code = totp.code_at(secret, at=1_000_000)
    assert totp.verify(secret, code, at=1_000_000 + 30)
    assert not totp.verify(secret, code, at=1_000_000 + 90)
    assert not totp.verify(secret, "12ab56", at=1_000_000)


def test_it_parses_database_urls() -> None:
    pg = parse_database_url("postgres://u:p%40ss@db.local:5433/attend", base_dir=Path("/x"))
    assert (pg.engine, pg.name, pg.user, pg.password, pg.host, pg.port) == (
        "django.db.backends.postgresql",
        "attend",
        "u",
        "p@ss",
        "db.local",
        "5433",
    )
    assert parse_database_url("sqlite:///var/a.db", base_dir=Path("/x")).name == "/x/var/a.db"
    assert parse_database_url("sqlite:////abs/a.db", base_dir=Path("/x")).name == "/abs/a.db"
    assert parse_database_url("sqlite:///:memory:", base_dir=Path("/x")).name == ":memory:"


def test_it_fails_loudly_on_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingError, match="scheme 'mysql'"):
        parse_database_url("mysql://h/db", base_dir=Path("/x"))
    monkeypatch.setenv("X_FLAG", "perhaps")
    with pytest.raises(SettingError, match="X_FLAG"):
        env_bool("X_FLAG")
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(SettingError, match="X_NUM"):
        env_int("X_NUM", 1)
