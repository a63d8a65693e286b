"""Typed helpers that read settings from environment variables and fail loudly.

Every setting of Attend comes from the environment through these functions, so a typo in a
deployment is a clear start-up error rather than a silently wrong default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class SettingError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class Database:
    """A parsed DATABASE_URL, ready to become a Django DATABASES entry."""

    engine: str
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def as_django(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "ENGINE": self.engine,
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": self.port,
            "OPTIONS": dict(self.options),
        }
        return config


_SCHEMES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
}


def parse_database_url(url: str, *, base_dir: Path) -> Database:
    """Parse `sqlite:///relative/or//abs/path` or `postgres://user:pw@host:port/name`."""
    parts = urlsplit(url)
    engine = _SCHEMES.get(parts.scheme)
    if engine is None:
        raise SettingError(
            f"DATABASE_URL scheme {parts.scheme!r} is not supported (use sqlite:// or postgres://)"
        )
    if parts.scheme == "sqlite":
        return _sqlite(parts.path, base_dir)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SettingError("DATABASE_URL names no database (postgres://host:5432/NAME)")
    options = tuple((k, v[-1]) for k, v in parse_qs(parts.query).items())
    return Database(
        engine=engine,
        name=name,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=parts.hostname or "",
        port=str(parts.port or ""),
        options=options,
    )


def _sqlite(path: str, base_dir: Path) -> Database:
    # sqlite:///var/x.db is relative to the project; sqlite:////abs/x.db is absolute.
    if path in ("", "/", "/:memory:"):
        return Database(engine=_SCHEMES["sqlite"], name=":memory:")
    relative = path[1:]
    resolved = Path(relative) if relative.startswith("/") else base_dir / relative
    return Database(engine=_SCHEMES["sqlite"], name=str(resolved))
