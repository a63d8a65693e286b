"""The scoring path: as-of features for one date d, computed with integer codes and numpy.

`features.scoring_frame_sql` builds the same rows with the training SQL, which is written for
many dates at once (every example joins its student's whole history). Scoring needs one date
for every enrolled student — a million at district scale — so here:

1. Strings are coded once: students and schools get their rank in sorted order (Arrow hashes
   them in C), so rows come out already in `KEYS` order.
2. Events known before d (`recorded_at < d`, a school day on or before the as-of date, inside
   the enrollment span) are reduced to one row per student-school-day (most severe wins).
3. Every feature is a sum, count or maximum per student-school over those day rows (bincount
   and reduceat), streaks are runs of consecutive school-day indexes.

Day fractions are integer micro-days, so the 10% comparisons are exact (`cum*10 >= enrolled`),
as DuckDB's decimal `0.1 * enrolled` is. `tests/test_risk_fast.py` checks that every value
equals the SQL's and the training frame's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MICRO = 1_000_000
SHIFT = 1 << 21  # room for a day ordinal (days since 1970) inside a (code, day) key
ABSENCES = ("unexcused absence", "excused absence")
IGNORED_EXITS = ("no show", "invalid enrollment")
EVIDENCE_DAYS = 10


def _strings(values: Any) -> pa.ChunkedArray:
    """A string column as Arrow, without copying it: pandas' str columns already are Arrow
    chunks (joining a million students' chunks into one array cost a second)."""
    array = pa.array(values)
    if isinstance(array, pa.Array):
        array = pa.chunked_array([array])
    return array if array.type == pa.large_string() else array.cast(pa.large_string())


def _pick(values: pa.ChunkedArray, mask: np.ndarray) -> pa.Array:
    """The values where `mask` is true, as one array (a filter streams through the chunks;
    a take by position looks each row's chunk up)."""
    picked = values.filter(pa.array(mask, type=pa.bool_()))
    return picked.combine_chunks() if isinstance(picked, pa.ChunkedArray) else picked


def _sorted_unique(values: Any) -> pa.Array:
    unique = pc.unique(values.drop_null())
    return unique.take(pc.sort_indices(unique))


def _codes(values: Any, universe: pa.Array) -> np.ndarray:
    """Position of each value in `universe` (-1 when absent)."""
    found = pc.index_in(values, value_set=universe).fill_null(-1)
    return np.asarray(found.to_numpy(), dtype=np.int64)


NAT = np.iinfo(np.int64).min
PER_DAY = {"D": 1, "h": 24, "m": 1440, "s": 86_400, "ms": 86_400_000, "us": 86_400_000_000}


def _days(values: Any) -> np.ndarray:
    """Dates or timestamps → whole days since 1970 (NaT → a sentinel far in the past).

    Integer division of the stored ticks: numpy's unit conversion to days costs ten times
    more on the ten million events of a large district.
    """
    array = np.asarray(values)
    if array.dtype.kind != "M":
        array = array.astype("datetime64[D]")
    unit, count = np.datetime_data(array.dtype)
    if unit not in PER_DAY or count != 1:
        array, unit = array.astype("datetime64[D]"), "D"
    ticks = array.view(np.int64)
    out = ticks // PER_DAY[unit]
    out[ticks == NAT] = NAT
    return out


@dataclass
class Calendar:
    """School days of every school, coded: global day position ↔ (school, school-day index)."""

    schools: pa.Array  # sorted school ids; a school's code is its position
    start: np.ndarray  # first global position of each school's days
    count: np.ndarray  # its number of school days
    ordinal: np.ndarray  # day (days since 1970) at each global position
    dow: np.ndarray  # ISO weekday, Monday = 1
    near_break: np.ndarray  # three or more days off just before or just after
    first_day: int
    table: np.ndarray  # (school, ordinal - first_day) → global position, -1 off days

    def position(self, school: np.ndarray, day: np.ndarray) -> np.ndarray:
        width = self.table.shape[1]
        offset = day - self.first_day
        inside = (school >= 0) & (offset >= 0) & (offset < width)
        flat = np.where(inside, school * width + offset, 0)
        return np.where(inside, self.table.ravel()[flat], -1)

    def nb(self, as_of: dt.date) -> np.ndarray:
        """School days on or before `as_of`, per school (= the last known day's index)."""
        cut = (np.arange(len(self.start)) * SHIFT) + _days([as_of])[0]
        keys = self._keys()
        return np.searchsorted(keys, cut, side="right") - self.start

    def _keys(self) -> np.ndarray:
        school = np.repeat(np.arange(len(self.start)), self.count)
        return np.asarray(school * SHIFT + self.ordinal, dtype=np.int64)


def calendar(school_days: pd.DataFrame) -> Calendar:
    ids = _strings(school_days["school_id"])
    schools = _sorted_unique(ids)
    keys = np.unique(_codes(ids, schools) * SHIFT + _days(school_days["date"]))
    if not len(keys):
        raise ValueError("no school days in the calendar")
    school, ordinal = keys // SHIFT, keys % SHIFT
    count = np.bincount(school, minlength=len(schools))
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    same_prev = np.r_[False, school[1:] == school[:-1]]
    same_next = np.r_[school[:-1] == school[1:], False]
    gap_before = np.r_[0, ordinal[1:] - ordinal[:-1] - 1]
    gap_after = np.r_[ordinal[1:] - ordinal[:-1] - 1, 0]
    near = (same_prev & (gap_before >= 3)) | (same_next & (gap_after >= 3))
    first = int(ordinal.min()) if len(ordinal) else 0
    width = int(ordinal.max()) - first + 1 if len(ordinal) else 1
    table = np.full((max(1, len(schools)), width), -1, dtype=np.int64)
    table[school, ordinal - first] = np.arange(len(keys))
    return Calendar(
        schools=schools,
        start=start,
        count=count.astype(np.int64),
        ordinal=ordinal,
        dow=((ordinal + 3) % 7 + 1).astype(np.int8),
        near_break=near,
        first_day=first,
        table=table,
    )


@dataclass
class Spans:
    """One row per student × school: enrolled school-day indexes, entry date, grade."""

    students: pa.Array  # sorted student ids; a student's code is its position
    student: np.ndarray
    school: np.ndarray
    entry_idx: np.ndarray
    exit_idx: np.ndarray
    entry_day: np.ndarray
    grade: pa.Array
    n_schools: np.ndarray


def spans(enrollments: pd.DataFrame, cal: Calendar) -> Spans:
    """Enrollment rows → spans, as `_BASE_SQL` does (ASOF to the first/last school day)."""
    exit_type = pc.utf8_lower(_strings(enrollments["exit_type"]).fill_null(""))
    entry = _days(enrollments["entry_date"])
    leave = _days(enrollments["exit_date"])
    open_ended = leave == NAT
    leave[open_ended] = SHIFT - 1
    ignored = pc.is_in(exit_type, value_set=pa.array(IGNORED_EXITS, type=pa.large_string()))
    valid = ~np.asarray(ignored.to_numpy(), dtype=bool)
    valid &= (open_ended | (leave >= entry)) & (entry != NAT)
    school = _codes(_strings(enrollments["school_id"]), cal.schools)
    valid &= school >= 0
    keys = cal._keys()
    school_c = np.where(school >= 0, school, 0)
    first = np.searchsorted(keys, school_c * SHIFT + entry, side="left")
    last = np.searchsorted(keys, school_c * SHIFT + leave, side="right") - 1
    begin, end = cal.start[school_c], cal.start[school_c] + cal.count[school_c]
    valid &= (first < end) & (last >= begin) & (first <= last)
    rows = np.flatnonzero(valid)
    ids = _pick(_strings(enrollments["student_id"]), valid)
    students = _sorted_unique(ids)
    return _group_spans(
        students,
        _codes(ids, students),
        school[rows],
        first[rows] - begin[rows] + 1,
        last[rows] - begin[rows] + 1,
        entry[rows],
        pc.utf8_lower(_pick(_strings(enrollments["grade"]), valid)),
        len(cal.start),
    )


def _group_spans(
    students: pa.Array,
    student: np.ndarray,
    school: np.ndarray,
    entry_idx: np.ndarray,
    exit_idx: np.ndarray,
    entry_day: np.ndarray,
    grade: pa.Array,
    n_school_codes: int,
) -> Spans:
    """Several enrollments at one school become one span: first entry, last exit, the grade
    of the latest entry; `n_schools` counts the student's spans entered on or before it."""
    key = student * n_school_codes + school
    order = np.lexsort((entry_day, key))
    key = key[order]
    head = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    tail = np.r_[head[1:], len(key)] - 1
    student_s, day_s = student[order][head], entry_day[order][head]
    by_entry = np.sort(student_s * SHIFT + day_s)
    n_schools = np.searchsorted(by_entry, student_s * SHIFT + day_s, side="right")
    n_schools -= np.searchsorted(by_entry, student_s * SHIFT, side="left")
    return Spans(
        students=students,
        student=student_s,
        school=school[order][head],
        entry_idx=np.minimum.reduceat(entry_idx[order], head),
        exit_idx=np.maximum.reduceat(exit_idx[order], head),
        entry_day=day_s,
        grade=grade.take(pa.array(order[tail])),
        n_schools=n_schools,
    )


@dataclass
class Known:
    """What was known before d, one row per student-school-day with an event (sorted)."""

    span: np.ndarray
    idx: np.ndarray
    absent: np.ndarray  # micro-days, the most severe event of the day
    unexcused: np.ndarray
    tardy: np.ndarray
    skip_span: np.ndarray
    skip_idx: np.ndarray


class _SpanFinder:
    """(student, school) → example row, without hashing: students are coded, and a student
    has one or a few spans in a row."""

    def __init__(self, student: np.ndarray, school: np.ndarray, n_students: int) -> None:
        self.school = school
        self.first = np.full(n_students + 1, -1, dtype=np.int64)
        self.count = np.bincount(student, minlength=n_students + 1)[: n_students + 1]
        heads = np.flatnonzero(np.r_[True, student[1:] != student[:-1]][: len(student)])
        self.first[student[heads]] = heads
        self.widest = int(self.count.max()) if len(self.count) else 0

    def find(self, student: np.ndarray, school: np.ndarray) -> np.ndarray:
        found = np.full(len(student), -1, dtype=np.int64)
        ok = student >= 0
        base, count = self.first[np.where(ok, student, -1)], self.count[np.where(ok, student, -1)]
        for j in range(self.widest):
            look = ok & (found < 0) & (count > j)
            candidate = base[look] + j
            hit = self.school[candidate] == school[look]
            found[np.flatnonzero(look)[hit]] = candidate[hit]
        return found


def _category_flags(categories: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Lower-cased category of each event as a small code: (codes, dictionary)."""
    encoded = pc.dictionary_encode(categories.fill_null("")).unify_dictionaries()
    if not encoded.num_chunks:
        return np.array([], dtype=np.int64), np.array([], dtype=object)
    dictionary = encoded.chunk(0).dictionary
    names = np.array(pc.utf8_lower(dictionary).to_pylist(), dtype=object)
    codes = np.concatenate([np.asarray(chunk.indices) for chunk in encoded.chunks])
    return codes.astype(np.int64), names


def _run_starts(*columns: pa.ChunkedArray) -> np.ndarray:
    """True where a run of equal values in all `columns` starts. Records arrive grouped by
    student (and school), so coding one row per run instead of every row saves most of the
    hashing; in any other order every row is its own run and the result is the same."""
    n = len(columns[0])
    change = np.zeros(n, dtype=bool)
    change[:1] = True
    for column in columns:
        differs = pc.not_equal(column[1:], column[:-1]).fill_null(True)
        change[1:] |= np.asarray(differs.to_numpy(), dtype=bool)
    return change


def _event_rows(
    frame: pd.DataFrame, d: dt.date, cal: Calendar, sp: Spans, find: _SpanFinder
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows recorded before d on school days before d, with their example row and index.

    1. Code (student, school) once per run of equal rows; find each run's example row.
    2. Keep rows recorded before d, dated before d, of an example student-school.
    3. Their school-day position (off days and unknown schools drop out).
    """
    students, schools = _strings(frame["student_id"]), _strings(frame["school_id"])
    starts = _run_starts(students, schools)
    school = _codes(_pick(schools, starts), cal.schools)
    span = find.find(_codes(_pick(students, starts), sp.students), school)
    run = np.cumsum(starts, dtype=np.int32) - 1
    recorded, dates = frame["recorded_at"].to_numpy(), frame["date"].to_numpy()
    before = (recorded < np.datetime64(d)) & (dates < np.datetime64(d))
    keep = np.flatnonzero(before & (span >= 0)[run])
    run = run[keep]
    position = cal.position(school[run], _days(dates[keep]))
    good = position >= 0
    keep, run = keep[good], run[good]
    return keep, span[run], position[good] - cal.start[school[run]] + 1


def _absent_micro(
    frame: pd.DataFrame, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Absent fraction in micro-days (absences: duration or a whole day; partial: its
    duration or nothing; anything else: nothing), and the unexcused and tardy flags."""
    codes, names = _category_flags(_strings(frame["category"]))
    codes = codes[rows]
    absence = np.isin(names, ABSENCES)[codes]
    partial = (names == "partial")[codes]
    duration = frame["duration"].to_numpy(dtype=float, na_value=np.nan)[rows]
    micro = np.where(absence, MICRO, 0).astype(np.int64)
    given = (absence | partial) & ~np.isnan(duration)
    micro[given] = np.rint(duration[given] * MICRO).astype(np.int64)
    unexcused = (names == "unexcused absence")[codes]
    tardy = np.isin(names, ("tardy", "early departure"))[codes]
    return micro, unexcused, tardy


def known(lake: Any, as_of: dt.date, cal: Calendar, sp: Spans) -> Known:
    """1. Events known before d inside their span. 2. Sort by (span, day) unless already.
    3. One row per day: the maximum of each flag. 4. The period-level absences, deduplicated."""
    d = as_of + dt.timedelta(days=1)
    find = _SpanFinder(sp.student, sp.school, len(sp.students))
    rows, span, idx = _event_rows(lake.events, d, cal, sp, find)
    inside = (idx >= sp.entry_idx[span]) & (idx <= sp.exit_idx[span])
    rows, span, idx = rows[inside], span[inside], idx[inside]
    micro, unexcused, tardy = _absent_micro(lake.events, rows)
    width = int(cal.count.max()) + 2
    key = span * width + idx
    if len(key) and bool(np.any(key[1:] < key[:-1])):
        order = np.argsort(key, kind="stable")
        key, micro, unexcused, tardy = key[order], micro[order], unexcused[order], tardy[order]
    head = np.flatnonzero(np.r_[True, key[1:] != key[:-1]][: len(key)])
    skip_span, skip_idx = _skips(lake.section_events, d, cal, sp, find, width)
    return Known(
        span=key[head] // width,
        idx=key[head] % width,
        absent=np.maximum.reduceat(micro, head) if len(head) else micro,
        unexcused=np.maximum.reduceat(unexcused, head) if len(head) else unexcused,
        tardy=np.maximum.reduceat(tardy, head) if len(head) else tardy,
        skip_span=skip_span,
        skip_idx=skip_idx,
    )


def _skips(
    frame: pd.DataFrame | None,
    d: dt.date,
    cal: Calendar,
    sp: Spans,
    find: _SpanFinder,
    width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct school days with a period-level absence (outside the span too, as the SQL)."""
    if frame is None or not len(frame):
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    rows, span, idx = _event_rows(frame, d, cal, sp, find)
    codes, names = _category_flags(_strings(frame["category"]))
    absence = np.isin(names, ABSENCES)[codes[rows]]
    key = np.sort(span[absence] * width + idx[absence])
    key = key[np.r_[True, key[1:] != key[:-1]][: len(key)]]
    return key // width, key % width


def _per_span(span: np.ndarray, weights: Any, n: int) -> np.ndarray:
    return np.bincount(span, weights=weights, minlength=n)


def _streaks(k: Known, full: np.ndarray, nb: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Longest run of consecutive full-day absences, and the run ending on the last day."""
    span, idx = k.span[full], k.idx[full]
    longest = np.zeros(n, dtype=np.int64)
    current = np.zeros(n, dtype=np.int64)
    if not len(span):
        return longest, current
    start = np.r_[True, (span[1:] != span[:-1]) | (idx[1:] != idx[:-1] + 1)]
    run = np.cumsum(start) - 1
    length = np.bincount(run) if len(run) else np.array([], dtype=np.int64)
    run_span = span[start]
    run_end = np.r_[np.flatnonzero(start)[1:], len(idx)] - 1
    heads = np.flatnonzero(np.r_[True, run_span[1:] != run_span[:-1]])
    longest[run_span[heads]] = np.maximum.reduceat(length, heads)
    ends_now = idx[run_end] == nb[run_span]
    current[run_span[ends_now]] = length[ends_now]
    return longest, current


def _aggregate(k: Known, cal: Calendar, ex: dict[str, np.ndarray], n: int) -> dict[str, Any]:
    """The `agg`, `streaks` and `sk` parts of `_FEATURE_SQL` for every example at once.

    Sums over a subset are weighted bincounts (the weight times the subset's mask), which
    is cheaper than selecting the subset's rows first.
    """
    nb, entry = ex["nb"], ex["entry_idx"]
    ago, since_entry = nb[k.span] - k.idx, k.idx - entry[k.span]
    absent, tardy = k.absent.astype(float), k.tardy.astype(float)
    position = cal.start[ex["school"][k.span]] + k.idx - 1
    full = k.absent >= MICRO // 2

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(k.span, weights=weights, minlength=n)

    month = [total(absent * (since_entry < w)) for w in (20, 40, 60)]
    longest, current = _streaks(k, full, nb, n)
    skip_recent = k.skip_idx > nb[k.skip_span] - 20
    monday_friday = (cal.dow == 1) | (cal.dow == 5)
    return {
        "abs_micro": total(absent),
        "unexcused_ytd": total(absent * k.unexcused) / MICRO,
        "tardy_ytd": total(tardy),
        "abs_10": total(absent * (ago < 10)) / MICRO,
        "abs_20": total(absent * (ago < 20)) / MICRO,
        "abs_40": total(absent * (ago < 40)) / MICRO,
        "tardy_20": total(tardy * (ago < 20)),
        "monfri_abs": total(full & monday_friday[position]).astype(np.int64),
        "full_abs": total(full).astype(np.int64),
        "break_abs": total(full & cal.near_break[position]).astype(np.int64),
        "last_abs_idx": _last_absence(k, n),
        "ever_chronic": (total(_chronic_then(k, since_entry, n)) > 0).astype(np.int32),
        "month_trigger": (
            (month[0] >= 2 * MICRO) | (month[1] >= 4 * MICRO) | (month[2] >= 6 * MICRO)
        ).astype(np.int32),
        "longest_streak": longest,
        "current_streak": current,
        "skip_days_20": np.bincount(k.skip_span[skip_recent], minlength=n),
        "skip_days_ytd": np.bincount(k.skip_span, minlength=n),
    }


def _chronic_then(k: Known, since_entry: np.ndarray, n: int) -> np.ndarray:
    """On each known day: eligible and absent at least 10% of the days so far (exactly:
    micro-days x 10 against enrolled days x a million)."""
    cum = np.cumsum(k.absent)
    heads = np.flatnonzero(np.r_[True, k.span[1:] != k.span[:-1]][: len(k.span)])
    offset = np.zeros(n, dtype=np.int64)
    offset[k.span[heads]] = cum[heads] - k.absent[heads]
    cum -= offset[k.span]
    enrolled_then = since_entry + 1
    return (enrolled_then >= 10) & (cum * 10 >= enrolled_then * MICRO)


def _last_absence(k: Known, n: int) -> np.ndarray:
    """School-day index of each example's latest absence (-1: none); rows are sorted."""
    last = np.full(n, -1, dtype=np.int64)
    some = k.absent > 0
    span, idx = k.span[some], k.idx[some]
    latest = np.r_[span[1:] != span[:-1], True][: len(span)]
    last[span[latest]] = idx[latest]
    return last


@dataclass
class AsOf:
    """The scoring frame for one date, and what it was computed from (for the evidence)."""

    frame: pd.DataFrame
    known: Known
    calendar: Calendar
    school: np.ndarray  # school code of each frame row
    nb: np.ndarray
    entry_day: np.ndarray

    def evidence(self, rows: np.ndarray, families: list[list[str]]) -> list[list[list[str]]]:
        """For each frame row and each of its reason families, the dates behind it (the
        latest ten; one for the last absence).

        1. Gather the known days of just these rows (vectorised), with each day's masks.
        2. Split each needed family's dates by row; streaks are found per row that needs one.
        """
        days = _Evidence(self, rows)
        wanted = {family for names in families for family in names}
        split = {family: days.split(family) for family in wanted if family in days.masks}
        out = []
        for i, names in enumerate(families):
            found = []
            for family in names:
                if family in split:
                    values, bounds = split[family]
                    keep = 1 if family == "last_absence" else EVIDENCE_DAYS
                    found.append(values[max(bounds[i], bounds[i + 1] - keep) : bounds[i + 1]])
                else:
                    found.append(days.other(family, i))
            out.append(found)
        return out


class _Evidence:
    """The known days of the chosen rows, flattened, with one mask per reason family."""

    def __init__(self, asof: AsOf, rows: np.ndarray) -> None:
        k, cal = asof.known, asof.calendar
        self.asof, self.rows = asof, rows
        lo, hi = np.searchsorted(k.span, rows), np.searchsorted(k.span, rows, side="right")
        self.owner, picked = _ranges(lo, hi)
        idx, absent = k.idx[picked], k.absent[picked]
        position = cal.start[asof.school[rows]][self.owner] + idx - 1
        recent = idx > asof.nb[rows][self.owner] - 20
        some, full = absent > 0, absent >= MICRO // 2
        self.idx, self.full = idx, full
        self.dates = _iso(cal.ordinal[position])
        self.masks = {
            "recent": some & recent,
            "ytd": some,
            "unexcused": some & k.unexcused[picked],
            "weekday": full & np.isin(cal.dow[position], (1, 5)),
            "breaks": full & cal.near_break[position],
            "tardy": k.tardy[picked] & recent,
            "last_absence": some,
        }
        s_lo = np.searchsorted(k.skip_span, rows)
        s_hi = np.searchsorted(k.skip_span, rows, side="right")
        self.skip_owner, skip_picked = _ranges(s_lo, s_hi)
        self.skip_idx = k.skip_idx[skip_picked]
        skip_position = cal.start[asof.school[rows]][self.skip_owner] + self.skip_idx - 1
        self.skip_dates = _iso(cal.ordinal[skip_position])

    def split(self, family: str) -> tuple[list[str], list[int]]:
        """The family's dates as one list, and where each row's part starts and ends."""
        mask = self.masks[family]
        bounds = np.searchsorted(self.owner[mask], np.arange(len(self.rows) + 1))
        return self.dates[mask].tolist(), bounds.tolist()

    def other(self, family: str, i: int) -> list[str]:
        row = int(self.rows[i])
        if family == "mobility":
            return _iso(np.array([self.asof.entry_day[row]])).tolist()
        if family == "skipping":
            mine = self.skip_owner == i
            recent = self.skip_idx[mine] > self.asof.nb[row] - 20
            return list(self.skip_dates[mine][recent][-EVIDENCE_DAYS:])
        if family == "streak":
            return self._streak(i)
        return []

    def _streak(self, i: int) -> list[str]:
        """The current run of full-day absences, or else the longest one."""
        lo, hi = np.searchsorted(self.owner, [i, i + 1])
        full = np.flatnonzero(self.full[lo:hi]) + lo
        if not len(full):
            return []
        runs = np.split(full, np.flatnonzero(np.diff(self.idx[full]) != 1) + 1)
        nb = self.asof.nb[int(self.rows[i])]
        run = runs[-1] if self.idx[runs[-1][-1]] == nb else max(runs, key=len)
        return list(self.dates[run][-EVIDENCE_DAYS:])


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated [lo, hi) ranges: (which range each element came from, the element)."""
    counts = hi - lo
    owner = np.repeat(np.arange(len(lo)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - starts[owner] + lo[owner]


def _iso(ordinals: np.ndarray) -> np.ndarray:
    return np.asarray(ordinals, dtype=np.int64).astype("datetime64[D]").astype(str).astype(object)


def scoring(lake: Any, as_of: dt.date) -> AsOf:
    """Features of every student-school enrolled on `as_of`, for predictions made on d =
    as_of + 1 (columns and values of `_FEATURE_SQL` before `features._finish`)."""
    cal = calendar(lake.school_days)
    sp = spans(lake.enrollments, cal)
    nb_school, last_school = cal.nb(as_of), cal.count
    nb = nb_school[sp.school]
    enrolled_now = (nb >= sp.entry_idx) & (nb <= sp.exit_idx)
    chosen = enrolled_now & ((sp.exit_idx > nb) | (sp.exit_idx == last_school[sp.school]))
    ex = _take(sp, np.flatnonzero(chosen))
    ex["nb"] = nb[chosen]
    ex["schools"] = cal.schools
    k = known(lake, as_of, cal, _subset(sp, ex))
    n = len(ex["nb"])
    agg = _aggregate(k, cal, ex, n)
    frame = _frame(ex, agg, as_of)
    return AsOf(frame, k, cal, ex["school"], ex["nb"], ex["entry_day"])


def _take(sp: Spans, rows: np.ndarray) -> dict[str, Any]:
    return {
        "student": sp.student[rows],
        "school": sp.school[rows],
        "entry_idx": sp.entry_idx[rows],
        "exit_idx": sp.exit_idx[rows],
        "entry_day": sp.entry_day[rows],
        "grade": sp.grade.take(pa.array(rows)),
        "n_schools": sp.n_schools[rows],
        "students": sp.students,
    }


def _subset(sp: Spans, ex: dict[str, Any]) -> Spans:
    return Spans(
        students=sp.students,
        student=ex["student"],
        school=ex["school"],
        entry_idx=ex["entry_idx"],
        exit_idx=ex["exit_idx"],
        entry_day=ex["entry_day"],
        grade=ex["grade"],
        n_schools=ex["n_schools"],
    )


def _frame(ex: dict[str, Any], agg: dict[str, Any], as_of: dt.date) -> pd.DataFrame:
    """The final SELECT of `_FEATURE_SQL`, column for column."""
    nb, entry = ex["nb"], ex["entry_idx"]
    enrolled = nb - entry + 1
    absent = agg["abs_micro"] / MICRO
    d = as_of + dt.timedelta(days=1)
    full = agg["full_abs"]
    last = np.where(agg["last_abs_idx"] >= 0, agg["last_abs_idx"], entry - 1)
    tenth = enrolled / 10  # correctly rounded, as DuckDB's DECIMAL 0.1 * n cast to DOUBLE
    columns: dict[str, Any] = {
        "student_id": ex["students"].take(pa.array(ex["student"])).to_pandas(),
        "school_id": ex["schools"].take(pa.array(ex["school"])).to_pandas(),
        "d": np.full(len(nb), np.datetime64(d, "us")),
        "nb": nb.astype(np.int64),
        "enrolled_days": enrolled.astype(np.int64),
        "days_since_entry": (_days([d])[0] - ex["entry_day"]).astype(np.int64),
        "grade": ex["grade"].to_pandas(),
        "n_schools": ex["n_schools"].astype(np.int64),
        "abs_ytd": absent,
        "abs_rate_ytd": absent / enrolled,
        "unexcused_ytd": agg["unexcused_ytd"],
        "tardy_ytd": agg["tardy_ytd"],
        "abs_10": agg["abs_10"],
        "abs_20": agg["abs_20"],
        "abs_40": agg["abs_40"],
        "rate_10": agg["abs_10"] / np.minimum(10, enrolled),
        "rate_20": agg["abs_20"] / np.minimum(20, enrolled),
        "rate_40": agg["abs_40"] / np.minimum(40, enrolled),
        "tardy_20": agg["tardy_20"],
        "current_streak": agg["current_streak"],
        "longest_streak": agg["longest_streak"],
        "days_since_absence": (nb - last).astype(np.int64),
        "monfri_abs": agg["monfri_abs"].astype(np.int64),
        "monfri_share": np.divide(agg["monfri_abs"], full, out=np.zeros(len(nb)), where=full > 0),
        "break_abs": agg["break_abs"].astype(np.int64),
        "skip_days_20": agg["skip_days_20"].astype(np.int64),
        "skip_days_ytd": agg["skip_days_ytd"].astype(np.int64),
        "ever_chronic": agg["ever_chronic"],
        "month_trigger": agg["month_trigger"],
        "budget_used": absent / np.maximum(1, tenth),
        "chronic_known": (enrolled >= 10)
        & (agg["abs_micro"] < enrolled * MICRO)
        & (agg["abs_micro"] * 10 >= enrolled * MICRO),
    }
    return pd.DataFrame(columns)
