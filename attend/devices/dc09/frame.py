"""SIA DC-09 frames: `<LF>CRC 0LLL "[*]ID" seq [Rrcvr] Lpref #acct [data][xdata…][_timestamp]<CR>`.

Parsing is split in two so an encrypted frame can be opened in between:
`parse_frame` checks the envelope, CRC and length and reads the clear header;
`parse_content` reads `data]`, the `[xdata]` blocks and the `_timestamp` (for an
encrypted frame, of the cleartext after the pad).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from attend.devices.dc09.crc import crc16_arc

__all__ = [
    "CrcError",
    "FormatError",
    "Frame",
    "FrameError",
    "LengthError",
    "Payload",
    "format_timestamp",
    "parse_content",
    "parse_frame",
    "parse_timestamp",
    "wrap",
]

LF = 0x0A
CR = 0x0D
MAX_BODY = 0xFFF

_HEADER = re.compile(
    rb'"(\*?)([A-Z0-9-]{1,16})"(\d{4})(?:R([0-9A-Fa-f]{1,6}))?L([0-9A-Fa-f]{1,6})'
    rb"#([0-9A-Fa-f]{3,16})\[",
)
_HEX4 = re.compile(rb"[0-9A-Fa-f]{4}")
_TIMESTAMP = re.compile(r"(\d\d):(\d\d):(\d\d),(\d\d)-(\d\d)-(\d{4})")


class FrameError(ValueError):
    """The bytes are not a DC-09 frame we can answer."""


class CrcError(FrameError):
    """The CRC does not match: the frame is corrupt and gets no reply."""


class LengthError(FrameError):
    """The length field does not match: the frame is corrupt and gets no reply."""


class FormatError(FrameError):
    """The frame is intact but its content is not understood (answered with DUH)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """The clear header of an intact frame; `payload` is everything after the first `[`."""

    token: str
    encrypted: bool
    seq: str
    receiver: str | None
    line: str
    account: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Payload:
    """The readable part of a message: data, extended data blocks and the sender's clock."""

    data: str
    xdata: tuple[str, ...]
    timestamp: datetime | None


def wrap(body: bytes) -> bytes:
    """Frame `body` (from the opening quote on) with LF, CRC, length and CR."""
    if len(body) > MAX_BODY:
        raise FormatError("body longer than 0xFFF bytes")
    return b"\n%04X%04X%s\r" % (crc16_arc(body), len(body), body)


def parse_frame(raw: bytes) -> Frame:
    """Check envelope, CRC and length of one frame and read its header.

    Raises `CrcError` / `LengthError` for corrupt frames (no reply) and `FormatError`
    for an intact frame whose header cannot be read.
    """
    body = _checked_body(raw)
    match = _HEADER.match(body)
    if match is None:
        raise FormatError("header not understood")
    flag, token, seq, receiver, line, account = match.groups()
    return Frame(
        token=token.decode("ascii"),
        encrypted=flag == b"*",
        seq=seq.decode("ascii"),
        receiver=None if receiver is None else receiver.decode("ascii"),
        line=line.decode("ascii"),
        account=account.decode("ascii"),
        payload=body[match.end() :],
    )


def _checked_body(raw: bytes) -> bytes:
    if len(raw) < 11 or raw[0] != LF or raw[-1] != CR:
        raise FormatError("missing LF … CR envelope")
    crc_field, length_field, body = raw[1:5], raw[5:9], raw[9:-1]
    if not (_HEX4.fullmatch(crc_field) and _HEX4.fullmatch(length_field)):
        raise CrcError("CRC or length field is not hex")
    if int(length_field, 16) != len(body):
        raise LengthError(f"length field {length_field!r} but body is {len(body)} bytes")
    if int(crc_field, 16) != crc16_arc(body):
        raise CrcError(f"CRC field {crc_field!r} does not match")
    return body


def parse_content(text: bytes) -> Payload:
    """Read `data]` `[xdata]…` `_HH:MM:SS,MM-DD-YYYY` (the opening `[` already consumed)."""
    end = text.find(b"]")
    if end < 0 or b"[" in text[:end]:
        raise FormatError("data field not closed")
    data, rest = _ascii(text[:end]), text[end + 1 :]
    xdata: list[str] = []
    while rest[:1] == b"[":
        close = rest.find(b"]")
        if close < 0:
            raise FormatError("extended data not closed")
        xdata.append(rest[1:close].decode("utf-8", errors="replace"))
        rest = rest[close + 1 :]
    timestamp = None
    if rest[:1] == b"_":
        timestamp, rest = parse_timestamp(_ascii(rest[1:])), b""
    if rest:
        raise FormatError("unexpected bytes after the data")
    return Payload(data=data, xdata=tuple(xdata), timestamp=timestamp)


def _ascii(value: bytes) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise FormatError("non-ASCII data") from exc


def parse_timestamp(text: str) -> datetime:
    """`HH:MM:SS,MM-DD-YYYY` (UTC, as DC-09 requires) → aware datetime."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise FormatError("timestamp not HH:MM:SS,MM-DD-YYYY")
    hour, minute, second, month, day, year = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise FormatError("timestamp out of range") from exc


def format_timestamp(at: datetime) -> str:
    """Aware datetime → `HH:MM:SS,MM-DD-YYYY` in UTC."""
    return at.astimezone(UTC).strftime("%H:%M:%S,%m-%d-%Y")
