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
    "EDGE",
    "PACK",
    "STATUSES",
    "USED",
    "classify",
    "day_detail",
    "day_rows",
    "event_status",
    "finding_rows",
    "positive_reporting",
    "resolve_days",
    "section_day_rows",
    "section_days",
]

PACK = 10_000_000
EDGE = 100 * PACK  # above any severity × PACK + fraction
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


def resolve_days(statuses: ir.Table, what: str = "attendance category") -> ir.Table:
    """Resolve every enrolled day with events, and keep the unused events as findings, in one
    grouping over the events (see `event_status`; the result is meant to be cached).

    A narrow table: `row_key, e_idx, finding, date, pack, tardy, reported_present`; a day row
    has a null `finding`, a finding row null day keys. Read it through `day_rows` and
    `finding_rows`, which unpack the rest: caching these seven columns instead of the fourteen
    they unpack into halves the biggest table the engine keeps.

    The grouping is the engine's costliest step (20M events at scale), so it carries only
    four reductions: the date, `pack` (module docstring; the break flag rides in its top
    digits, being the same for all of a day's events), and two `any` flags. Plain max/any
    reductions compile on every backend (PySpark has no bitwise-or one).
    """
    keyed = _with_finding_keys(statuses, what)
    sev = keyed.severity
    edge = keyed.edge.fill_null(False).ifelse(EDGE, 0)
    pack = (sev >= _PARTIAL).ifelse(edge + sev * PACK + keyed.absent, ibis.null("int64"))
    return keyed.group_by(_GROUP).aggregate(
        date=keyed.date.max(),
        pack=pack.max(),
        tardy=sev.isin([_TARDY, _EARLY]).any(),
        reported_present=(sev == _PRESENT).any(),
    )


def day_rows(resolved: ir.Table) -> ir.Table:
    """The day rows of `resolve_days`, keyed `row_key, e_idx`: `date`, `absent` (micro-days of
    the most severe absence event; of equally severe ones, the largest), `absence_severity`
    (0 when none), `edge` (an absence day next to a break), `tardy` (a tardy or early
    departure event), `reported_present`, `reported_absent` (any full-day absence event),
    `conflict` (both)."""
    days = resolved.filter(resolved.finding.isnull())
    packed = days.pack.fill_null(0) % EDGE
    absence_severity = packed // PACK
    reported_absent = absence_severity >= _EXCUSED
    present = days.reported_present.fill_null(False)
    return days.select(
        *DAY_KEYS,
        "date",
        absent=packed % PACK,
        absence_severity=absence_severity,
        edge=days.pack.fill_null(0) >= EDGE,
        tardy=days.tardy.fill_null(False),
        reported_present=present,
        reported_absent=reported_absent,
        conflict=present & reported_absent,
    )


def finding_rows(resolved: ir.Table) -> ir.Table:
    """The findings of `resolve_days` or `section_days`: `kind` (the status), `student_id,
    school_id, detail, date`; events alike on one day make one finding."""
    found = resolved.filter(resolved.finding.notnull())
    parts = found.finding.split(_SEP)
    return found.select(
        kind=parts[0], student_id=parts[1], school_id=parts[2], detail=parts[4], date=found.date
    )


_GROUP = [*DAY_KEYS, "finding"]
_SEP = "\x1f"
_REASONS = {
    "after_as_of": " dated after the as-of date",
    "recorded_after_as_of": " recorded after the as-of date",
    "non_school_day": " on a day that is not a school day",
    "not_enrolled": " on a school day without an enrollment",
}


def _with_finding_keys(statuses: ir.Table, what: str) -> ir.Table:
    """Grouping keys (`_GROUP`): used events by day (`row_key, e_idx`), unused ones by
    finding."""
    used = statuses.status == USED
    year_text = (
        " reported for school year "
        + statuses.event_year.cast("string")
        + ", calendar says "
        + statuses.school_year.cast("string")
    )
    reason = statuses.status.substitute(_REASONS, else_=year_text)
    detail = (statuses.status == "unknown_descriptor").ifelse(
        ibis.literal(f"unknown {what} '") + statuses.category + "'", statuses.category + reason
    )
    # One string key per finding (null for used events) keeps the grouping narrow.
    finding = ibis.literal(_SEP).join(
        [
            statuses.status,
            statuses.student_id.fill_null(""),
            statuses.school_id.fill_null(""),
            statuses.date.cast("string"),
            detail,
        ]
    )
    return statuses.mutate(
        row_key=used.ifelse(statuses.row_key, ibis.null("int64")),
        e_idx=used.ifelse(statuses.e_idx, ibis.null("int64")),
        finding=used.ifelse(ibis.null("string"), finding),
    )


def section_days(statuses: ir.Table) -> ir.Table:
    """Per enrolled day, section-level flags, plus findings, in one grouping as in
    `resolve_days` (read it through `section_day_rows` and `finding_rows`)."""
    keyed = _with_finding_keys(statuses, "section attendance category")
    absent = keyed.severity >= _EXCUSED
    present = keyed.severity == _PRESENT
    homeroom = keyed.homeroom.fill_null(False)
    return keyed.group_by(_GROUP).aggregate(
        date=keyed.date.max(),
        section_absent=absent.any(),
        section_present=present.any(),
        homeroom_present=(present & homeroom).any(),
        homeroom_absent=(absent & homeroom).any(),
    )


def section_day_rows(resolved: ir.Table) -> ir.Table:
    """The day rows of `section_days` (Ed-Fi AMT semantics), keyed `row_key, e_idx`:
    `section_absent`: absent from any section; `all_sections_present`: some section reported
    present and none absent; `homeroom_present` / `homeroom_absent`: the same for homerooms."""
    days = resolved.filter(resolved.finding.isnull())
    return days.select(
        *DAY_KEYS,
        "date",
        "section_absent",
        "homeroom_present",
        "homeroom_absent",
        all_sections_present=days.section_present & ~days.section_absent,
    )


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
    school = resolved.select(*DAY_KEYS, "absent", "tardy", "reported_present", "reported_absent")
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
