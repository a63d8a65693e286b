"""Who is enrolled where and when: entries, exits, transfers, no-shows, overlaps.

Each student attends at most two schools in the year: stint A from `start_a` to `end_a`
and, after an in-district transfer, stint B. Days are school-day indexes of the whole year
(0 = first day), drawn without looking at the as-of date so that a district generated as of
an earlier date is a prefix of the same district generated later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attend.roster.generate import descriptors as d
from attend.roster.generate.district import LEVELS, District
from attend.roster.generate.people import Students

NO_SHOW_SHARE = 0.005
LATE_ENTRY_SHARE = 0.06
EXIT_SHARE = 0.05
TRANSFER_SHARE = 0.03
OVERLAP_SHARE = 0.2  # of in-district transfers: the old school closes the record late
DUPLICATE_SHARE = 0.002  # a second, overlapping record at the same school

EXIT_TYPES = (
    d.EXIT_TRANSFERRED,
    d.EXIT_WITHDRAWN,
    d.EXIT_DROPOUT,
    d.EXIT_OTHER,
    d.EXIT_GRADUATED,
    d.EXIT_NO_SHOW,
)
X_TRANSFERRED, X_WITHDRAWN, X_DROPOUT, X_OTHER, X_GRADUATED, X_NO_SHOW = range(6)
NONE = -1


@dataclass(frozen=True)
class Stints:
    """Attendance truth per student (day indexes inclusive; school_b = -1 when none)."""

    school_a: np.ndarray
    start_a: np.ndarray
    end_a: np.ndarray
    school_b: np.ndarray
    start_b: np.ndarray
    end_b: np.ndarray
    no_show: np.ndarray

    def enrolled(self, days: int) -> np.ndarray:
        """Students × days: attending some school that day."""
        day = np.arange(days)[None, :]
        in_a = (day >= self.start_a[:, None]) & (day <= self.end_a[:, None])
        in_b = (day >= self.start_b[:, None]) & (day <= self.end_b[:, None])
        return np.asarray((in_a | in_b) & ~self.no_show[:, None])

    def school_on(self, days: int) -> np.ndarray:
        """Students × days: index of the school attended (A until it ends, then B)."""
        day = np.arange(days)[None, :]
        return np.where(day <= self.end_a[:, None], self.school_a[:, None], self.school_b[:, None])

    def last_day(self) -> np.ndarray:
        return np.where(self.school_b >= 0, self.end_b, self.end_a)


@dataclass(frozen=True)
class Associations:
    """The studentSchoolAssociations as the SIS records them (may differ from Stints)."""

    student: np.ndarray  # row in the batch
    school: np.ndarray
    entry: np.ndarray  # day index
    exit: np.ndarray  # day index or NONE
    exit_type: np.ndarray  # index into EXIT_TYPES or NONE


@dataclass(frozen=True)
class Enrollment:
    stints: Stints
    associations: Associations


def draw_enrollment(
    students: Students, district: District, days: int, rng: np.random.Generator
) -> Enrollment:
    """Draw everyone's year.

    1. Most enter on day 0; 6% arrive later (half within the first four weeks).
    2. 5% leave the district (transferred, withdrawn, dropped out) and 3% move to another
       school of the same level; a few of those moves leave the old record open for a few
       days (overlapping associations), and a few students get a duplicate record.
    3. 0.5% never show up: one association closed on the first day as `No show`.
    4. Seniors still enrolled on the last day leave as `Graduated`.
    """
    n = len(students)
    start = _entry_days(n, days, rng)
    kind = rng.choice(
        4,
        size=n,
        p=[
            1 - EXIT_SHARE - TRANSFER_SHARE - NO_SHOW_SHARE,
            EXIT_SHARE,
            TRANSFER_SHARE,
            NO_SHOW_SHARE,
        ],
    )
    span = np.maximum(days - 10 - start, 1)
    leave = start + 5 + (rng.random(n) * span).astype(np.int64)
    target = _transfer_targets(students, district, rng)
    moves = (kind == 2) & (target >= 0) & (leave > start)
    exits = ((kind == 1) | ((kind == 2) & ~moves)) & (leave > start)
    no_show = kind == 3
    start = np.where(no_show, 0, start)
    stints = _stints(students, start, leave, moves, exits, no_show, target, days)
    return Enrollment(stints, _associations(students, stints, exits, moves, days, rng))


def _entry_days(n: int, days: int, rng: np.random.Generator) -> np.ndarray:
    late = rng.random(n) < LATE_ENTRY_SHARE
    early_arrival = rng.random(n) < 0.5
    window = np.where(early_arrival, min(20, days - 1), days - 20)
    return np.where(late, 1 + (rng.random(n) * np.maximum(window - 1, 1)).astype(np.int64), 0)


def _transfer_targets(
    students: Students, district: District, rng: np.random.Generator
) -> np.ndarray:
    """Another school of the same level, or -1 when the level has only one school."""
    target = np.full(len(students), NONE, dtype=np.int64)
    for index, name in enumerate(LEVELS):
        pool = district.by_level[name]
        if len(pool) < 2:
            continue
        mask = students.level == index
        pick = pool[rng.integers(len(pool), size=int(mask.sum()))]
        same = pick == students.school[mask]
        target[mask] = np.where(same, pool[(np.searchsorted(pool, pick) + 1) % len(pool)], pick)
    return target


def _stints(
    students: Students,
    start: np.ndarray,
    leave: np.ndarray,
    moves: np.ndarray,
    exits: np.ndarray,
    no_show: np.ndarray,
    target: np.ndarray,
    days: int,
) -> Stints:
    end_a = np.where(moves | exits, leave - 1, days - 1)
    return Stints(
        school_a=students.school,
        start_a=start,
        end_a=np.where(no_show, -1, end_a),
        school_b=np.where(moves, target, NONE),
        start_b=np.where(moves, leave, days),
        end_b=np.where(moves, days - 1, -1),
        no_show=no_show,
    )


def _associations(
    students: Students,
    stints: Stints,
    exits: np.ndarray,
    moves: np.ndarray,
    days: int,
    rng: np.random.Generator,
) -> Associations:
    """Records for stint A, stint B, duplicates; sorted by student then entry."""
    n = len(students)
    rows = np.arange(n)
    a_exit, a_type = _exit_of_a(students, stints, exits, moves, days, rng)
    b_exit = np.where(students.grade == 12, days - 1, NONE)
    b_type = np.where(students.grade == 12, X_GRADUATED, NONE)
    dup = (rng.random(n) < DUPLICATE_SHARE) & ~stints.no_show & ~moves & ~exits
    dup_entry = np.minimum(stints.start_a + 5 + rng.integers(0, 35, size=n), days - 1)
    parts = [
        (rows, stints.school_a, stints.start_a, a_exit, a_type),
        (rows[moves], stints.school_b[moves], stints.start_b[moves], b_exit[moves], b_type[moves]),
        (
            rows[dup],
            stints.school_a[dup],
            dup_entry[dup],
            np.full(dup.sum(), NONE),
            np.full(dup.sum(), NONE),
        ),
    ]
    cols = [np.concatenate([p[i] for p in parts]) for i in range(5)]
    order = np.lexsort((cols[2], cols[0]))
    return Associations(*(c[order] for c in cols))


def _exit_of_a(
    students: Students,
    stints: Stints,
    exits: np.ndarray,
    moves: np.ndarray,
    days: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Exit day and type of the first association."""
    n = len(students)
    overlap = moves & (rng.random(n) < OVERLAP_SHARE)
    late_close = np.minimum(stints.end_a + rng.integers(1, 6, size=n), days - 1)
    exit_day = np.where(overlap, late_close, stints.end_a)
    leaver = _leaver_types(students, rng)
    senior = students.grade == 12
    exit_type = np.select(
        [stints.no_show, moves, exits, senior],
        [X_NO_SHOW, X_TRANSFERRED, leaver, X_GRADUATED],
        NONE,
    )
    exit_day = np.where(stints.no_show, 0, np.where(exit_type == NONE, NONE, exit_day))
    return exit_day, exit_type


def _leaver_types(students: Students, rng: np.random.Generator) -> np.ndarray:
    """Out-of-district leavers: mostly transfers; dropouts only from grade 10 up."""
    kind = rng.choice(4, size=len(students), p=[0.6, 0.28, 0.08, 0.04])
    kind = np.where((kind == X_DROPOUT) & (students.grade < 10), X_WITHDRAWN, kind)
    return kind.astype(np.int64)
