"""DC-09 encryption: siadc09 as the badge (plain, AES-128/192/256), windows, pads, keys."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from siadc09 import account as sia_account
from siadc09 import message as sia_message
from siadc09 import xdata as sia_xdata

from attend.devices.dc09 import Account, EventKind, ReplyKind, decide, encode_message
from attend.devices.dc09.crypto import open_payload, parse_key, seal_payload
from attend.devices.dc09.frame import format_timestamp, parse_frame, wrap
from attend.devices.tests.dc09_helpers import KEYS, NOW, DomeAes

AES = DomeAes()


def badge(key: bytes | None, token: str, data: bytes, seq: int, at: datetime) -> bytes:
    """A frame as siadc09 encodes it for account #1234 (encrypted when `key`)."""
    acct = sia_account.Account(acct=0x1234, key=key)
    if token == "NULL":
        return bytes(sia_message.NullMessage(acct, timestamp=at).encode(seq=seq))
    config = {"idtoken": token, "seqno": seq, "data": sia_xdata.parse_data(data), "timestamp": at}
    return bytes(sia_message.EventMessage(acct, config=config).encode())


def accounts(key: bytes | None) -> dict[str, Account]:
    return {"1234": Account("1234", key=key, device_id=7)}


@pytest.mark.parametrize("bits", [None, 128, 192, 256])
@pytest.mark.parametrize(
    ("token", "data", "kind"),
    [
        ("ADM-CID", b"#1234|1120 01 015", EventKind.RED_ALERT),
        ("SIA-DCS", b"#1234|NHA001", EventKind.SILENT_RED_ALERT),
        ("NULL", b"", EventKind.SUPERVISION),
    ],
)
def test_it_acks_siadc09_badge_frames_and_siadc09_reads_the_ack(
    bits: int | None, token: str, data: bytes, kind: EventKind
) -> None:
    key = None if bits is None else KEYS[bits]
    frame = badge(key, token, data, 42, NOW)
    assert frame[9:11] == (b'"*' if key else b'"' + token[:1].encode())
    decision = decide(frame, NOW, accounts(key), cipher=AES)
    assert decision.reply_kind is ReplyKind.ACK
    assert decision.event is not None
    assert (decision.event.kind, decision.event.device_id) == (kind, 7)
    assert decision.reply is not None
    parsed = sia_message.parse_frame(decision.reply, keys=key)
    assert isinstance(parsed, sia_message.AckMessage)
    assert (parsed.seq, parsed.account.acct, parsed.encrypted) == (42, 0x1234, key is not None)
    if key:
        assert decision.reply[9:15] == b'"*ACK"'
        assert parsed.timestamp == NOW


@pytest.mark.parametrize(
    ("offset", "reply"),
    [
        (-41, ReplyKind.NAK),
        (-40, ReplyKind.ACK),
        (0, ReplyKind.ACK),
        (20, ReplyKind.ACK),
        (21, ReplyKind.NAK),
        (-3600, ReplyKind.NAK),
        (86400, ReplyKind.NAK),
    ],
)
def test_it_naks_encrypted_messages_outside_the_window(offset: int, reply: ReplyKind) -> None:
    frame = badge(KEYS[128], "ADM-CID", b"#1234|1120 01 015", 9, NOW + timedelta(seconds=offset))
    decision = decide(frame, NOW, accounts(KEYS[128]), cipher=AES)
    assert decision.reply_kind is reply
    if reply is ReplyKind.NAK:
        assert decision.event is None
        stamp = format_timestamp(NOW).encode()
        assert decision.reply == wrap(b'"NAK"0000R0L0A0[]_' + stamp)


def test_it_naks_an_encrypted_message_without_a_timestamp() -> None:
    clear = b"|#1234|1120 01 015]"
    sealed = seal_payload(clear, KEYS[128], AES)
    frame = wrap(b'"*ADM-CID"0009L0#1234[' + sealed)
    assert decide(frame, NOW, accounts(KEYS[128]), cipher=AES).reply_kind is ReplyKind.NAK


@pytest.mark.parametrize(
    "pad",
    [
        b"",
        b"x",
        b"\x00" * 13,
        bytes(range(0, 91)) + bytes(range(94, 124)) + bytes(range(125, 256)),
        b"0" * 45,
        b"\x5c\x5e\x7b\x7d" * 7,
    ],
)
def test_it_accepts_pads_of_any_length_and_content(pad: bytes) -> None:
    clear = b"|#1234|1120 01 015]_" + format_timestamp(NOW).encode()
    pad = pad + b"A" * ((-len(pad) - len(clear)) % 16)
    frame = wrap(b'"*ADM-CID"0010L0#1234[' + seal_payload(clear, KEYS[256], AES, pad))
    decision = decide(frame, NOW, accounts(KEYS[256]), cipher=AES)
    assert decision.reply_kind is ReplyKind.ACK
    assert decision.event is not None and decision.event.code == "120"


def test_it_reads_payload_hex_of_either_case() -> None:
    frame = encode_message(
        "ADM-CID", 11, "1234", "#1234|1120 01 015", timestamp=NOW, key=KEYS[192], cipher=AES
    )
    head, _, payload = frame[:-1].partition(b"[")
    lower = wrap(head[9:] + b"[" + payload.lower())
    for each in (frame, lower):
        assert decide(each, NOW, accounts(KEYS[192]), cipher=AES).reply_kind is ReplyKind.ACK


def test_it_parses_keys_of_either_case_and_refuses_bad_lengths() -> None:
    assert parse_key("000102030405060708090A0B0C0D0E0F") == KEYS[128]
    assert parse_key(KEYS[256].hex().upper()) == KEYS[256]
    for bad in ("00", "0" * 40, "zz" * 16, "0" * 33):
        with pytest.raises(ValueError):
            parse_key(bad)


def test_it_never_acks_a_frame_sealed_with_another_key() -> None:
    for bits in (128, 192, 256):
        frame = badge(KEYS[bits], "ADM-CID", b"#1234|1120 01 015", 12, NOW)
        wrong = bytes(reversed(KEYS[bits]))
        decision = decide(frame, NOW, accounts(wrong), cipher=AES)
        assert decision.reply_kind is not ReplyKind.ACK
        assert decision.event is None


def test_it_answers_duh_without_an_aes_backend_or_key() -> None:
    frame = badge(KEYS[128], "ADM-CID", b"#1234|1120 01 015", 13, NOW)
    assert decide(frame, NOW, accounts(KEYS[128]), cipher=None).reply_kind in (
        ReplyKind.DUH,
        ReplyKind.ACK,  # when `cryptography` is installed the default backend opens it
    )
    assert decide(frame, NOW, accounts(None), cipher=AES).reply_kind is ReplyKind.DUH


def test_it_answers_duh_to_a_payload_that_is_not_whole_blocks_of_hex() -> None:
    frame = wrap(b'"*NULL"0001L0#1234[ABCD')
    assert decide(frame, NOW, accounts(KEYS[128]), cipher=AES).reply_kind is ReplyKind.DUH


def test_it_round_trips_its_own_sealed_payloads() -> None:
    sealed = seal_payload(b"]_" + format_timestamp(NOW).encode(), KEYS[128], AES)
    assert open_payload(sealed, KEYS[128], AES) == b"]_" + format_timestamp(NOW).encode()
    frame = parse_frame(encode_message("NULL", 1, "1234", timestamp=NOW, key=KEYS[128], cipher=AES))
    assert frame.encrypted and frame.token == "NULL"


def test_it_matches_pycryptodome_with_the_cryptography_backend() -> None:
    pytest.importorskip("cryptography", reason="the `cryptography` package is not installed")
    from attend.devices.dc09.crypto import CryptographyAes

    block = bytes(range(32))
    for key in KEYS.values():
        assert CryptographyAes().encrypt(key, block) == AES.encrypt(key, block)
        assert CryptographyAes().decrypt(key, block) == AES.decrypt(key, block)
