"""Property test: mutated frames never raise and are never ACKed when corrupt or wrongly keyed."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attend.devices.dc09 import Account, ReplyKind, decide, encode_message
from attend.devices.dc09.frame import wrap
from attend.devices.tests.dc09_helpers import KEYS, NOW, VECTORS, DomeAes

AES = DomeAes()
RIGHT = {
    **{name: Account(name) for name in ("12345A", "1234", "1002")},
    "ABCD": Account("ABCD", key=KEYS[128]),
    "BCDE": Account("BCDE", key=KEYS[256]),
}
WRONG = {name: Account(name, key=bytes(reversed(KEYS[256]))) for name in RIGHT}
SEEDS = [frame for frame, _ in VECTORS] + [
    encode_message(
        "ADM-CID", 5, "ABCD", "#ABCD|1120 01 015", timestamp=NOW, key=KEYS[128], cipher=AES
    ),
    encode_message(
        "SIA-DCS",
        6,
        "BCDE",
        "#BCDE|NHA002",
        xdata=["X1.5", "Y2.5"],
        timestamp=NOW,
        key=KEYS[256],
        cipher=AES,
    ),
    encode_message("NULL", 7, "ABCD", timestamp=NOW, key=KEYS[128], cipher=AES),
]


def bitwise_crc(data: bytes) -> int:
    """CRC-16/ARC written out bit by bit: an independent check of the table version."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xA001 if crc & 1 else 0)
    return crc


def intact(frame: bytes) -> bool:
    body = frame[9:-1]
    return (
        frame[:1] == b"\n"
        and frame[-1:] == b"\r"
        and frame[1:9].isalnum()
        and int(frame[5:9], 16) == len(body)
        and int(frame[1:5], 16) == bitwise_crc(body)
    )


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, bool]:
    """(frame, re-wrapped): a seed bit-flipped, truncated, spliced or overwritten; half the
    time the body is re-framed with a correct CRC so the deeper parser is exercised."""
    frame = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "cut", "splice", "write"]))
        at = draw(st.integers(0, max(len(frame) - 1, 0)))
        if how == "flip" and frame:
            frame[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "cut":
            del frame[at : at + draw(st.integers(1, 20))]
        elif how == "splice":
            other = draw(st.sampled_from(SEEDS))
            frame[at:] = other[draw(st.integers(0, len(other) - 1)) :]
        else:
            frame[at:at] = draw(st.binary(max_size=8))
    rewrap = draw(st.booleans())
    if rewrap and len(frame) > 10:
        return wrap(bytes(frame[9:-1])[:0xFFF]), True
    return bytes(frame), False


@settings(
    max_examples=2000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(case=mutated(), skew=st.integers(-60, 60))
def test_it_never_raises_nor_acks_a_corrupt_or_wrongly_keyed_frame(
    case: tuple[bytes, bool], skew: int
) -> None:
    frame, _ = case
    now = NOW + timedelta(seconds=skew)
    right = decide(frame, now, RIGHT, cipher=AES)
    if right.reply_kind is ReplyKind.ACK:
        assert intact(frame)
        assert right.event is not None
    wrong = decide(frame, now, WRONG, cipher=AES)
    assert wrong.reply_kind is not ReplyKind.ACK
    assert wrong.event is None
