"""DC-09 codec: CRC, the verified vectors, event mapping, replies, stream, duplicates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attend.devices.dc09 import (
    Account,
    DuplicateWindow,
    EventKind,
    FrameSplitter,
    ReplyKind,
    SupervisionTracker,
    crc16_arc,
    decide,
    encode_message,
)
from attend.devices.dc09.contact_id import parse_contact_id
from attend.devices.dc09.frame import FormatError, parse_frame, wrap
from attend.devices.dc09.location import parse_coordinate
from attend.devices.dc09.sia import parse_sia
from attend.devices.tests.dc09_helpers import NOW, VECTORS, plain_accounts


def test_it_computes_the_crc_16_arc_check_value() -> None:
    assert crc16_arc(b"123456789") == 0xBB3D


@pytest.mark.parametrize(("frame", "reply"), VECTORS)
def test_it_answers_the_verified_vectors_byte_exact(frame: bytes, reply: bytes) -> None:
    decision = decide(frame, NOW, plain_accounts())
    assert decision.reply == reply
    assert decision.reply_kind is ReplyKind.ACK


def test_it_reads_the_vectors_meaning() -> None:
    kinds = [decide(frame, NOW, plain_accounts()).event for frame, _ in VECTORS]
    assert [(e.kind, e.code) for e in kinds if e] == [
        (EventKind.OTHER, "FA"),
        (EventKind.OTHER, "110"),
        (EventKind.RED_ALERT, "120"),
        (EventKind.SUPERVISION, "602"),
        (EventKind.SUPERVISION, ""),
    ]
    panic = kinds[2]
    assert panic is not None
    assert (panic.account, panic.seq, panic.zone, panic.line) == ("1234", "0001", "015", "0")


def test_it_rebuilds_the_vectors_with_its_own_encoder() -> None:
    frame = encode_message("ADM-CID", 1, "1234", "#1234|1120 01 015")
    assert frame == VECTORS[2][0]
    frame = encode_message("NULL", 0, "1234", receiver="0")
    assert frame == VECTORS[4][0]


@pytest.mark.parametrize(
    "corrupt",
    [
        VECTORS[2][0].replace(b"7BE8", b"7BE9"),  # CRC
        VECTORS[2][0].replace(b"0027", b"0028"),  # length
        VECTORS[2][0].replace(b"1120", b"1121"),  # body changed, CRC stale
        VECTORS[2][0][:-1],  # no CR
        VECTORS[2][0][1:],  # no LF
        b"\nZZZZ0027" + VECTORS[2][0][9:],  # CRC not hex
        b"",
    ],
)
def test_it_stays_silent_on_a_corrupt_frame(corrupt: bytes) -> None:
    decision = decide(corrupt, NOW, plain_accounts())
    assert decision.reply is None
    assert decision.event is None


def test_it_answers_duh_to_an_unknown_account() -> None:
    decision = decide(VECTORS[2][0], NOW, {"9999": Account("9999")})
    assert decision.reply_kind is ReplyKind.DUH
    assert decision.reply == wrap(b'"DUH"0001L0#1234[]')
    assert decision.event is None


def test_it_answers_duh_when_receiver_or_line_differ() -> None:
    accounts = {"12345A": Account("12345A", receiver="579BDE")}
    assert decide(VECTORS[0][0], NOW, accounts).reply_kind is ReplyKind.DUH
    accounts = {"12345A": Account("12345a", receiver="579bdf", line="789abc")}
    assert decide(VECTORS[0][0], NOW, accounts).reply_kind is ReplyKind.ACK


@pytest.mark.parametrize(
    ("token", "data"),
    [
        ("SIA-PUL", "1234"),  # a real DC-09 ID we do not support
        ("ADM-CID", "#1234|9120 01 015"),  # qualifier 9
        ("ADM-CID", "#1234|1120 01"),
        ("SIA-DCS", "#1234|Xgarbage"),
        ("SIA-DCS", "#1234|N"),
        ("NULL", "unexpected"),
    ],
)
def test_it_answers_duh_to_unsupported_content(token: str, data: str) -> None:
    decision = decide(encode_message(token, 5, "1234", data), NOW, plain_accounts())
    assert decision.reply_kind is ReplyKind.DUH
    assert decision.reply == wrap(b'"DUH"0005L0#1234[]')


def test_it_stays_silent_when_an_intact_frame_has_no_readable_header() -> None:
    assert decide(wrap(b'"ADM-CID"12L0#1234[]'), NOW, plain_accounts()).reply is None


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ("#1234|1120 01 015", EventKind.RED_ALERT),
        ("#1234|1101 01 015", EventKind.RED_ALERT),
        ("#1234|1121 01 015", EventKind.SILENT_RED_ALERT),
        ("#1234|1122 01 015", EventKind.SILENT_RED_ALERT),
        ("#1234|1100 01 015", EventKind.MEDICAL),
        ("#1234|1102 01 015", EventKind.OVERRUN),
        ("#1234|1406 01 015", EventKind.CANCEL),
        ("#1234|1602 00 000", EventKind.SUPERVISION),
        ("#1234|3120 01 015", EventKind.RESTORE),
        ("#1234|6120 01 015", EventKind.RED_ALERT),
        ("#1234|1130 01 015", EventKind.OTHER),
        ("#1234|1350 00 000", EventKind.OTHER),
        ("1120 01 015", EventKind.RED_ALERT),  # account block is optional
    ],
)
def test_it_maps_contact_id_codes(data: str, kind: EventKind) -> None:
    decision = decide(encode_message("ADM-CID", 7, "1234", data), NOW, plain_accounts())
    assert decision.event is not None
    assert decision.event.kind is kind


@pytest.mark.parametrize(
    ("data", "kind", "code"),
    [
        ("#1234|NPA001", EventKind.RED_ALERT, "PA"),
        ("#1234|Nri1/QA", EventKind.RED_ALERT, "QA"),
        ("#1234|Nid12/HA003", EventKind.SILENT_RED_ALERT, "HA"),
        ("#1234|NMA", EventKind.MEDICAL, "MA"),
        ("#1234|NRP", EventKind.SUPERVISION, "RP"),
        ("#1234|NPH001", EventKind.RESTORE, "PH"),
        ("#1234|Nti10:15/RP/PA002", EventKind.RED_ALERT, "PA"),
        ("#1234|NPA001/HA001", EventKind.SILENT_RED_ALERT, "HA"),
        ("#1234|NBA004^Back door^", EventKind.OTHER, "BA"),
    ],
)
def test_it_maps_sia_dcs_codes(data: str, kind: EventKind, code: str) -> None:
    decision = decide(encode_message("SIA-DCS", 7, "1234", data), NOW, plain_accounts())
    assert decision.event is not None
    assert (decision.event.kind, decision.event.code) == (kind, code)


def test_it_reads_location_xdata_as_a_position() -> None:
    frame = encode_message("NULL", 3, "1234", xdata=["X-0.1276", "Y51.5072"])
    event = decide(frame, NOW, plain_accounts()).event
    assert event is not None
    assert event.kind is EventKind.POSITION
    assert event.location is not None
    assert (event.location.latitude, event.location.longitude) == (51.5072, -0.1276)


def test_it_keeps_a_panic_a_panic_when_it_carries_a_location() -> None:
    xdata = ["X093W23.456", "Y45N30.000", "ISecond floor"]
    frame = encode_message("ADM-CID", 3, "1234", "#1234|1120 01 001", xdata=xdata)
    event = decide(frame, NOW, plain_accounts()).event
    assert event is not None
    assert event.kind is EventKind.RED_ALERT
    assert event.location is not None
    assert event.location.latitude == 45.5
    assert event.location.longitude == pytest.approx(-(93 + 23.456 / 60))


def test_it_still_acks_a_panic_whose_location_is_unreadable() -> None:
    frame = encode_message("ADM-CID", 3, "1234", "#1234|1120 01 001", xdata=["Xnowhere", "Y9"])
    decision = decide(frame, NOW, plain_accounts())
    assert decision.reply_kind is ReplyKind.ACK
    assert decision.event is not None
    assert decision.event.location is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("51.5", 51.5), ("-0.5", -0.5), ("45N30", 45.5), ("45S30", -45.5), ("181", None)],
)
def test_it_reads_coordinates(text: str, value: float | None) -> None:
    assert parse_coordinate(text, 180.0) == value


@pytest.mark.parametrize("offset", [-3600, -41, 21, 86400])
def test_it_accepts_clear_messages_with_any_timestamp(offset: int) -> None:
    at = NOW + timedelta(seconds=offset)
    frame = encode_message("ADM-CID", 8, "1234", "#1234|1120 01 001", timestamp=at)
    decision = decide(frame, NOW, plain_accounts())
    assert decision.reply_kind is ReplyKind.ACK
    assert decision.event is not None
    assert decision.event.sent_at == at


def test_it_answers_duh_to_a_malformed_timestamp() -> None:
    frame = wrap(b'"ADM-CID"0008L0#1234[#1234|1120 01 001]_25:00:00,13-40-2026')
    assert decide(frame, NOW, plain_accounts()).reply_kind is ReplyKind.DUH


def test_it_refuses_clear_messages_for_an_account_with_a_key() -> None:
    accounts = {"1234": Account("1234", key=bytes(16))}
    assert decide(VECTORS[2][0], NOW, accounts).reply_kind is ReplyKind.DUH


def test_it_parses_headers_and_data_blocks() -> None:
    frame = parse_frame(VECTORS[0][0])
    assert (frame.token, frame.seq, frame.receiver, frame.line, frame.account) == (
        "SIA-DCS",
        "9876",
        "579BDF",
        "789ABC",
        "12345A",
    )
    cid = parse_contact_id("#1234|1120 01 015")
    assert (cid.qualifier, cid.code, cid.group, cid.zone) == ("1", "120", "01", "015")
    assert [e.code for e in parse_sia("#12345A|NFA129")] == ["FA"]
    with pytest.raises(FormatError):
        parse_contact_id("#1234|1120-01-015")


def test_it_splits_fragmented_tcp_frames() -> None:
    splitter = FrameSplitter()
    stream = b"".join(frame for frame, _ in VECTORS)
    frames = [frame for byte in stream for frame in splitter.feed(bytes([byte]))]
    assert frames == [frame for frame, _ in VECTORS]


def test_it_splits_concatenated_frames_and_drops_noise() -> None:
    splitter = FrameSplitter()
    junk = b"\x00garbage\r"
    stream = junk + VECTORS[0][0] + VECTORS[1][0] + b"\n12" + VECTORS[2][0]
    assert splitter.feed(stream) == [VECTORS[0][0], VECTORS[1][0], VECTORS[2][0]]
    assert splitter.dropped == len(junk) + 3


def test_it_drops_a_frame_that_never_ends() -> None:
    splitter = FrameSplitter()
    assert splitter.feed(b"\n" + b"A" * 5000) == []
    assert splitter.feed(VECTORS[4][0]) == [VECTORS[4][0]]


def test_it_flags_a_retransmission_within_the_window_as_a_duplicate() -> None:
    window = DuplicateWindow(seconds=60)
    event = decide(VECTORS[2][0], NOW, plain_accounts()).event
    assert event is not None
    assert not window.seen(event.dedupe_key, NOW)
    window.remember(event.dedupe_key, NOW)
    again = decide(VECTORS[2][0], NOW + timedelta(seconds=30), plain_accounts())
    assert again.reply == VECTORS[2][1]  # ACKed again …
    assert again.event is not None
    assert window.seen(again.event.dedupe_key, NOW + timedelta(seconds=30))  # … but a duplicate
    assert not window.seen(event.dedupe_key, NOW + timedelta(seconds=91))


def test_it_does_not_take_a_new_event_with_a_reused_seq_for_a_duplicate() -> None:
    first = decide(encode_message("ADM-CID", 1, "1234", "#1234|1602 00 000"), NOW, plain_accounts())
    panic = decide(encode_message("ADM-CID", 1, "1234", "#1234|1120 01 001"), NOW, plain_accounts())
    assert first.event is not None and panic.event is not None
    assert first.event.dedupe_key != panic.event.dedupe_key


def test_it_reports_lost_and_restored_supervision_once() -> None:
    tracker = SupervisionTracker()
    tracker.watch("1234", 60, NOW)
    tracker.watch("1002", None, NOW)
    assert tracker.sweep(NOW + timedelta(seconds=60)) == []
    lost = tracker.sweep(NOW + timedelta(seconds=61))
    assert [(t.account, t.lost, t.last_seen) for t in lost] == [("1234", True, NOW)]
    assert tracker.sweep(NOW + timedelta(seconds=120)) == []
    restored = tracker.heard("1234", NOW + timedelta(seconds=130))
    assert restored is not None and not restored.lost
    assert tracker.heard("1234", NOW + timedelta(seconds=131)) is None
