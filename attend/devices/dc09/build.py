"""Build DC-09 frames: our replies (ACK, NAK, DUH) and, for tests and simulators, messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attend.devices.dc09.crypto import BlockCipher, seal_payload
from attend.devices.dc09.frame import Frame, format_timestamp, wrap

__all__ = ["ack", "duh", "encode_message", "nak"]


def _route(seq: str, receiver: str | None, line: str, account: str) -> bytes:
    """`seq[Rrcvr]Lpref#acct`, echoed exactly as the sender wrote it."""
    rcvr = b"" if receiver is None else b"R" + receiver.encode("ascii")
    return b"%s%sL%s#%s" % (seq.encode("ascii"), rcvr, line.encode("ascii"), account.encode())


def ack(
    frame: Frame,
    now: datetime,
    key: bytes | None = None,
    cipher: BlockCipher | None = None,
    pad: bytes | None = None,
) -> bytes:
    """ACK echoing seq, R, L and account; `*ACK` with our clock when the message was encrypted."""
    route = _route(frame.seq, frame.receiver, frame.line, frame.account)
    if not frame.encrypted:
        return wrap(b'"ACK"%s[]' % route)
    if key is None or cipher is None:
        raise ValueError("an encrypted ACK needs the account's key and a cipher")
    clear = b"]_" + format_timestamp(now).encode("ascii")
    return wrap(b'"*ACK"%s[%s' % (route, seal_payload(clear, key, cipher, pad)))


def nak(now: datetime) -> bytes:
    """NAK carrying the receiver's clock so the sender can correct its own."""
    return wrap(b'"NAK"0000R0L0A0[]_' + format_timestamp(now).encode("ascii"))


def duh(frame: Frame) -> bytes:
    """DUH: intact, but we cannot process it (unknown account, unsupported content)."""
    return wrap(b'"DUH"%s[]' % _route(frame.seq, frame.receiver, frame.line, frame.account))


def encode_message(
    token: str,
    seq: int,
    account: str,
    data: str = "",
    *,
    receiver: str | None = None,
    line: str = "0",
    xdata: Sequence[str] = (),
    timestamp: datetime | None = None,
    key: bytes | None = None,
    cipher: BlockCipher | None = None,
    pad: bytes | None = None,
) -> bytes:
    """A message as a badge or panel would send it (encrypted when a key is given)."""
    route = _route(f"{seq % 10000:04d}", receiver, line, account)
    tail = b"".join(b"[" + item.encode("utf-8") + b"]" for item in xdata)
    if timestamp is not None:
        tail += b"_" + format_timestamp(timestamp).encode("ascii")
    if key is None:
        return wrap(b'"%s"%s[%s]%s' % (token.encode("ascii"), route, data.encode("ascii"), tail))
    if cipher is None:
        raise ValueError("an encrypted message needs a cipher")
    clear = (b"|" + data.encode("ascii") if data else b"") + b"]" + tail
    sealed = seal_payload(clear, key, cipher, pad)
    return wrap(b'"*%s"%s[%s' % (token.encode("ascii"), route, sealed))
