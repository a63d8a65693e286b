"""The staged import: every parsed record, keyed by its natural key, before anything is written.

Readers (Ed-Fi lake, XML, API, OneRoster, SIS CSV) fill a `Batch`; `validate` checks references
against the batch and the database; `writer.write_batch` writes it in one transaction. Rows are
dicts holding only the fields the source actually gave, so a file without demographics never
blanks the demographics an earlier import stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from attend.attendance.choices import Source
from attend.roster.importers.common import Problems
from attend.roster.importers.staging import Events

# (studentUniqueId, schoolId, section identifier or "", date, category)
EventKey = tuple[str, str, str, dt.date, str]
SectionKey = tuple[str, int, str]  # (schoolId, school year, section identifier)

_LINE_SPAN = 1_000_000_000


@dataclass
class Table:
    """Rows of one kind, keyed by natural key, each remembering where it was read."""

    name: str
    rows: dict[Any, dict[str, Any]] = field(default_factory=dict)
    where: dict[Any, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def drop(self, key: Any) -> None:
        self.rows.pop(key, None)
        self.where.pop(key, None)


@dataclass
class Batch:
    source: str = Source.EDFI
    files: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    district: dict[str, Any] = field(default_factory=dict)  # lea_id, name
    # Used only when neither the source nor the database says which district this is.
    district_fallback: dict[str, Any] = field(default_factory=dict)
    school_years: set[int] = field(default_factory=set)
    schools: Table = field(default_factory=lambda: Table("school"))
    calendars: Table = field(default_factory=lambda: Table("calendar"))
    calendar_dates: Table = field(default_factory=lambda: Table("calendarDate"))
    students: Table = field(default_factory=lambda: Table("student"))
    guardians: Table = field(default_factory=lambda: Table("contact"))
    student_guardians: Table = field(default_factory=lambda: Table("studentContact"))
    enrollments: Table = field(default_factory=lambda: Table("enrollment"))
    staff: Table = field(default_factory=lambda: Table("staff"))
    sections: Table = field(default_factory=lambda: Table("section"))
    section_staff: Table = field(default_factory=lambda: Table("sectionStaff"))
    section_enrollments: Table = field(default_factory=lambda: Table("sectionEnrollment"))
    events: Events = field(default_factory=Events)
    deleted_events: list[EventKey] = field(default_factory=list)
    # A complete export replaces what the ledger holds in its range (`ledger.Replace`).
    replace: Any = None
    # Strings seen many times (student and school ids) are stored once.
    _interned: dict[str, str] = field(default_factory=dict)

    # -- locations ------------------------------------------------------------------------

    def file_number(self, name: str) -> int:
        if name not in self.files:
            self.files.append(name)
        return self.files.index(name)

    def at(self, file_no: int, line: int) -> int:
        return file_no * _LINE_SPAN + line

    def place(self, where: int) -> tuple[str, int]:
        file_no, line = divmod(where, _LINE_SPAN)
        return self.files[file_no], line

    def problem(self, where: int, fld: str, value: Any, reason: str) -> None:
        file, line = self.place(where)
        self.problems.add(file, line, fld, value, reason)

    def intern(self, text: str) -> str:
        return self._interned.setdefault(text, text)

    # -- staging --------------------------------------------------------------------------

    def put(self, table: Table, key: Any, row: dict[str, Any], where: int) -> bool:
        """Stage a row; a second row with the same key merges if it agrees, else is refused."""
        old = table.rows.get(key)
        if old is None:
            table.rows[key] = row
            table.where[key] = where
            return True
        clash = [f for f, v in row.items() if f in old and old[f] != v and v not in ("", None)]
        if clash:
            first = "{}:{}".format(*self.place(table.where[key]))
            self.problem(
                where, clash[0], row[clash[0]], f"duplicate {table.name} (first at {first})"
            )
            return False
        old.update({f: v for f, v in row.items() if v not in ("", None) or f not in old})
        return True

    def note_year(self, year: int) -> None:
        self.school_years.add(year)

    @property
    def newest_year(self) -> int | None:
        return max(self.school_years) if self.school_years else None

    def close(self) -> None:
        """Release the staged events (their embedded database and its spill folder)."""
        self.events.close()

    def record_count(self) -> int:
        tables = (self.schools, self.students, self.guardians, self.enrollments, self.sections)
        staged = sum(len(t) for t in tables) + len(self.calendar_dates)
        return staged + len(self.events) + len(self.deleted_events)
