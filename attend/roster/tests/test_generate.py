"""The synthetic district generator (`attend generate`): format, determinism, realism.

No Django and no database: the generator is plain Python writing files, and these tests read
the files back with a small plain-Python version of ATTENDANCE-RULES.md.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from attend.roster.generate import calendar as cal
from attend.roster.generate import calibration, generate, generator, resolve_as_of
from attend.roster.generate.district import school_count

SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
NYC = SHARED_DATA / "attendance" / "nyc-doe-daily-school-attendance"
SCHOOL_DAY_EVENTS = {"instructional day", "make-up day", "student late arrival/early dismissal"}
ABSENCES = {"unexcused absence", "excused absence", "partial"}
SEVERITY = [
    "in attendance",
    "tardy",
    "early departure",
    "partial",
    "excused absence",
    "unexcused absence",
]
YEAR_END = dt.date(2026, 6, 29)

Key = tuple[str, int]


# --- reading a lake folder -------------------------------------------------------------------


def code(uri: str) -> str:
    return uri.split("#", 1)[1].lower()


@functools.cache
def read(lake: Path, name: str) -> list[dict[str, Any]]:
    """Records of one ndjson file (cached: several tests read the same district)."""
    with (lake / f"{name}.ndjson").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def manifest(lake: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((lake / "_truth" / "manifest.json").read_text("utf-8"))
    return data


def school_days(lake: Path) -> dict[int, set[str]]:
    days: dict[int, set[str]] = collections.defaultdict(set)
    for row in read(lake, "calendarDates"):
        events = {code(e["calendarEventDescriptor"]) for e in row["calendarEvents"]}
        if events & SCHOOL_DAY_EVENTS:
            days[row["calendarReference"]["schoolId"]].add(row["date"])
    return days


def enrolled_days(lake: Path) -> dict[Key, set[str]]:
    """Rules 1–3: enrolled school days per student × school, up to as-of."""
    days, as_of = school_days(lake), manifest(lake)["as_of"]
    enrolled: dict[Key, set[str]] = collections.defaultdict(set)
    for a in read(lake, "studentSchoolAssociations"):
        if code(a.get("exitWithdrawTypeDescriptor", "#")) in ("no show", "invalid enrollment"):
            continue
        key = (a["studentReference"]["studentUniqueId"], a["schoolReference"]["schoolId"])
        last = min(a.get("exitWithdrawDate", "9999-12-31"), as_of)
        enrolled[key] |= {d for d in days[key[1]] if a["entryDate"] <= d <= last}
    return enrolled


def fraction(event: dict[str, Any]) -> float:
    """Rule 6: the absent fraction of one event."""
    category = code(event["attendanceEventCategoryDescriptor"])
    if category not in ABSENCES:
        return 0.0
    return float(event.get("eventDuration", 0.0 if category == "partial" else 1.0))


def day_absence(lake: Path, enrolled: dict[Key, set[str]]) -> dict[Key, dict[str, float]]:
    """Rule 7: per enrolled day, the absent fraction of its most severe event."""
    worst: dict[Key, dict[str, tuple[int, float]]] = collections.defaultdict(dict)
    for e in read(lake, "studentSchoolAttendanceEvents"):
        key = (e["studentReference"]["studentUniqueId"], e["schoolReference"]["schoolId"])
        if e["eventDate"] not in enrolled.get(key, ()):
            continue
        rank = SEVERITY.index(code(e["attendanceEventCategoryDescriptor"]))
        if rank >= worst[key].get(e["eventDate"], (-1, 0.0))[0]:
            worst[key][e["eventDate"]] = (rank, fraction(e))
    return {k: {d: v[1] for d, v in days.items()} for k, days in worst.items()}


def chronic_rate(enrolled: dict[Key, set[str]], absence: dict[Key, dict[str, float]]) -> float:
    """Share of eligible student × school rows absent ≥ 10% of enrolled days."""
    eligible = chronic = 0
    for key, days in enrolled.items():
        absent = sum(absence.get(key, {}).values())
        if len(days) >= 10 and len(days) - absent > 0:
            eligible += 1
            chronic += absent >= 0.1 * len(days)
    return chronic / eligible


def files(lake: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(lake)): p.read_bytes() for p in sorted(lake.rglob("*")) if p.is_file()
    }


def strip_nulls(value: Any) -> Any:
    """Parquet has null where JSON leaves a key out; drop them to compare records."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default district: 2,000 students, whole year."""
    lake = tmp_path_factory.mktemp("district")
    generate(students=2000, seed=11, out=lake, as_of=YEAR_END)
    return lake


@pytest.fixture(scope="module")
def rates(district: Path) -> tuple[dict[Key, set[str]], dict[Key, dict[str, float]]]:
    enrolled = enrolled_days(district)
    return enrolled, day_absence(district, enrolled)


# --- tests --------------------------------------------------------------------------------------


def test_it_writes_the_same_bytes_for_the_same_seed(tmp_path: Path) -> None:
    for run in ("a", "b"):
        generate(students=300, seed=5, out=tmp_path / run, fmt="parquet", as_of=YEAR_END)
    generate(students=300, seed=6, out=tmp_path / "c", fmt="parquet", as_of=YEAR_END)
    first = files(tmp_path / "a")
    assert first == files(tmp_path / "b")
    assert (
        first["studentSchoolAttendanceEvents.parquet"]
        != files(tmp_path / "c")["studentSchoolAttendanceEvents.parquet"]
    )


def test_it_writes_the_same_records_in_json_ndjson_and_parquet(tmp_path: Path) -> None:
    results = {
        fmt: generate(students=250, seed=2, out=tmp_path / fmt, fmt=fmt, as_of=YEAR_END)
        for fmt in ("json", "ndjson", "parquet")
    }
    for name, path in results["json"].files.items():
        as_json = json.loads(path.read_text(encoding="utf-8"))
        as_ndjson = read(tmp_path / "ndjson", name)
        as_parquet = strip_nulls(pq.read_table(results["parquet"].files[name]).to_pylist())
        assert as_json == as_ndjson == as_parquet, name
        assert len(as_json) == results["parquet"].counts[name] > 0, name


def test_it_keeps_chronic_absence_between_15_and_30_percent(rates: Any, district: Path) -> None:
    rate = chronic_rate(*rates)
    assert 0.15 <= rate <= 0.30
    assert manifest(district)["simulated"]["chronic_rate"] == pytest.approx(rate, abs=0.01)


def test_it_makes_high_school_absence_worse(rates: Any, district: Path) -> None:
    enrolled, absence = rates
    level = {
        s["schoolId"]: code(s["gradeLevels"][0]["gradeLevelDescriptor"])
        for s in read(district, "schools")
    }
    by_level: dict[str, dict[Key, set[str]]] = collections.defaultdict(dict)
    for key, days in enrolled.items():
        by_level[level[key[1]]][key] = days
    high = chronic_rate(by_level["ninth grade"], absence)
    assert high > chronic_rate(by_level["kindergarten"], absence) + 0.05


def test_it_has_about_180_instructional_days_and_every_date_of_the_year(district: Path) -> None:
    per_school = collections.Counter(
        r["calendarReference"]["schoolId"] for r in read(district, "calendarDates")
    )
    assert set(per_school.values()) == {365}
    assert all(178 <= len(days) <= 182 for days in school_days(district).values())


def test_it_closes_for_the_holidays_of_the_year(district: Path) -> None:
    events = {
        r["date"]: code(r["calendarEvents"][0]["calendarEventDescriptor"])
        for r in read(district, "calendarDates")
    }
    holidays = [
        "2025-09-01",
        "2025-09-23",
        "2025-10-02",
        "2025-10-13",
        "2025-11-11",
        "2025-11-27",
        "2025-11-28",
        "2025-12-25",
        "2026-01-01",
        "2026-01-19",
        "2026-02-17",
        "2026-04-07",
        "2026-05-25",
        "2026-06-19",
    ]
    assert all(events[d] in ("holiday", "non-instructional day") for d in holidays)
    assert list(events.values()).count("weather day") == 2
    assert events["2025-11-04"] == "teacher only day"
    assert events["2025-09-06"] == "non-instructional day"  # a Saturday


def test_it_computes_movable_holidays() -> None:
    assert [cal.rosh_hashanah(y) for y in (2023, 2024, 2025, 2026)] == [
        dt.date(2023, 9, 16),
        dt.date(2024, 10, 3),
        dt.date(2025, 9, 23),
        dt.date(2026, 9, 12),
    ]
    assert [cal.easter(y) for y in (2024, 2025, 2026)] == [
        dt.date(2024, 3, 31),
        dt.date(2025, 4, 20),
        dt.date(2026, 4, 5),
    ]


def test_it_puts_events_on_enrolled_school_days_except_a_handful_planted(
    district: Path, rates: Any
) -> None:
    enrolled, _ = rates
    planted = {
        (r["student_id"], int(r["school_id"]), r["event_date"])
        for r in read_csv(district / "_truth" / "data_quality.csv")
    }
    stray = set()
    for e in read(district, "studentSchoolAttendanceEvents"):
        key = (e["studentReference"]["studentUniqueId"], e["schoolReference"]["schoolId"])
        if e["eventDate"] not in enrolled.get(key, ()):
            stray.add((*key, e["eventDate"]))
    assert stray == planted
    assert 3 <= len(planted) <= 10
    assert manifest(district)["deliberate_data_quality_events"] == len(planted)


def test_it_skips_periods_only_on_days_present_in_secondary_grades(
    district: Path, rates: Any
) -> None:
    enrolled, absence = rates
    secondary = {
        s["schoolId"]
        for s in read(district, "schools")
        if code(s["gradeLevels"][0]["gradeLevelDescriptor"]) != "kindergarten"
    }
    skips = read(district, "studentSectionAttendanceEvents")
    assert skips
    for e in skips:
        key = (e["studentReference"]["studentUniqueId"], e["sectionReference"]["schoolId"])
        assert key[1] in secondary
        assert e["eventDate"] in enrolled[key]
        assert absence.get(key, {}).get(e["eventDate"], 0.0) < 1.0


def test_it_makes_life_events_visible_in_the_following_20_school_days(
    district: Path, rates: Any
) -> None:
    enrolled, absence = rates
    before, after, causes = [], [], set()
    for row in read_csv(district / "_truth" / "life_events.csv"):
        key = (row["student_id"], int(row["school_id"]))
        days = sorted(enrolled[key])
        start = days.index(row["start_date"])
        if start >= 10 and len(days) - start >= 20:
            causes.add(row["cause"])
            before.append(_rate(absence.get(key, {}), days[:start]))
            after.append(_rate(absence.get(key, {}), days[start : start + 20]))
    assert causes == {"housing_loss", "illness", "bullying", "family_duties"}
    assert sum(after) / len(after) > 3 * sum(before) / len(before)
    assert sum(a - b >= 0.1 for a, b in zip(after, before, strict=True)) > 0.6 * len(after)


def _rate(absence: dict[str, float], days: list[str]) -> float:
    return sum(absence.get(d, 0.0) for d in days) / len(days)


def test_it_makes_mondays_and_fridays_worse_than_midweek(rates: Any) -> None:
    enrolled, absence = rates
    absent: dict[int, float] = collections.defaultdict(float)
    total: collections.Counter[int] = collections.Counter()
    for key, days in enrolled.items():
        for day in days:
            weekday = dt.date.fromisoformat(day).weekday()
            total[weekday] += 1
            absent[weekday] += absence.get(key, {}).get(day, 0.0)
    rate = [absent[w] / total[w] for w in range(5)]
    midweek = max(rate[1:4])
    assert rate[0] > midweek and rate[4] > midweek


def test_it_records_enrolment_changes(tmp_path: Path) -> None:
    generate(students=2500, seed=3, out=tmp_path, schools=9, as_of=YEAR_END)
    assocs = read(tmp_path, "studentSchoolAssociations")
    exits = collections.Counter(code(a.get("exitWithdrawTypeDescriptor", "#")) for a in assocs)
    assert {"transferred", "withdrawn", "graduated", "no show"} <= set(exits)
    by_student = collections.defaultdict(list)
    for a in assocs:
        by_student[a["studentReference"]["studentUniqueId"]].append(a)
    schools = [len({a["schoolReference"]["schoolId"] for a in v}) for v in by_student.values()]
    assert schools.count(2) > 20
    assert any(_overlap(v) for v in by_student.values() if len(v) > 1)
    assert sum(a["entryDate"] > "2025-09-04" for a in assocs) > 0.05 * len(by_student)


def _overlap(assocs: list[dict[str, Any]]) -> bool:
    first, second = sorted(assocs, key=lambda a: a["entryDate"])[:2]
    return bool(second["entryDate"] <= first.get("exitWithdrawDate", "9999"))


def test_it_gives_households_shared_guardians_and_demographics(district: Path) -> None:
    links = collections.defaultdict(list)
    for row in read(district, "studentContactAssociations"):
        links[row["studentReference"]["studentUniqueId"]].append(
            row["contactReference"]["contactUniqueId"]
        )
    assert {len(v) for v in links.values()} == {1, 2}
    shared = collections.Counter(tuple(v) for v in links.values())
    assert max(shared.values()) >= 3  # siblings share their guardians
    contacts = read(district, "contacts")
    assert len(contacts) == len({c for v in links.values() for c in v})
    demographics = read(district, "studentEducationOrganizationAssociations")
    econ = sum(bool(d["studentCharacteristics"]) for d in demographics) / len(demographics)
    assert len(demographics) == 2000 and 0.35 < econ < 0.8


def test_it_excuses_some_absences_days_later_and_gives_reasons(district: Path) -> None:
    events = read(district, "studentSchoolAttendanceEvents")
    late = [e for e in events if e["_lastModifiedDate"][:10] > e["eventDate"]]
    assert late and all(
        code(e["attendanceEventCategoryDescriptor"]) == "excused absence" for e in late
    )
    assert sum("attendanceEventReason" in e for e in events) > 0.2 * len(events)
    partial = [e for e in events if code(e["attendanceEventCategoryDescriptor"]) == "partial"]
    assert partial and all(0 < e["eventDuration"] < 1 for e in partial)
    assert not any(
        code(e["attendanceEventCategoryDescriptor"]) in ("in attendance", "present") for e in events
    )


def test_it_shows_only_what_is_known_on_the_as_of_date(tmp_path: Path) -> None:
    as_of = dt.date(2025, 12, 15)
    early = generate(students=800, seed=4, out=tmp_path / "dec", as_of=as_of)
    generate(students=800, seed=4, out=tmp_path / "jun", as_of=YEAR_END)
    lake = tmp_path / "dec"
    assert early.as_of == as_of and early.school_year == 2026
    events = read(lake, "studentSchoolAttendanceEvents")
    assert max(e["eventDate"] for e in events) <= "2025-12-15"
    assert max(e["_lastModifiedDate"][:10] for e in events) <= "2025-12-15"
    assert all(
        a.get("exitWithdrawDate", "") <= "2025-12-15"
        for a in read(lake, "studentSchoolAssociations")
    )
    assert (
        max(r["start_date"] for r in read_csv(lake / "_truth" / "life_events.csv")) <= "2025-12-15"
    )
    assert _absence_keys(lake) == {
        k for k in _absence_keys(tmp_path / "jun") if k[1] <= "2025-12-15"
    }


def _absence_keys(lake: Path) -> set[tuple[str, str]]:
    """(student, date) of every absence: an earlier as-of is a prefix of the same year."""
    return {
        (e["studentReference"]["studentUniqueId"], e["eventDate"])
        for e in read(lake, "studentSchoolAttendanceEvents")
        if fraction(e) > 0
    }


def test_it_defaults_as_of_to_today_inside_the_year_else_the_last_day() -> None:
    assert resolve_as_of(None, today=dt.date(2026, 2, 10)) == dt.date(2026, 2, 10)
    assert resolve_as_of(None, today=dt.date(2026, 11, 23)) == YEAR_END
    assert resolve_as_of(dt.date(2024, 1, 8)) == dt.date(2024, 1, 8)


def test_it_reports_progress_and_scales_schools_with_students(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generator, "BATCH_SIZE", 1000)
    calls: list[tuple[int, int]] = []
    result = generate(
        students=3200,
        seed=1,
        out=tmp_path,
        as_of=dt.date(2025, 9, 30),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1000, 3200), (2000, 3200), (3000, 3200), (3200, 3200)]
    assert result.schools == 6 and result.counts["schools"] == 6
    assert result.counts["students"] == len(read(tmp_path, "students")) <= 3200
    assert [school_count(n) for n in (100, 2000, 3200, 1_000_000)] == [4, 4, 6, 2000]


def test_it_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        generate(students=10, seed=1, out=tmp_path, fmt="xml")
    with pytest.raises(ValueError, match="students"):
        generate(students=0, seed=1, out=tmp_path)
    assert not list(tmp_path.glob("*.ndjson"))


def test_it_matches_the_calibration_recomputed_from_the_nyc_file() -> None:
    daily = NYC / "daily_school_attendance_2014-15.csv"
    if not daily.exists():
        pytest.skip(f"NYC calibration data not found at {NYC} (shared data folder absent)")
    fresh = calibration.derive_from_nyc(daily, NYC / "schools_2014-15.csv")
    baked = calibration.baked()
    assert fresh.dow == pytest.approx(baked.dow, abs=0.01)
    assert fresh.month == pytest.approx(baked.month, abs=0.01)
    for name in (
        "before_recess",
        "after_recess",
        "before_long_weekend",
        "after_long_weekend",
        "bad_day_share",
        "bad_day_factor",
        "mean_absence",
    ):
        assert getattr(fresh, name) == pytest.approx(getattr(baked, name), abs=0.01), name
    assert fresh.level == pytest.approx(baked.level, abs=0.02)
