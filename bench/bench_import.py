"""Import benchmark (not a test): a generated district into SQLite and PostgreSQL.

    attend bench import [--students 50000] [--seed 7] [--lake DIR] [--backends sqlite,postgres]
                        [--postgres-url postgres://postgres@127.0.0.1:5432/test] [--no-baseline]

1. Generate the lake folder (`attend.roster.generate.generate`), or reuse `--lake DIR`.
2. For each backend, in a fresh database (SQLite: a file in a temporary folder; PostgreSQL:
   a scratch database `attend_bench`, created and dropped here): migrate (not timed), then time
   `import_edfi` on the lake, then the same import again (it must change nothing).
3. In another fresh database, time a straightforward Django import of the same records:
   `json.loads` per line and `bulk_create` per model, no validation, no idempotency.
4. Print events/s for each, the ratio, CPU seconds and peak memory (each run is its own
   process, so its peak RSS is its own).

Events/s counts every ledger row (daily and section events) over the whole import's wall
time, roster included. The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENT_FILES = ("studentSchoolAttendanceEvents", "studentSectionAttendanceEvents")
SCRATCH = "attend_bench"


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        return _child(args)
    lake = _lake(args)
    try:
        events = sum(_lines(lake / f"{name}.ndjson") for name in EVENT_FILES)
        _header(args, lake, events)
        for backend in args.backends.split(","):
            _compare(backend.strip(), lake, events, args)
    finally:
        if not args.lake:  # generated here: half a gigabyte not to leave in /tmp
            shutil.rmtree(lake, ignore_errors=True)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attend bench import", description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lake", type=Path, help="reuse this lake folder (ndjson)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--child", choices=["attend", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--twice", action="store_true", help=argparse.SUPPRESS)
    return parser


def _lake(args: argparse.Namespace) -> Path:
    if args.lake and (args.lake / "studentSchoolAttendanceEvents.ndjson").is_file():
        return Path(args.lake)
    out = Path(args.lake or tempfile.mkdtemp(prefix="attend-bench-lake-"))
    _setup_django("sqlite:///:memory:")
    from attend.roster.generate import generate

    started = time.perf_counter()
    generate(students=args.students, seed=args.seed, out=out, fmt="ndjson")
    print(
        f"generated {args.students:,} students into {out} in {time.perf_counter() - started:.1f} s"
    )
    return out


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))


def _header(args: argparse.Namespace, lake: Path, events: int) -> None:
    size = sum(p.stat().st_size for p in lake.glob("*.ndjson"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"attend bench import: {events:,} attendance events in {lake} "
        f"({size / 1e6:,.0f} MB NDJSON); {os.cpu_count()} cores, load average {load}"
    )


# ---------------------------------------------------------------------------------------------
# The parent: fresh databases, one child process per measured run


def _compare(backend: str, lake: Path, events: int, args: argparse.Namespace) -> None:
    with _database(backend, args.postgres_url) as url:
        ours = _run(url, lake, "attend", twice=True)
    print(_line(backend, "attend import_edfi", events, ours))
    print(
        f"{backend:<9} re-import of the same lake: {ours['again']} in {ours['again_seconds']:.1f} s"
    )
    if args.no_baseline:
        return
    with _database(backend, args.postgres_url) as url:
        base = _run(url, lake, "baseline")
    print(_line(backend, "bulk_create baseline", events, base))
    print(f"{backend:<9} ratio: {base['seconds'] / ours['seconds']:.1f}× the bulk_create baseline")


def _line(backend: str, what: str, events: int, run: dict[str, Any]) -> str:
    rate = events / run["seconds"]
    return (
        f"{backend:<9} {what:<22} {events:,} events in {run['seconds']:.1f} s = "
        f"{rate:,.0f} events/s (CPU {run['cpu']:.1f} s in this process, "
        f"peak memory {run['rss_mb']:,.0f} MB, load average {run['load']})"
    )


def _run(url: str, lake: Path, mode: str, twice: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.bench_import", "--child", mode, "--lake", str(lake)]
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "attend.settings"}
    done = subprocess.run(
        [*command, *(["--twice"] if twice else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{mode} run failed:\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class _database:
    """A fresh database for one run: a SQLite file, or the PostgreSQL scratch database."""

    def __init__(self, backend: str, postgres_url: str) -> None:
        self.backend, self.postgres_url = backend, postgres_url
        self.folder: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            self.folder = tempfile.TemporaryDirectory(prefix="attend-bench-")
            return f"sqlite:///{self.folder.name}/bench.sqlite3"
        self._admin(f"DROP DATABASE IF EXISTS {SCRATCH}", f"CREATE DATABASE {SCRATCH}")
        return self.postgres_url.rsplit("/", 1)[0] + f"/{SCRATCH}"

    def __exit__(self, *exc: object) -> None:
        if self.folder is not None:
            self.folder.cleanup()
        else:
            self._admin(f"DROP DATABASE IF EXISTS {SCRATCH}")

    def _admin(self, *statements: str) -> None:
        import psycopg

        url = self.postgres_url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The child: one measured import in its own process


def _setup_django(url: str | None = None) -> None:
    if url:
        os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attend.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _child(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    result = _measure(lambda: _import(args.child, args.lake))
    # The machine is shared: the 1-minute load average as the measured run ended.
    result["load"] = f"{os.getloadavg()[0]:.1f}"
    if args.twice:
        again = _measure(lambda: _import(args.child, args.lake))
        result |= {"again": again["summary"], "again_seconds": again["seconds"]}
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
    return 0


def _measure(work: Any) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    summary = work()
    return {
        "seconds": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "summary": summary,
    }


def _import(mode: str, lake: Path) -> str:
    if mode == "baseline":
        return f"{baseline(lake):,} events"
    from attend.roster.actions import import_edfi

    return import_edfi(path=lake, by=None).summary()


# ---------------------------------------------------------------------------------------------
# The baseline: what a straightforward Django import of the same records looks like


def _records(lake: Path, name: str) -> Iterator[dict[str, Any]]:
    path = lake / f"{name}.ndjson"
    if path.is_file():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)


def _code(uri: str | None) -> str:
    return (uri or "").rsplit("#", 1)[-1]


def baseline(lake: Path, size: int = 5000) -> int:
    """json.loads and bulk_create, model by model; returns the number of events written."""
    from attend.roster.models import District

    district = District.objects.create(lea_id="bench", name="Benchmark district")
    schools = _baseline_schools(lake, district)
    _baseline_calendars(lake, schools, size)
    students = _baseline_students(lake, district, size)
    _baseline_guardians(lake, students, size)
    _baseline_enrollments(lake, students, schools, size)
    return _baseline_events(lake, students, schools, size)


def _baseline_schools(lake: Path, district: Any) -> dict[str, int]:
    from attend.roster.models import School

    made = School.objects.bulk_create(
        School(district=district, school_id=str(r["schoolId"]), name=r["nameOfInstitution"])
        for r in _records(lake, "schools")
    )
    return {s.school_id: s.pk for s in made}


def _baseline_calendars(lake: Path, schools: dict[str, int], size: int) -> None:
    from attend.roster.models import Calendar, CalendarDate

    calendars: dict[tuple[str, int, str], Calendar] = {}
    dates = []
    for r in _records(lake, "calendarDates"):
        ref = r["calendarReference"]
        key = (str(ref["schoolId"]), int(ref["schoolYear"]), ref["calendarCode"])
        if key not in calendars:
            calendars[key] = Calendar(school_id=schools[key[0]], school_year=key[1], code=key[2])
        events = [_code(e["calendarEventDescriptor"]).lower() for e in r["calendarEvents"]]
        dates.append((key, r["date"], events))
    Calendar.objects.bulk_create(calendars.values())
    school_days = {"instructional day", "make-up day", "student late arrival/early dismissal"}
    CalendarDate.objects.bulk_create(
        (
            CalendarDate(
                calendar=calendars[k], date=d, events=e, is_school_day=bool(school_days & set(e))
            )
            for k, d, e in dates
        ),
        batch_size=size,
    )


def _baseline_students(lake: Path, district: Any, size: int) -> dict[str, int]:
    from attend.roster.models import Student

    demographics = {
        r["studentReference"]["studentUniqueId"]: r
        for r in _records(lake, "studentEducationOrganizationAssociations")
    }
    rows = []
    for r in _records(lake, "students"):
        d = demographics.get(r["studentUniqueId"], {})
        rows.append(
            Student(
                district=district,
                student_unique_id=r["studentUniqueId"],
                first_name=r["firstName"],
                last_name=r["lastSurname"],
                birth_date=r.get("birthDate"),
                sex=_code(d.get("sexDescriptor")).lower(),
                hispanic=bool(d.get("hispanicLatinoEthnicity")),
            )
        )
    Student.objects.bulk_create(rows, batch_size=size)
    return dict(Student.objects.values_list("student_unique_id", "pk"))


def _baseline_guardians(lake: Path, students: dict[str, int], size: int) -> None:
    from attend.roster.models import Guardian, StudentGuardian

    Guardian.objects.bulk_create(
        (
            Guardian(
                contact_unique_id=r["contactUniqueId"],
                first_name=r["firstName"],
                last_name=r["lastSurname"],
            )
            for r in _records(lake, "contacts")
        ),
        batch_size=size,
    )
    guardians = dict(Guardian.objects.values_list("contact_unique_id", "pk"))
    StudentGuardian.objects.bulk_create(
        (
            StudentGuardian(
                student_id=students[r["studentReference"]["studentUniqueId"]],
                guardian_id=guardians[r["contactReference"]["contactUniqueId"]],
                relation=_code(r.get("relationDescriptor")),
                primary=bool(r.get("primaryContactStatus")),
            )
            for r in _records(lake, "studentContactAssociations")
        ),
        batch_size=size,
    )


def _baseline_enrollments(
    lake: Path, students: dict[str, int], schools: dict[str, int], size: int
) -> None:
    from attend.roster.models import Enrollment

    Enrollment.objects.bulk_create(
        (
            Enrollment(
                student_id=students[r["studentReference"]["studentUniqueId"]],
                school_id=schools[str(r["schoolReference"]["schoolId"])],
                school_year=r["schoolYear"],
                entry_date=r["entryDate"],
                exit_date=r.get("exitWithdrawDate"),
                exit_type=_code(r.get("exitWithdrawTypeDescriptor")),
                grade=_code(r.get("entryGradeLevelDescriptor")),
            )
            for r in _records(lake, "studentSchoolAssociations")
        ),
        batch_size=size,
    )


def _baseline_events(
    lake: Path, students: dict[str, int], schools: dict[str, int], size: int
) -> int:
    from attend.attendance.choices import EDFI_CODES
    from attend.attendance.models import AttendanceEvent

    def rows() -> Iterator[AttendanceEvent]:
        for name in EVENT_FILES:
            for r in _records(lake, name):
                section = r.get("sectionReference") or {}
                school = section.get("schoolId") or r["schoolReference"]["schoolId"]
                yield AttendanceEvent(
                    student_id=students[r["studentReference"]["studentUniqueId"]],
                    school_id=schools[str(school)],
                    section_id=section.get("sectionIdentifier", ""),
                    event_date=r["eventDate"],
                    category=EDFI_CODES[_code(r["attendanceEventCategoryDescriptor"]).lower()],
                    duration=r.get("eventDuration"),
                    reason=r.get("attendanceEventReason") or "",
                    recorded_at=r.get("_lastModifiedDate") or "2026-01-01T00:00:00Z",
                )

    count = 0
    batch: list[AttendanceEvent] = []
    for event in rows():
        batch.append(event)
        if len(batch) == size:
            count += len(AttendanceEvent.objects.bulk_create(batch))
            batch = []
    return count + len(AttendanceEvent.objects.bulk_create(batch))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
