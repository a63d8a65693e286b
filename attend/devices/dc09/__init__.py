"""SIA DC-09 receiver: codec (frames, CRC, AES, Contact ID, SIA-DCS), decisions, server.

The codec modules import nothing from Django; `django_handler` is the only seam to the
database and imports the models lazily.
"""

from __future__ import annotations

from attend.devices.dc09.build import ack, duh, encode_message, nak
from attend.devices.dc09.crc import crc16_arc
from attend.devices.dc09.decide import Account, Decision, Event, EventKind, ReplyKind, decide
from attend.devices.dc09.dedupe import DuplicateWindow
from attend.devices.dc09.frame import Frame, FrameError, parse_frame
from attend.devices.dc09.location import Location
from attend.devices.dc09.stream import FrameSplitter
from attend.devices.dc09.supervision import SupervisionTracker, Transition

__all__ = [
    "Account",
    "Decision",
    "DuplicateWindow",
    "Event",
    "EventKind",
    "Frame",
    "FrameError",
    "FrameSplitter",
    "Location",
    "ReplyKind",
    "SupervisionTracker",
    "Transition",
    "ack",
    "crc16_arc",
    "decide",
    "duh",
    "encode_message",
    "nak",
    "parse_frame",
]
