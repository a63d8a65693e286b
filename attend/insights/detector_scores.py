"""Score the pattern detectors against the generator's answer file (`_truth/life_events.csv`).

`attend generate` plants life events (housing loss, illness, bullying, family duties) and
writes when each began and ended. The engine never reads that file; this module replays the
school year through the engine and asks, for each ATTENDANCE-RULES pattern:

- **recall**: of the life events of the kinds the detector is meant to catch, the share that
  got a new flag on the student while the event could explain it;
- **median delay**: school days from the event's first day to that first flag;
- **unbacked share**: of all the flags the detector raised, the share with no life event of any
  kind behind them (and, stricter, with none of its own kinds);
- **lift**: flags raised per student and run while a life event is in progress, over the same
  rate otherwise (about 1 for a detector that flags at random).

How the replay works (`flag_history`):

1. Load the lake folder once and keep every normalised input on the backend.
2. Run the engine's `prepare` and detectors (`patterns.flagged`: the rows of `flags` without
   their evidence) as of every `every`-th school day of the district, as a nightly
   (`every=1`) or weekly (`every=5`) run would; keep who carries which flag.
3. A flag *onset* is a run on which a student carries a flag they did not carry on the run
   before. A flag *raised* (what the unbacked share and the lift count) is an onset after at
   least `recent_window_days` school days without that flag: a flag that drops for a night
   and comes back is the same concern to the person reading the list.

Matching (`score`): an event explains a flag raised from its first day until
`recent_window_days` school days after its last (the detectors look back that far). An event
counts as caught by a detector when the detector's flag had an onset on the student in that
span; a flag that was already standing when the event began does not count, it was raised
for something else. Students are matched on their id alone, so a flag after a transfer still
counts.

Which kinds each detector is meant to catch (`DETECTOR_CAUSES`) follows what the generator
does during each kind of event (attend/roster/generate/attendance.py):

- housing loss: absences up by 30% a day for 30-90 school days, late arrivals up 15% →
  sudden drop, on track to become chronic, growing tardiness;
- illness: an unbroken 3-10 day absence streak, then a shaky recovery for 15-25 days in all →
  streak, sudden drop;
- bullying: Monday avoidance (+55% on Mondays, +10% other days) for 20-60 days, and in
  secondary schools one dreaded period skipped on 40% of the days present → weekday
  concentration, period skipping (only where periods are reported), sudden drop, on track;
- family duties: gone on Fridays (+50%), late most mornings (+35%), picked up early (+8%)
  for 25-70 days → weekday concentration, growing tardiness, sudden drop, on track.

No life event is built around breaks (the generator raises absences next to breaks for every
student through its day factors), so `around_breaks` has no kinds: it is reported with its
flag counts and no recall.
"""

from __future__ import annotations

import bisect
import csv
import json
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ibis.backends import BaseBackend

from attend.insights.engine import EngineInput, Policy, connect, inputs_for
from attend.insights.engine.backend import materialise
from attend.insights.engine.patterns import PATTERNS, flagged
from attend.insights.engine.prepare import prepare

__all__ = [
    "CAUSES",
    "DETECTOR_CAUSES",
    "DetectorScore",
    "FlagHistory",
    "LifeEvent",
    "flag_history",
    "parse_report",
    "read_life_events",
    "render_report",
    "score",
    "score_folder",
]

HOUSING, ILLNESS, BULLYING, FAMILY = "housing_loss", "illness", "bullying", "family_duties"
CAUSES = (HOUSING, ILLNESS, BULLYING, FAMILY)
DETECTOR_CAUSES: Mapping[str, tuple[str, ...]] = {
    "sudden_drop": (HOUSING, ILLNESS, BULLYING, FAMILY),
    "streak": (ILLNESS,),
    "weekday_concentration": (BULLYING, FAMILY),
    "around_breaks": (),
    "period_skipping": (BULLYING,),
    "growing_tardiness": (HOUSING, FAMILY),
    "on_track_to_chronic": (HOUSING, BULLYING, FAMILY),
}
# Detectors that can only see an event where the school reports period attendance.
NEEDS_PERIODS = frozenset({"period_skipping"})
_INPUTS = ("school_days", "enrollments", "events", "section_events", "students", "schools")
TRUTH_FILE = Path("_truth") / "life_events.csv"
MANIFEST_FILE = Path("_truth") / "manifest.json"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LifeEvent:
    """One row of `_truth/life_events.csv`."""

    student_id: str
    school_id: str
    cause: str
    start: date
    end: date


def read_life_events(folder: Path) -> list[LifeEvent]:
    """The generator's answer file of a lake folder."""
    with (folder / TRUTH_FILE).open(newline="", encoding="utf-8") as handle:
        return [
            LifeEvent(
                row["student_id"],
                row["school_id"],
                row["cause"],
                date.fromisoformat(row["start_date"]),
                date.fromisoformat(row["end_date"]),
            )
            for row in csv.DictReader(handle)
        ]


@dataclass(frozen=True)
class FlagHistory:
    """Who carried which flag on each check date.

    `school_days` are the district's school days (sorted), `checks` the dates the engine ran
    as of, `flagged[i]` the (student_id, pattern) pairs flagged as of `checks[i]`, and
    `period_schools` the schools with any period-level attendance, `students` the number of
    students with an enrollment.
    """

    school_days: tuple[date, ...]
    checks: tuple[date, ...]
    flagged: tuple[frozenset[tuple[str, str]], ...]
    period_schools: frozenset[str]
    students: int
    policy: Policy

    def day_number(self, day: date) -> int:
        """School days before `day` (so consecutive school days differ by one)."""
        return bisect.bisect_left(self.school_days, day)

    def onsets(self) -> list[tuple[date, str, str]]:
        """(check date, student_id, pattern) for every flag raised anew on a check (not
        carried on the check before)."""
        raised: list[tuple[date, str, str]] = []
        before: frozenset[tuple[str, str]] = frozenset()
        for day, now in zip(self.checks, self.flagged, strict=True):
            raised += [(day, student, pattern) for student, pattern in sorted(now - before)]
            before = now
        return raised

    def episodes(self, gap: int) -> list[tuple[date, str, str]]:
        """(first check, student_id, pattern) of every flag episode: a flag raised after at
        least `gap` school days without it. A flag that drops for a night or two and comes
        back is the same concern to the person reading the list, not a new flag."""
        last_seen: dict[tuple[str, str], int] = {}
        started: list[tuple[date, str, str]] = []
        for day, now in zip(self.checks, self.flagged, strict=True):
            number = self.day_number(day)
            for key in sorted(now):
                seen = last_seen.get(key)
                if seen is None or number - seen > gap:
                    started.append((day, *key))
                last_seen[key] = number
        return started


def flag_history(
    folder: Path,
    *,
    as_of: date | None = None,
    every: int = 1,
    policy: Policy | None = None,
    con: BaseBackend | None = None,
    progress: Progress | None = None,
) -> FlagHistory:
    """Run the engine's detectors as of every `every`-th school day up to `as_of` (default: the
    last school day of the folder's calendar with any attendance event)."""
    if every < 1:
        raise ValueError("every must be at least 1")
    policy = policy or Policy()
    con = con or connect("duckdb")
    inputs = _kept(inputs_for(folder, con))
    school_days = _school_days(con, inputs)
    last = as_of or _last_reported(con, inputs)
    checks = tuple(day for day in school_days[every - 1 :: every] if day <= last)
    carried = []
    for done, day in enumerate(checks, start=1):
        prep = prepare(inputs, as_of=day, policy=policy)
        table = con.to_pyarrow(flagged(prep).select("student_id", "pattern"))
        rows = zip(table["student_id"].to_pylist(), table["pattern"].to_pylist(), strict=True)
        carried.append(frozenset(rows))
        if progress is not None:
            progress(done, len(checks))
    return FlagHistory(
        school_days=school_days,
        checks=checks,
        flagged=tuple(carried),
        period_schools=_period_schools(con, inputs),
        students=_student_count(con, inputs),
        policy=policy,
    )


def _kept(inputs: EngineInput) -> EngineInput:
    """Every input conformed and stored once: the replay reads them a hundred times over."""
    tables: dict[str, Any] = {}
    for name in _INPUTS:
        given = getattr(inputs, name)
        tables[name] = None if given is None else materialise(inputs.table(name))
    return EngineInput(**tables)


def _school_days(con: BaseBackend, inputs: EngineInput) -> tuple[date, ...]:
    days = inputs.table("school_days").select("date").distinct()
    return tuple(sorted(con.to_pyarrow(days)["date"].to_pylist()))


def _last_reported(con: BaseBackend, inputs: EngineInput) -> date:
    events = inputs.table("events")
    value = con.to_pyarrow(events.aggregate(last=events.date.max()))["last"][0].as_py()
    if value is None:
        raise ValueError("the folder holds no attendance events")
    return value  # type: ignore[no-any-return]


def _student_count(con: BaseBackend, inputs: EngineInput) -> int:
    enrollments = inputs.table("enrollments")
    return int(con.execute(enrollments.student_id.nunique()))


def _period_schools(con: BaseBackend, inputs: EngineInput) -> frozenset[str]:
    if inputs.section_events is None:
        return frozenset()
    schools = inputs.table("section_events").select("school_id").distinct()
    return frozenset(con.to_pyarrow(schools)["school_id"].to_pylist())


@dataclass(frozen=True)
class DetectorScore:
    """One detector's scores (`recall` and `median_delay` are None without events to catch).

    `lift` compares how often the detector raises a flag on a student while a life event is in
    progress (per student and check) with how often it does otherwise: about 1 for a detector
    that flags at random, far above 1 for one that sees the events.
    """

    pattern: str
    causes: tuple[str, ...]
    events: int  # life events of its kinds it could have caught
    caught: int
    median_delay: float | None  # school days from the event's start to the first flag
    flags: int  # flags raised (episodes, see `FlagHistory.episodes`)
    unbacked: int  # ... with no life event behind them
    unbacked_own: int  # ... with no life event of the detector's kinds behind them
    exposure_inside: int  # (student, check) pairs inside some event's span
    exposure_outside: int  # ... outside every span

    @property
    def recall(self) -> float | None:
        return self.caught / self.events if self.events else None

    @property
    def unbacked_share(self) -> float | None:
        return self.unbacked / self.flags if self.flags else None

    @property
    def unbacked_own_share(self) -> float | None:
        return self.unbacked_own / self.flags if self.flags else None

    @property
    def lift(self) -> float | None:
        backed = self.flags - self.unbacked
        if not self.unbacked or not self.exposure_inside or not self.exposure_outside:
            return None
        return (backed / self.exposure_inside) / (self.unbacked / self.exposure_outside)


def score(history: FlagHistory, events: Iterable[LifeEvent]) -> list[DetectorScore]:
    """Every detector's recall, median delay and unbacked share (see the module docstring)."""
    grace = history.policy.recent_window_days
    spans = _spans(history, events, grace)
    inside = _exposure(history, spans)
    outside = history.students * len(history.checks) - inside
    onsets = _by_pattern(history, history.onsets())
    episodes = _by_pattern(history, history.episodes(grace))
    return [
        _score_one(history, p, spans, (onsets[p], episodes[p]), (inside, outside)) for p in PATTERNS
    ]


def _by_pattern(
    history: FlagHistory, raised: list[tuple[date, str, str]]
) -> dict[str, dict[str, list[int]]]:
    """pattern → student → school-day numbers of the checks a flag was raised on."""
    out: dict[str, dict[str, list[int]]] = {p: {} for p in PATTERNS}
    for day, student, pattern in raised:
        out[pattern].setdefault(student, []).append(history.day_number(day))
    return out


@dataclass(frozen=True)
class _Span:
    event: LifeEvent
    first: int  # school-day number of the event's first day
    last: int  # ... of the last day it can explain a flag on (end + grace)


def _spans(history: FlagHistory, events: Iterable[LifeEvent], grace: int) -> list[_Span]:
    last_check = history.checks[-1] if history.checks else date.min
    return [
        _Span(e, history.day_number(e.start), history.day_number(e.end) + grace)
        for e in events
        if e.start <= last_check
    ]


def _exposure(history: FlagHistory, spans: list[_Span]) -> int:
    """(student, check) pairs with some event in progress."""
    checks = [history.day_number(day) for day in history.checks]
    covered: dict[str, set[int]] = {}
    for span in spans:
        lo = bisect.bisect_left(checks, span.first)
        hi = bisect.bisect_right(checks, span.last)
        covered.setdefault(span.event.student_id, set()).update(range(lo, hi))
    return sum(len(c) for c in covered.values())


def _score_one(
    history: FlagHistory,
    pattern: str,
    spans: list[_Span],
    raised: tuple[dict[str, list[int]], dict[str, list[int]]],
    exposure: tuple[int, int],
) -> DetectorScore:
    """Recall and delay from the onsets (`raised[0]`), flag counts from episodes."""
    causes = DETECTOR_CAUSES[pattern]
    onsets, episodes = raised
    by_student: dict[str, list[_Span]] = {}
    for span in spans:
        by_student.setdefault(span.event.student_id, []).append(span)
    own = [s for s in spans if s.event.cause in causes and _visible(history, pattern, s.event)]
    delays = [d for d in (_delay(onsets.get(s.event.student_id, []), s) for s in own) if d >= 0]
    unbacked = unbacked_own = 0
    for student, days in episodes.items():
        for number in days:
            behind = [s for s in by_student.get(student, []) if s.first <= number <= s.last]
            unbacked += not behind
            unbacked_own += not any(s.event.cause in causes for s in behind)
    return DetectorScore(
        pattern=pattern,
        causes=causes,
        events=len(own),
        caught=len(delays),
        median_delay=statistics.median(delays) if delays else None,
        flags=sum(len(days) for days in episodes.values()),
        unbacked=unbacked,
        unbacked_own=unbacked_own,
        exposure_inside=exposure[0],
        exposure_outside=exposure[1],
    )


def _visible(history: FlagHistory, pattern: str, event: LifeEvent) -> bool:
    return pattern not in NEEDS_PERIODS or event.school_id in history.period_schools


def _delay(raised: list[int], span: _Span) -> int:
    """School days from the event's start to the first flag raised in its span; -1 if none."""
    inside = [day for day in raised if span.first <= day <= span.last]
    return min(inside) - span.first if inside else -1


def score_folder(
    folder: Path,
    *,
    as_of: date | None = None,
    every: int = 1,
    policy: Policy | None = None,
    progress: Progress | None = None,
) -> tuple[FlagHistory, list[DetectorScore]]:
    """Replay a generated lake folder and score every detector against its answer file."""
    history = flag_history(folder, as_of=as_of, every=every, policy=policy, progress=progress)
    return history, score(history, read_life_events(folder))


# The report: a Markdown page with one table row per detector, and a parser for the test.

_HEADER = (
    "| detector | meant to catch | events | caught | recall | median delay (school days) "
    "| flags raised | no event behind | none of its kinds behind | lift |"
)


def render_report(
    history: FlagHistory,
    scores: list[DetectorScore],
    *,
    folder: Path,
    command: str,
) -> str:
    """The Markdown report (`docs/detector-scores.md`)."""
    manifest = _manifest(folder)
    events = read_life_events(folder)
    counted = [e for e in events if history.checks and e.start <= history.checks[-1]]
    kinds = ", ".join(f"{c} {sum(e.cause == c for e in counted)}" for c in CAUSES)
    cadence = "every school day" if _every(history) == 1 else f"every {_every(history)} school days"
    lines = [
        "# Pattern detectors against the generator's answer file",
        "",
        "Written by the command below; do not edit by hand. How the numbers are made, and",
        "which kinds of life event each detector is meant to catch, is in the docstring of",
        "`attend/insights/detector_scores.py`; `attend/insights/tests/test_detector_scores.py`",
        "checks the same scores on a fresh district (and the figures below) against floors.",
        "",
        f"    {command}",
        "",
        f"- District: {manifest.get('students', '?')} students, {manifest.get('schools', '?')} "
        f"schools, seed {manifest.get('seed', '?')}, school year {manifest.get('school_year', '?')}"
        f" (`attend generate`).",
        f"- Engine run as of {cadence}: {len(history.checks)} runs, "
        f"{history.checks[0] if history.checks else '-'} to "
        f"{history.checks[-1] if history.checks else '-'}, default policy.",
        f"- Life events started by then: {len(counted)} ({kinds}).",
        f"- An event explains a flag from its first day to {history.policy.recent_window_days} "
        "school days after its last.",
        "",
        _HEADER,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [_row(s) for s in scores]
    lines += [
        "",
        "Recall counts only flags raised anew inside the event's span (a flag already",
        'standing when the event began was raised for something else). "Flags raised" counts',
        f"a flag once until it has been gone {history.policy.recent_window_days} school days. "
        '"No event behind" is the share',
        "of raised flags with no life event of any kind in progress (or just over); most such",
        "flags are real attendance problems the generator did not script as a life event",
        "(ordinary illness runs, the 5% of students whose lateness grows all year, the 35% of",
        "secondary students who skip the odd period), so it is a ceiling on the false-alarm",
        'rate, not the false-alarm rate itself. "Lift" sets the two side by side: flags raised',
        "per student and run while a life event is in progress, divided by the same rate",
        "otherwise (1 would be a detector flagging at random).",
        "",
    ]
    return "\n".join(lines)


def _every(history: FlagHistory) -> int:
    if len(history.checks) < 2:
        return 1
    return history.day_number(history.checks[1]) - history.day_number(history.checks[0])


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _row(s: DetectorScore) -> str:
    cells = [
        s.pattern,
        ", ".join(s.causes) or "-",
        str(s.events),
        str(s.caught),
        _percent(s.recall),
        "-" if s.median_delay is None else f"{s.median_delay:g}",
        str(s.flags),
        _percent(s.unbacked_share),
        _percent(s.unbacked_own_share),
        "-" if s.lift is None else f"{s.lift:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def parse_report(text: str) -> dict[str, dict[str, float | None]]:
    """The figures of a report, per detector: events, caught, recall, median_delay, flags,
    unbacked_share, unbacked_own_share, lift (shares as fractions; None for a dash)."""
    rows: dict[str, dict[str, float | None]] = {}
    table = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    for line in table[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = {
            "events": float(cells[2]),
            "caught": float(cells[3]),
            "recall": _fraction(cells[4]),
            "median_delay": None if cells[5] == "-" else float(cells[5]),
            "flags": float(cells[6]),
            "unbacked_share": _fraction(cells[7]),
            "unbacked_own_share": _fraction(cells[8]),
            "lift": None if cells[9] == "-" else float(cells[9]),
        }
    return rows


def _fraction(cell: str) -> float | None:
    return None if cell == "-" else float(cell.rstrip("%")) / 100
