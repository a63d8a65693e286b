"""Write small lake-mode Ed-Fi folders (docs/lake-format.md) for replay tests and benchmarks."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from attend.cases.tests.rulekit import weekdays

ED = "uri://ed-fi.org/"


def _ref(student: str, school: str) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": student},
        "schoolReference": {"schoolId": int(school)},
    }


def calendar(
    school: str, start: dt.date, end: dt.date, holidays: set[dt.date]
) -> list[dict[str, Any]]:
    rows, current = [], start
    while current <= end:
        event = "Instructional day" if current.weekday() < 5 else "Weekend"
        if current in holidays:
            event = "Holiday"
        rows.append(
            {
                "calendarReference": {"schoolId": int(school), "schoolYear": 2026},
                "date": current.isoformat(),
                "calendarEvents": [
                    {"calendarEventDescriptor": f"{ED}CalendarEventDescriptor#{event}"}
                ],
            }
        )
        current += dt.timedelta(days=1)
    return rows


def enrollment(
    student: str, school: str, entry: dt.date, exit_: dt.date | None = None, exit_type: str = ""
) -> dict[str, Any]:
    row = {
        **_ref(student, school),
        "entryDate": entry.isoformat(),
        "schoolYear": 2026,
        "entryGradeLevelDescriptor": f"{ED}GradeLevelDescriptor#Third grade",
    }
    if exit_:
        row["exitWithdrawDate"] = exit_.isoformat()
    if exit_type:
        row["exitWithdrawTypeDescriptor"] = f"{ED}ExitWithdrawTypeDescriptor#{exit_type}"
    return row


def event(
    student: str, school: str, day: dt.date, category: str, duration: float | None = None
) -> dict[str, Any]:
    row = {
        **_ref(student, school),
        "eventDate": day.isoformat(),
        "attendanceEventCategoryDescriptor": f"{ED}AttendanceEventCategoryDescriptor#{category}",
    }
    if duration is not None:
        row["eventDuration"] = duration
    return row


def write(folder: Path, resource: str, rows: list[dict[str, Any]], ndjson: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if ndjson:
        with (folder / f"{resource}.ndjson").open("w") as out:
            out.writelines(json.dumps(r) + "\n" for r in rows)
    else:
        (folder / f"{resource}.json").write_text(json.dumps(rows))


def synthetic_district(folder: Path, students: int, seed: int = 7) -> int:
    """`students` pupils at two schools, 2025-09-02 … 2026-05-29 (~180 school days), absences
    drawn so about a third become truant. Returns the number of attendance events written."""
    rng = random.Random(seed)
    start, end = dt.date(2025, 9, 2), dt.date(2026, 5, 29)
    holidays = {
        dt.date(2025, 11, 27),
        dt.date(2025, 11, 28),
        *weekdays(dt.date(2025, 12, 22), dt.date(2026, 1, 2)),
    }
    days = [d for d in weekdays(start, end) if d not in holidays]
    schools = ("100001", "100002")
    write(
        folder,
        "calendarDates",
        [r for s in schools for r in calendar(s, start, end, holidays)],
        ndjson=False,
    )
    write(
        folder,
        "studentSchoolAssociations",
        [enrollment(f"S{i:06d}", schools[i % 2], start) for i in range(students)],
    )
    events = []
    for i in range(students):
        rate = rng.choice((0.0, 0.01, 0.03, 0.06, 0.12))
        for day in days:
            if rng.random() < rate:
                kind = rng.choice(("Unexcused Absence", "Excused Absence", "Tardy"))
                duration = rng.choice((None, None, 0.1, 0.5)) if kind != "Tardy" else 0.15
                events.append(event(f"S{i:06d}", schools[i % 2], day, kind, duration))
    write(folder, "studentSchoolAttendanceEvents", events)
    return len(events)
