"""SIA DC-03 ("SIA-DCS") data as DC-09 carries it: `#ACCT|Nri1/PA129/RP`.

A data block starts with `N` (new event) and holds `/`-separated elements: lower-case
modifiers (`ri` area, `id` user, `ti` time, `pi` peripheral…) and events, each a
two-letter upper-case code followed by an address (zone or user) and optional
`^text^`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from attend.devices.dc09.frame import FormatError

__all__ = ["SiaEvent", "parse_sia"]

_EVENT = re.compile(r"([A-Z]{2})([0-9A-Za-z]{0,8})(?:\^[^\^]*\^?)?")
_MODIFIER = re.compile(r"[a-z]{2}[0-9A-Za-z:]*")
_ACCOUNT = re.compile(r"#([0-9A-Fa-f]{3,16})")


@dataclass(frozen=True, slots=True)
class SiaEvent:
    """One SIA event code with its address and the area (`ri`) in force."""

    code: str
    address: str
    area: str


def parse_sia(data: str) -> tuple[SiaEvent, ...]:
    """`#12345A|NFA129` → (SiaEvent("FA", "129", ""),); raises FormatError when unreadable."""
    head, _, block = data.rpartition("|")
    if head and not _ACCOUNT.fullmatch(head):
        raise FormatError("SIA-DCS account block not understood")
    if not block.startswith("N"):
        raise FormatError("SIA-DCS block does not start with N")
    events: list[SiaEvent] = []
    area = ""
    for element in block[1:].split("/"):
        area = _read_element(element, area, events)
    if not events:
        raise FormatError("SIA-DCS block holds no event code")
    return tuple(events)


def _read_element(element: str, area: str, events: list[SiaEvent]) -> str:
    """Append the element's event, if any; return the area (`ri`) now in force."""
    if _MODIFIER.fullmatch(element):
        return element[2:] if element.startswith("ri") else area
    match = _EVENT.fullmatch(element)
    if match is None:
        raise FormatError(f"SIA-DCS element not understood: {element[:20]!r}")
    events.append(SiaEvent(match.group(1), match.group(2), area))
    return area
