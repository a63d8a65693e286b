"""A day's attendance (ATTENDANCE-RULES rules 5-8): classify events, resolve several per day.

Absent fractions are integer micro-days (see `settings.MICRO`). The resolution packs severity and
fraction into one integer, `severity * PACK + fraction`, so a single `max()` per day picks the
most severe absence event and its fraction without a sort or a second pass. After the status
pass, rows are keyed by integers (`row_key` for the student × school × year, `e_idx` for the
enrolled day): grouping 20M events on integers is several times cheaper than on id strings.
"""

from __future__ import annotations

from datetime import date, datetime, time

import ibis
import ibis.expr.types as ir

from .schema import (
    CATEGORIES,
    EARLY_DEPARTURE,
    EXCUSED,
    IN_ATTENDANCE,
    PARTIAL,
    PRESENT,
    SEVERITY,
    TARDY,
    UNEXCUSED,
    canonical,
)
from .settings import MICRO, Policy

__all__ = [
    "DAY_KEYS",
    "PACK",
    "STATUSES",
    "USED",
    "classify",
    "day_detail",
    "event_status",
    "positive_reporting",
    "resolve_days",
    "section_days",
]

PACK = 10_000_000
DAY_KEYS = ("row_key", "e_idx")
USED = "used"
STATUSES = (
    "unknown_descriptor",
    "after_as_of",
    "recorded_after_as_of",
    "non_school_day",
    "school_year_mismatch",
    "not_enrolled",
    USED,
)
_EXCUSED, _PARTIAL, _TOP = SEVERITY[EXCUSED], SEVERITY[PARTIAL], SEVERITY[UNEXCUSED]
_TARDY, _EARLY, _PRESENT = SEVERITY[TARDY], SEVERITY[EARLY_DEPARTURE], SEVERITY[IN_ATTENDANCE]
# The integer tests below rely on this order (rule 7).
assert SEVERITY[UNEXCUSED] > _EXCUSED > _PARTIAL > _EARLY > _TARDY > _PRESENT == SEVERITY[PRESENT]


def positive_reporting(school_id: ir.StringValue, policy: Policy) -> ir.BooleanValue:
    """Whether the school's source uses positive reporting (rule 5)."""
    if policy.positive_reporting_default:
        return ibis.literal(True)
    if not policy.positive_reporting_schools:
        return ibis.literal(False)
    return school_id.isin(sorted(policy.positive_reporting_schools))


def classify(events: ir.Table, policy: Policy) -> ir.Table:
    """Canonical category, severity (null when unknown) and absent micro-days of each event.

    Durations outside [0, 1] day are clamped (and reported by `quality`).
    """
    given = events.category.fill_null("")
    exact = given.substitute(dict(SEVERITY), else_=ibis.null("int64"))
    # Only a category not spelled canonically (what the loader writes) is lower-cased and
    # looked up again: CASE evaluates that branch for those rows alone.
    canon = canonical(given, CATEGORIES)
    severity = (
        exact.isnull()
        .ifelse(canon.substitute(dict(SEVERITY), else_=ibis.null("int64")), exact)
        .cast("int64")
    )
    category = exact.isnull().ifelse(canon, given)
    duration = events.duration if "duration" in events.columns else ibis.null("float64")
    scaled = (duration * MICRO).round(0).cast("int64")
    # Not least()/greatest(): SQL engines skip nulls there, and null means "not given".
    fraction = ibis.cases((scaled > MICRO, MICRO), (scaled < 0, 0), else_=scaled)
    absent = ibis.cases(
        (severity >= _EXCUSED, fraction.fill_null(MICRO)),
        (severity == _PARTIAL, fraction.fill_null(policy.micro(policy.partial_default))),
        else_=0,
    )
    return events.mutate(category=category, severity=severity, absent=absent.cast("int64"))


def event_status(
    events: ir.Table, day_index: ir.Table, intervals: ir.Table, *, as_of: date, policy: Policy
) -> ir.Table:
    """Every classified event with the reason it is or is not used, in one pass.

    `status` is the first that applies of: `unknown_descriptor`, `after_as_of`,
    `recorded_after_as_of` (only with that policy switch), `non_school_day`,
    `school_year_mismatch` (the event's own school year, when given, differs from the
    calendar's: Ed-Fi links events to associations of the same year, and the AMT fixture
    expects such events ignored), `not_enrolled` (not a counted enrolled day) or `used`.
    Used events carry `school_year` (the calendar's), `idx`, `edge` (next to a break),
    `row_key` and `e_idx` (enrolled-day number).
    """
    days = day_index.select("school_id", "date", "idx", "edge", calendar_year="school_year")
    placed = events.rename(event_year="school_year").left_join(days, ["school_id", "date"])
    spans = intervals.select(
        "row_key",
        "start_idx",
        "counted_end",
        "offset",
        span_student="student_id",
        span_school="school_id",
        span_year="school_year",
    )
    joined = placed.left_join(
        spans,
        [
            placed.student_id == spans.span_student,
            placed.school_id == spans.span_school,
            placed.calendar_year == spans.span_year,
            placed.idx >= spans.start_idx,
            placed.idx <= spans.counted_end,
        ],
    )
    return joined.select(
        *[c for c in events.columns if c != "school_year"],
        "event_year",
        "idx",
        "edge",
        "row_key",
        school_year=joined.calendar_year,
        e_idx=joined.offset + joined.idx - joined.start_idx + 1,
        status=_status(joined, as_of, policy),
    )


def _status(joined: ir.Table, as_of: date, policy: Policy) -> ir.StringValue:
    late_record = ibis.literal(False)
    if policy.ignore_recorded_after_as_of:
        late_record = (joined.recorded_at > datetime.combine(as_of, time.max)).fill_null(False)
    other_year = joined.event_year.notnull() & (joined.event_year != joined.calendar_year)
    return ibis.cases(
        (joined.severity.isnull(), "unknown_descriptor"),
        (joined.date > as_of, "after_as_of"),
        (late_record, "recorded_after_as_of"),
        (joined.calendar_year.isnull(), "non_school_day"),
        (other_year, "school_year_mismatch"),
        (joined.row_key.isnull(), "not_enrolled"),
        else_=USED,
    )


def resolve_days(events: ir.Table) -> ir.Table:
    """One row per enrolled day with events (`row_key`, `e_idx`): the day's attendance.

    Input: used events (see `event_status`). Columns: `row_key, e_idx, date, edge`,
    `severity` (of the most severe event), `absent` (micro-days of the most severe absence
    event; of equally severe ones, the largest), `absence_severity`, `tardy` (a tardy or early
    departure event), `reported_present`, `reported_absent` (any full-day absence event) and
    `conflict` (both).

    The 20M-row grouping carries two integers per day: `pack` (see module docstring) and
    `seen`, a bit set of the severities reported that day; everything else derives from them.
    """
    sev = events.severity
    pack = (sev >= _PARTIAL).ifelse(sev * PACK + events.absent, ibis.null("int64"))
    bit = sev.substitute({level: 1 << level for level in range(_TOP + 1)}).cast("int64")
    grouped = events.group_by(list(DAY_KEYS)).aggregate(
        date=events.date.max(), edge=events.edge.max(), pack=pack.max(), seen=bit.bit_or()
    )
    seen = grouped.seen
    return grouped.select(
        *DAY_KEYS,
        "date",
        "edge",
        severity=ibis.cases(
            *[(seen >= 1 << level, level) for level in range(_TOP, 0, -1)], else_=0
        ),
        absent=(grouped.pack % PACK).fill_null(0),
        absence_severity=(grouped.pack // PACK).fill_null(0),
        tardy=(seen & _bits(_TARDY, _EARLY)) != 0,
        reported_present=(seen & _bits(_PRESENT)) != 0,
        reported_absent=(seen & _bits(_EXCUSED, _TOP)) != 0,
        conflict=((seen & _bits(_PRESENT)) != 0) & ((seen & _bits(_EXCUSED, _TOP)) != 0),
    )


def _bits(*levels: int) -> int:
    return sum(1 << level for level in set(levels))


def section_days(section_events: ir.Table) -> ir.Table:
    """Per enrolled day: section-level flags (Ed-Fi AMT semantics).

    `section_absent`: absent from any section; `all_sections_present`: some section reported
    present and none absent; `homeroom_present` / `homeroom_absent`: the same for homerooms.
    """
    absent = section_events.severity >= _EXCUSED
    present = section_events.severity == _PRESENT
    homeroom = section_events.homeroom.fill_null(False)
    grouped = section_events.group_by(list(DAY_KEYS)).aggregate(
        date=section_events.date.max(),
        section_absent=absent.any(),
        section_present=present.any(),
        homeroom_present=(present & homeroom).any(),
        homeroom_absent=(absent & homeroom).any(),
    )
    return grouped.mutate(
        all_sections_present=grouped.section_present & ~grouped.section_absent
    ).drop("section_present")


_FLAGS = (
    "tardy",
    "reported_present",
    "reported_absent",
    "section_absent",
    "all_sections_present",
    "homeroom_present",
    "homeroom_absent",
)


def day_detail(enrolled: ir.Table, resolved: ir.Table, sections: ir.Table) -> ir.Table:
    """Every enrolled school day (from `days.enrolled_day_rows`) with its school-level and
    section-level attendance flags."""
    school = resolved.select(
        *DAY_KEYS, "absent", "severity", "tardy", "reported_present", "reported_absent"
    )
    sect = sections.select(
        *DAY_KEYS,
        "section_absent",
        "all_sections_present",
        "homeroom_present",
        "homeroom_absent",
    )
    joined = enrolled.left_join(school, list(DAY_KEYS)).left_join(sect, list(DAY_KEYS))
    return joined.select(
        "student_id",
        "school_id",
        "school_year",
        "date",
        "idx",
        "e_idx",
        absent=joined.absent.fill_null(0),
        **{flag: joined[flag].fill_null(False) for flag in _FLAGS},
    )
