"""Safety URLs × the cast: operators act, supervisors and admins read, officers use /field/."""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils import timezone

from attend.test import only

CONSOLE = only({"opal": 200, "sam": 200, "dana": 200, "nina": 200})
ALARM = only({"opal": 200, "sam": 200, "dana": 200, "nina": 404})
OPERATOR_POST = only({"opal": 405})
BOARD = only({"sam": 200, "dana": 200, "nina": 200})
OFFICERS = only({"olivia": 200, "omar": 200, "otto": 200})
OFFICER_POST = only({"olivia": 405, "omar": 405, "otto": 405})
OLIVIAS_VISIT = only({"olivia": 200, "omar": 404, "otto": 404})


def _alarm(t: Any) -> dict[str, int]:
    return {"pk": t.safety_alarm.pk}


MATRIX = {
    "safety:console": (lambda t: {}, CONSOLE),
    "safety:console_queue": (lambda t: {}, CONSOLE),
    "safety:alarm": (_alarm, ALARM),
    "safety:acknowledge": (_alarm, OPERATOR_POST),
    "safety:call": (_alarm, OPERATOR_POST),
    "safety:colleagues": (_alarm, OPERATOR_POST),
    "safety:dispatch": (_alarm, OPERATOR_POST),
    "safety:resolve": (_alarm, OPERATOR_POST),
    "safety:incident": (_alarm, OPERATOR_POST),
    "safety:audio": (lambda t: {"pk": t.safety_chunk.pk}, ALARM),
    "safety:board": (lambda t: {}, BOARD),
    "safety:policies": (lambda t: {}, BOARD),
    "safety:policy_edit": (lambda t: {"kind": "red_alert"}, BOARD),
    "safety:field": (lambda t: {}, OFFICERS),
    "safety:field_hazards": (lambda t: {}, OFFICERS),
    "safety:field_start": (lambda t: {}, OFFICERS),
    "safety:field_visit": (lambda t: {"pk": t.safety_visit.pk}, OLIVIAS_VISIT),
    "safety:field_visit_action": (
        lambda t: {"pk": t.safety_visit.pk, "what": "check-in"},
        OFFICER_POST,
    ),
    "safety:field_pins": (lambda t: {}, OFFICERS),
    "safety:field_device": (lambda t: {}, OFFICER_POST),
}


def setup(cls: Any) -> None:
    from attend.evidence.actions import receive_chunk
    from attend.safety.actions import raise_alarm, start_visit

    cls.safety_visit = start_visit(officer=cls.olivia, address="12 Elm St", expected_minutes=30)
    cls.safety_alarm = raise_alarm(
        officer=cls.olivia, kind="red_alert", source="app", at=timezone.now()
    )
    data = b"matrix audio"
    cls.safety_chunk, _ = receive_chunk(
        alarm=cls.safety_alarm, index=0, data=data, claimed_sha256=hashlib.sha256(data).hexdigest()
    )
