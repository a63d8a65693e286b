"""What to answer to one DC-09 frame and what it means for Attend: a pure function.

`decide(raw, now, accounts)` touches no clock, socket or database: the receiver passes
the time and a snapshot of the accounts; the duplicate window and supervision live in
the receiver, which knows the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from attend.devices.dc09 import build
from attend.devices.dc09.contact_id import RESTORE, parse_contact_id
from attend.devices.dc09.crypto import BlockCipher, default_cipher, open_payload
from attend.devices.dc09.frame import (
    CrcError,
    FormatError,
    Frame,
    LengthError,
    Payload,
    parse_content,
    parse_frame,
)
from attend.devices.dc09.location import Location, parse_location
from attend.devices.dc09.sia import parse_sia

__all__ = [
    "WINDOW_AFTER",
    "WINDOW_BEFORE",
    "Account",
    "Decision",
    "Event",
    "EventKind",
    "ReplyKind",
    "decide",
]

# DC-09: an encrypted message's timestamp must lie within -40 s … +20 s of our clock.
WINDOW_BEFORE = timedelta(seconds=40)
WINDOW_AFTER = timedelta(seconds=20)
TOKENS = ("SIA-DCS", "ADM-CID", "NULL")


class ReplyKind(StrEnum):
    ACK = "ACK"
    NAK = "NAK"
    DUH = "DUH"


class EventKind(StrEnum):
    RED_ALERT = "red_alert"
    SILENT_RED_ALERT = "silent_red_alert"
    MEDICAL = "medical"
    OVERRUN = "overrun"
    CANCEL = "cancel"
    RESTORE = "restore"
    POSITION = "position"
    SUPERVISION = "supervision"
    OTHER = "other"


# When one frame carries several events, the first kind in this order wins. A duress
# (silent) alarm outranks a loud one: sounding it could endanger the officer.
PRIORITY = (EventKind.SILENT_RED_ALERT, *(k for k in EventKind if k != EventKind.SILENT_RED_ALERT))
# Kinds that keep their meaning when the frame also carries a location.
OUTRANK_POSITION = frozenset(PRIORITY[: PRIORITY.index(EventKind.POSITION)])
ALARMS = frozenset(PRIORITY[: PRIORITY.index(EventKind.CANCEL)])

CID_KINDS = {
    "120": EventKind.RED_ALERT,
    "101": EventKind.RED_ALERT,
    "121": EventKind.SILENT_RED_ALERT,
    "122": EventKind.SILENT_RED_ALERT,
    "100": EventKind.MEDICAL,
    "102": EventKind.OVERRUN,
    "406": EventKind.CANCEL,
    "602": EventKind.SUPERVISION,
}
SIA_KINDS = {
    "PA": EventKind.RED_ALERT,
    "QA": EventKind.RED_ALERT,
    "HA": EventKind.SILENT_RED_ALERT,
    "MA": EventKind.MEDICAL,
    "OC": EventKind.CANCEL,
    "RP": EventKind.SUPERVISION,
    **dict.fromkeys(("PH", "PR", "HH", "HR", "MH", "MR", "QH", "QR"), EventKind.RESTORE),
}


@dataclass(frozen=True, slots=True)
class Account:
    """What the receiver knows of one account (built from a `Device` row)."""

    account: str
    key: bytes | None = None
    receiver: str | None = None
    line: str | None = None
    supervision_seconds: int | None = None
    device_id: int | None = None

    def matches(self, frame: Frame) -> bool:
        """Receiver and line, when configured, must be the ones the frame names."""
        return _same_hex(self.receiver, frame.receiver) and _same_hex(self.line, frame.line)


def _same_hex(configured: str | None, sent: str | None) -> bool:
    return configured is None or (sent is not None and int(configured, 16) == int(sent, 16))


@dataclass(frozen=True, slots=True)
class Event:
    """The meaning of one accepted message, handed to the handler before we ACK."""

    kind: EventKind
    account: str
    seq: str
    receiver: str | None
    line: str
    token: str
    data: str
    code: str = ""
    qualifier: str = ""
    zone: str = ""
    location: Location | None = None
    sent_at: datetime | None = None
    received_at: datetime | None = None
    encrypted: bool = False
    device_id: int | None = None
    duplicate: bool = False

    @property
    def dedupe_key(self) -> str:
        """Same route, seq and content: a retransmission (not a new event after a reboot)."""
        route = f"{self.receiver or '-'}:{self.line}:{self.account}"
        return f"dc09:{route}:{self.seq}:{self.token}:{self.data}"

    @property
    def is_alarm(self) -> bool:
        """Red Alert (loud or silent), medical or overrun: something a person must handle."""
        return self.kind in ALARMS


@dataclass(frozen=True, slots=True)
class Decision:
    """The reply bytes (None: stay silent) and the event, if the frame means one."""

    reply: bytes | None
    reply_kind: ReplyKind | None
    event: Event | None = None
    reason: str = ""
    frame: Frame | None = field(default=None, repr=False)


def decide(
    raw: bytes,
    now: datetime,
    accounts: Mapping[str, Account],
    cipher: BlockCipher | None = None,
) -> Decision:
    """Answer one frame.

    1. Corrupt (CRC, length, envelope) → no reply; unreadable header → no reply.
    2. Unsupported ID, unknown account, wrong receiver/line → DUH.
    3. Encrypted: no key, no AES backend or undecryptable → DUH; a plain frame for an
       account that has a key → DUH (nobody may forge it in clear).
    4. Encrypted without a timestamp within -40 s … +20 s → NAK with our clock.
    5. Content not understood → DUH; otherwise (`*`)ACK with the event.
    """
    try:
        frame = parse_frame(raw)
    except (CrcError, LengthError, FormatError) as exc:
        return Decision(None, None, reason=str(exc))
    account = accounts.get(frame.account.upper())
    refusal = _refusal(frame, account)
    if refusal or account is None:
        return _duh(frame, refusal or "unknown account")
    return _decide_known(frame, account, now, cipher or default_cipher())


def _refusal(frame: Frame, account: Account | None) -> str:
    if frame.token not in TOKENS:
        return f"unsupported message type {frame.token}"
    if account is None or not account.matches(frame):
        return "unknown account"
    if account.key is not None and not frame.encrypted:
        return "clear message for an account that requires encryption"
    if frame.encrypted and account.key is None:
        return "encrypted message for an account without a key"
    return ""


def _duh(frame: Frame, reason: str) -> Decision:
    return Decision(build.duh(frame), ReplyKind.DUH, reason=reason, frame=frame)


def _decide_known(
    frame: Frame, account: Account, now: datetime, cipher: BlockCipher | None
) -> Decision:
    try:
        payload = _payload(frame, account, cipher)
    except FormatError as exc:
        return _duh(frame, str(exc))
    if frame.encrypted and not _in_window(payload.timestamp, now):
        return Decision(build.nak(now), ReplyKind.NAK, reason="timestamp outside window")
    try:
        event = _event(frame, payload, account, now)
    except FormatError as exc:
        return _duh(frame, str(exc))
    reply = build.ack(frame, now, account.key, cipher)
    return Decision(reply, ReplyKind.ACK, event=event, frame=frame)


def _payload(frame: Frame, account: Account, cipher: BlockCipher | None) -> Payload:
    if not frame.encrypted:
        return parse_content(frame.payload)
    if cipher is None or account.key is None:
        raise FormatError("no AES backend installed for encrypted messages")
    return parse_content(open_payload(frame.payload, account.key, cipher))


def _in_window(sent_at: datetime | None, now: datetime) -> bool:
    return sent_at is not None and now - WINDOW_BEFORE <= sent_at <= now + WINDOW_AFTER


def _event(frame: Frame, payload: Payload, account: Account, now: datetime) -> Event:
    kind, code, qualifier, zone = _meaning(frame.token, payload.data)
    location = parse_location(payload.xdata)
    if location is not None and kind not in OUTRANK_POSITION:
        kind = EventKind.POSITION
    return Event(
        kind=kind,
        account=frame.account.upper(),
        seq=frame.seq,
        receiver=frame.receiver,
        line=frame.line,
        token=frame.token,
        data=payload.data,
        code=code,
        qualifier=qualifier,
        zone=zone,
        location=location,
        sent_at=payload.timestamp,
        received_at=now,
        encrypted=frame.encrypted,
        device_id=account.device_id,
    )


def _meaning(token: str, data: str) -> tuple[EventKind, str, str, str]:
    """(kind, code, qualifier, zone) of the data field."""
    if token == "NULL":
        if data:
            raise FormatError("NULL message with data")
        return EventKind.SUPERVISION, "", "", ""
    if token == "ADM-CID":
        cid = parse_contact_id(data)
        kind = EventKind.RESTORE if cid.qualifier == RESTORE else CID_KINDS.get(cid.code)
        return kind or EventKind.OTHER, cid.code, cid.qualifier, cid.zone
    events = parse_sia(data)
    ranked = sorted(events, key=lambda e: PRIORITY.index(SIA_KINDS.get(e.code, EventKind.OTHER)))
    first = ranked[0]
    return SIA_KINDS.get(first.code, EventKind.OTHER), first.code, "", first.address
