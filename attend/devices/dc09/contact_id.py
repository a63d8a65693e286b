"""Ademco Contact ID (SIA DC-05) data as DC-09 carries it: `#ACCT|QEEE GG ZZZ`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from attend.devices.dc09.frame import FormatError

__all__ = ["NEW", "RESTORE", "STILL_PRESENT", "ContactIdEvent", "parse_contact_id"]

NEW, RESTORE, STILL_PRESENT = "1", "3", "6"

_CID = re.compile(
    r"(?:#([0-9A-Fa-f]{3,16})\|)?([136])([0-9A-Fa-f]{3}) ([0-9A-Fa-f]{2}) ([0-9A-Fa-f]{3})"
)


@dataclass(frozen=True, slots=True)
class ContactIdEvent:
    """One Contact ID event: qualifier (1 new, 3 restore, 6 still present), code, group, zone."""

    account: str | None
    qualifier: str
    code: str
    group: str
    zone: str


def parse_contact_id(data: str) -> ContactIdEvent:
    """`#1234|1120 01 015` → ContactIdEvent; anything else raises FormatError."""
    match = _CID.fullmatch(data)
    if match is None:
        raise FormatError(f"not Contact ID data: {data[:40]!r}")
    account, qualifier, code, group, zone = match.groups()
    return ContactIdEvent(account, qualifier, code.upper(), group.upper(), zone.upper())
