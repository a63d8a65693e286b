"""pysiaalarm (Home Assistant's SIA receiver) as an independent decoder of our own frames.

SAFETY.md: send `R0`; without an R field pysiaalarm's ACK contains the literal `None`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pysiaalarm import SIAAccount
from pysiaalarm.event import SIAEvent
from pysiaalarm.utils import ResponseType

from attend.devices.dc09 import encode_message, parse_frame
from attend.devices.tests.dc09_helpers import DomeAes

# pysiaalarm uses the key's ASCII text as the AES key.
TEXT_KEYS = ["ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOPQRSTUVWX", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"]


def peer_decode(frame: bytes, key: str | None) -> SIAEvent:
    line = frame.decode("ascii").strip()
    event = SIAEvent.from_line(line, {"1234": SIAAccount("1234", key)})
    assert isinstance(event, SIAEvent)
    return event


@pytest.mark.parametrize("key", [None, *TEXT_KEYS])
@pytest.mark.parametrize(
    ("token", "data", "code"),
    [
        ("ADM-CID", "#1234|1120 01 015", "PA"),
        ("ADM-CID", "#1234|1121 01 015", "HA"),
        ("ADM-CID", "#1234|1602 00 000", "RP"),
        ("SIA-DCS", "#1234|Nri1/PA015", "PA"),
        ("SIA-DCS", "#1234|NMA", "MA"),
        ("NULL", "", "RP"),
    ],
)
def test_it_encodes_frames_pysiaalarm_accepts(
    key: str | None, token: str, data: str, code: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    raw_key = None if key is None else key.encode("ascii")
    cipher = DomeAes() if key else None
    frame = encode_message(
        token, 31, "1234", data, receiver="0", line="0", timestamp=now, key=raw_key, cipher=cipher
    )
    event = peer_decode(frame, key)
    assert event.valid_message, "pysiaalarm computed another CRC"
    assert (event.account, event.sequence, event.encrypted) == ("1234", "0031", bool(key))
    assert event.code == code
    assert event.response == ResponseType.ACK
    # … and its ACK is a well-formed frame for us.
    reply = parse_frame(event.create_response())
    assert (reply.token, reply.seq, reply.receiver, reply.account) == ("ACK", "0031", "0", "1234")
    assert reply.encrypted is bool(key)
