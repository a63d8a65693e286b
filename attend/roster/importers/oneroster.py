"""OneRoster 1.1 and 1.2 CSV (a folder or a zip): orgs, sessions, users, classes, enrollments,
demographics → schools, students, guardians, staff, homerooms and sections.

Lenient on how headers and dates are spelt; strict on the manifest, on the columns the
specification requires, and on references between files. Natural keys are `sourcedId`s.
"""

from __future__ import annotations

import datetime as dt
import difflib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attend.attendance.choices import Source
from attend.roster.choices import Sex
from attend.roster.importers.batch import Batch
from attend.roster.importers.common import parse_bool, parse_date
from attend.roster.importers.edfi_records import Invalid
from attend.roster.importers.tabular import Sheet, header_key, read_table
from attend.roster.models import ID_LENGTH

Progress = Callable[[str], None]
Row = dict[str, str]

# Columns in specification order; a leading "*" marks a column the specification requires.
_COMMON = ("*sourcedId", "status", "dateLastModified")
_SPEC_11: dict[str, tuple[str, ...]] = {
    "orgs": (*_COMMON, "*name", "*type", "identifier", "parentSourcedId"),
    "academicSessions": (
        *_COMMON,
        "*title",
        "*type",
        "*startDate",
        "*endDate",
        "parentSourcedId",
        "*schoolYear",
    ),
    "classes": (
        *_COMMON,
        "*title",
        "grades",
        "*courseSourcedId",
        "classCode",
        "*classType",
        "location",
        "*schoolSourcedId",
        "*termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
    ),
    "courses": (
        *_COMMON,
        "schoolYearSourcedId",
        "*title",
        "courseCode",
        "grades",
        "*orgSourcedId",
        "subjects",
        "subjectCodes",
    ),
    "enrollments": (
        *_COMMON,
        "*classSourcedId",
        "*schoolSourcedId",
        "*userSourcedId",
        "*role",
        "primary",
        "beginDate",
        "endDate",
    ),
    "users": (
        *_COMMON,
        "*enabledUser",
        "*orgSourcedIds",
        "*role",
        "*username",
        "userIds",
        "*givenName",
        "*familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
    ),
    "demographics": (
        *_COMMON,
        "birthDate",
        "sex",
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
        "countryOfBirthCode",
        "stateOfBirthAbbreviation",
        "cityOfBirth",
        "publicSchoolResidenceStatus",
    ),
}
_SPEC_12 = {
    **_SPEC_11,
    "users": (
        *_COMMON,
        "*enabledUser",
        "*username",
        "userIds",
        "*givenName",
        "*familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ),
    "roles": (
        *_COMMON,
        "*userSourcedId",
        "*roleType",
        "*role",
        "beginDate",
        "endDate",
        "*orgSourcedId",
        "userProfileSourcedId",
    ),
}
SPECS = {"1.1": _SPEC_11, "1.2": _SPEC_12}
MODES = {"bulk", "delta", "absent", ""}
SCHOOL_TYPES = {"school", "department"}
STUDENT_ROLES = {"student"}
GUARDIAN_ROLES = {"parent", "guardian", "relative"}
RACES = {
    "americanIndianOrAlaskaNative": "American Indian or Alaska Native",
    "asian": "Asian",
    "blackOrAfricanAmerican": "Black or African American",
    "nativeHawaiianOrOtherPacificIslander": "Native Hawaiian or Other Pacific Islander",
    "white": "White",
}
KINDS = {"student": "a student", "guardian": "a guardian", "staff": "staff"}
SEXES = {"female": Sex.FEMALE, "male": Sex.MALE, "other": Sex.NOT_SELECTED, "unspecified": ""}


# ---------------------------------------------------------------------------------------------
# The bundle: a folder or a zip, file names matched case-insensitively


class Bundle:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, Callable[[], bytes]] = {}
        if path.is_dir():
            for file in path.iterdir():
                self.files[file.name.lower()] = file.read_bytes
        elif zipfile.is_zipfile(path):
            archive = zipfile.ZipFile(path)
            for info in archive.infolist():
                if not info.is_dir():
                    name = info.filename.rsplit("/", 1)[-1].lower()
                    self.files[name] = lambda i=info: archive.read(i)  # type: ignore[misc]
        else:
            raise FileNotFoundError(f"{path}: not a folder or a zip of OneRoster CSV files")

    def read(self, name: str) -> bytes | None:
        loader = self.files.get(name.lower())
        return loader() if loader else None


@dataclass
class Manifest:
    version: str = ""
    modes: dict[str, str] = field(default_factory=dict)


def read_oneroster(path: Path, batch: Batch, progress: Progress | None = None) -> None:
    """Stage a OneRoster bundle: manifest, then headers, then records and references."""
    batch.source = Source.ONEROSTER
    bundle = Bundle(path)
    manifest = read_manifest(bundle, batch)
    if manifest is None:
        return
    tables = {name: read_file(bundle, name, manifest, batch) for name in _wanted(manifest)}
    if len(batch.problems):
        return  # header problems: the records cannot be read reliably
    Roster(batch, tables, manifest).stage()
    if progress:
        progress(f"read {', '.join(f'{n} {len(t)}' for n, t in tables.items())}")


def _wanted(manifest: Manifest) -> list[str]:
    spec = SPECS[manifest.version]
    return [name for name in spec if manifest.modes.get(name.lower()) in ("bulk", "delta")]


# ---------------------------------------------------------------------------------------------
# Manifest and headers


def read_manifest(bundle: Bundle, batch: Batch) -> Manifest | None:
    """Strict: manifest.csv present, its versions known, every file it lists present."""
    data = bundle.read("manifest.csv")
    if data is None:
        batch.problems.add("manifest.csv", "", "", "", "missing (OneRoster requires a manifest)")
        return None
    sheet = read_table("manifest.csv", data, batch.problems)
    if sheet is None:
        return None
    if [header_key(h) for h in sheet.header[:2]] != ["propertyname", "value"]:
        batch.problems.add(
            "manifest.csv", 1, "header", ",".join(sheet.header), "must be propertyName,value"
        )
        return None
    manifest = Manifest()
    for line, row in sheet.rows:
        _manifest_property(manifest, line, *row.values(), bundle=bundle, batch=batch)
    _manifest_versions(manifest, sheet, batch)
    return manifest if not len(batch.problems) else None


def _manifest_property(
    manifest: Manifest, line: int, key: str, value: str = "", *_: str, bundle: Bundle, batch: Batch
) -> None:
    prop, value = key.strip(), value.strip()
    if prop.lower() == "oneroster.version":
        manifest.version = value
    elif prop.lower() == "manifest.version" and value != "1.0":
        batch.problems.add("manifest.csv", line, prop, value, "manifest.version must be 1.0")
    elif prop.lower().startswith("file."):
        _manifest_file(manifest, line, prop, value, bundle, batch)


def _manifest_file(
    manifest: Manifest, line: int, prop: str, value: str, bundle: Bundle, batch: Batch
) -> None:
    name, mode = prop[5:], value.lower()
    if mode not in MODES:
        batch.problems.add("manifest.csv", line, prop, value, "must be bulk, delta or absent")
        return
    manifest.modes[name.lower()] = mode
    present = bundle.read(f"{name}.csv") is not None
    if mode in ("bulk", "delta") and not present:
        batch.problems.add("manifest.csv", line, prop, value, f"{name}.csv is listed but missing")
    elif present and mode in ("absent", ""):
        batch.problems.note(
            f"manifest.csv:{line}: {name}.csv is present but listed {mode or 'blank'}: ignored",
            "header",
        )


def _manifest_versions(manifest: Manifest, sheet: Sheet, batch: Batch) -> None:
    if manifest.version not in SPECS:
        value = manifest.version or "(missing)"
        batch.problems.add("manifest.csv", "", "oneroster.version", value, "must be 1.1 or 1.2")


def read_file(bundle: Bundle, name: str, manifest: Manifest, batch: Batch) -> list[tuple[int, Row]]:
    filename = f"{name}.csv"
    sheet = read_table(filename, bundle.read(filename) or b"", batch.problems)
    if sheet is None:
        return []
    columns = check_header(sheet, SPECS[manifest.version][name], manifest.version, batch)
    batch.file_number(filename)
    return [
        (line, {columns[h]: v for h, v in row.items() if h in columns}) for line, row in sheet.rows
    ]


def check_header(sheet: Sheet, spec: tuple[str, ...], version: str, batch: Batch) -> dict[str, str]:
    """Header as written → specification column. Missing required columns are errors; unknown,
    misspelt or missing optional columns are listed in the report."""
    known = {header_key(c.lstrip("*")): c.lstrip("*") for c in spec}
    columns: dict[str, str] = {}
    for written in sheet.header:
        _match_column(sheet.name, written, known, columns, version, batch)
    found = set(columns.values())
    missing = [c for c in spec if c.lstrip("*") not in found]
    for column in (c for c in missing if c.startswith("*")):
        batch.problems.add(
            sheet.name, 1, "column", column[1:], f"required OneRoster {version} column is missing"
        )
    optional = [c for c in missing if not c.startswith("*")]
    if optional:
        batch.problems.note(
            f"{sheet.name}:1: optional columns missing: {', '.join(optional)}", "header"
        )
    return columns


def _match_column(
    name: str,
    written: str,
    known: dict[str, str],
    columns: dict[str, str],
    version: str,
    batch: Batch,
) -> None:
    if not written or written.lower().startswith(("metadata.", "ext_", "ext.")):
        return
    column = known.get(header_key(written))
    if column is None:
        near = difflib.get_close_matches(header_key(written), list(known), n=1, cutoff=0.75)
        hint = f" (did you mean {known[near[0]]}?)" if near else ""
        batch.problems.note(
            f"{name}:1: column {written} is not a OneRoster {version} column{hint}", "header"
        )
    elif column in columns.values():
        batch.problems.add(name, 1, "column", written, "appears twice")
    else:
        columns[written] = column


# ---------------------------------------------------------------------------------------------
# Records


def split_ids(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def key_id(value: str, fld: str, limit: int = ID_LENGTH) -> str:
    text = value.strip()
    if not text:
        raise Invalid(fld, "(missing)", "required field is missing")
    if len(text) > limit:
        raise Invalid(fld, text, f"identifier longer than {limit} characters")
    return text


def date_of(row: Row, fld: str) -> dt.date | None:
    value = row.get(fld, "")
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise Invalid(fld, value, "not a date") from None


class Roster:
    """Turns the read files into staged rows, checking references between files."""

    def __init__(
        self, batch: Batch, tables: dict[str, list[tuple[int, Row]]], manifest: Manifest
    ) -> None:
        self.batch, self.tables, self.version = batch, tables, manifest.version
        self.orgs: dict[str, str] = {}  # sourcedId → type
        self.sessions: dict[str, tuple[int, dt.date]] = {}  # sourcedId → (school year, start)
        self.roles: dict[str, str] = {}  # user sourcedId → student | guardian | staff | other
        self.user_orgs: dict[str, list[str]] = {}
        self.agents: dict[str, tuple[int, list[str]]] = {}
        self.classes: dict[str, tuple[str, int, str]] = {}
        self.dropped: set[str] = set()  # sourcedIds marked tobedeleted or inactive
        self.parents: dict[str, str] = {}  # school org → its parentSourcedId
        self.relations: dict[str, str] = {}  # guardian → parent | guardian | relative
        self.role_rows: dict[str, list[tuple[str, str, str]]] = {}  # 1.2 roles by user

    def stage(self) -> None:
        steps = (
            self._orgs,
            self._sessions,
            self._roles,
            self._users,
            self._classes,
            self._enrollments,
            self._demographics,
        )
        for step in steps:
            step()
        self._guardian_links()
        self._school_enrollments()

    def each(self, name: str, handler: Callable[[int, Row], None]) -> None:
        file_no = self.batch.file_number(f"{name}.csv")
        for line, row in self.tables.get(name, []):
            where = self.batch.at(file_no, line)
            if not self._active(name, line, row):
                continue
            try:
                handler(where, row)
            except Invalid as bad:
                self.batch.problem(where, bad.field, bad.value, bad.reason)

    def _active(self, name: str, line: int, row: Row) -> bool:
        status = row.get("status", "").lower()
        if status in ("tobedeleted", "inactive"):
            self.dropped.add(row.get("sourcedId", ""))
            self.batch.problems.note(f"{name}.csv:{line}: status {status}: not imported", "status")
            return False
        return True

    # -- organisations and sessions -----------------------------------------------------

    def _orgs(self) -> None:
        self.each("orgs", self._org)
        parents = {p for p in self._school_parents() if p}
        if not self.batch.district and len(parents) == 1:
            parent = parents.pop()[:ID_LENGTH]
            self.batch.district_fallback = {"lea_id": parent, "name": f"District {parent}"}

    def _org(self, where: int, row: Row) -> None:
        sid, kind = key_id(row["sourcedId"], "sourcedId"), row.get("type", "").lower()
        self.orgs[sid] = kind
        if kind == "district":
            self.batch.district = {"lea_id": sid, "name": row.get("name", "")[:200]}
        elif kind in SCHOOL_TYPES:
            self.batch.put(
                self.batch.schools, sid, {"name": row.get("name", "")[:200] or sid}, where
            )
            self.parents[sid] = row.get("parentSourcedId", "")

    def _school_parents(self) -> list[str]:
        return [p for p in self.parents.values() if self.orgs.get(p) != "district"]

    def _sessions(self) -> None:
        self.each("academicSessions", self._session)
        years = {year for year, _ in self.sessions.values()}
        for year in years:
            self.batch.note_year(year)

    def _session(self, where: int, row: Row) -> None:
        sid = key_id(row["sourcedId"], "sourcedId", 64)
        try:
            year = int(row.get("schoolYear", ""))
        except ValueError:
            raise Invalid("schoolYear", row.get("schoolYear"), "not a year") from None
        start = date_of(row, "startDate")
        if start is None:
            raise Invalid("startDate", "(missing)", "required field is missing")
        self.sessions[sid] = (year, start)

    def school_of(self, sid: str, fld: str) -> str:
        if self.orgs.get(sid) in SCHOOL_TYPES:
            return sid
        if sid in self.dropped:
            raise Invalid(fld, sid, "refers to an org marked tobedeleted")
        raise Invalid(
            fld, sid, "unknown school org" if sid not in self.orgs else "org is not a school"
        )

    # -- people ----------------------------------------------------------------------------

    def _roles(self) -> None:
        """OneRoster 1.2 keeps roles apart from users: a user's primary role decides."""
        self.each("roles", self._role)

    def _role(self, where: int, row: Row) -> None:
        user = key_id(row["userSourcedId"], "userSourcedId")
        entry = (
            row.get("roleType", "").lower(),
            row.get("role", "").lower(),
            row.get("orgSourcedId", ""),
        )
        self.role_rows.setdefault(user, []).append(entry)

    def _user_role(self, uid: str, row: Row) -> tuple[str, list[str]]:
        if "role" in row:
            return row["role"].lower(), split_ids(row.get("orgSourcedIds", ""))
        entries = sorted(self.role_rows.get(uid, []), key=lambda e: e[0] != "primary")
        orgs = [e[2] for e in entries if e[2]] + split_ids(row.get("primaryOrgSourcedId", ""))
        return (entries[0][1] if entries else ""), list(dict.fromkeys(orgs))

    def _users(self) -> None:
        self.each("users", self._user)

    def _user(self, where: int, row: Row) -> None:
        uid = key_id(row["sourcedId"], "sourcedId")
        role, orgs = self._user_role(uid, row)
        for org in orgs:
            if org not in self.orgs:
                raise Invalid("orgSourcedIds", org, "unknown org")
        names = {
            "first_name": row.get("givenName", "")[:100],
            "last_name": row.get("familyName", "")[:100],
        }
        if not names["first_name"] and not names["last_name"]:
            raise Invalid("givenName", "(missing)", "a user needs a name")
        self.agents[uid] = (where, split_ids(row.get("agentSourcedIds", "")))
        self.user_orgs[uid] = orgs
        self._stage_user(uid, role, names, row, where)

    def _stage_user(self, uid: str, role: str, names: dict[str, Any], row: Row, where: int) -> None:
        batch = self.batch
        if role in STUDENT_ROLES:
            self.roles[uid] = "student"
            batch.put(batch.students, batch.intern(uid), names, where)
        elif role in GUARDIAN_ROLES:
            self.roles[uid] = "guardian"
            phone, email = (row.get("phone") or row.get("sms", ""))[:32], row.get("email", "")[:254]
            channel = "phone" if phone else "email" if email else "letter"
            batch.put(
                batch.guardians,
                uid,
                {**names, "phone": phone, "email": email, "preferred_channel": channel},
                where,
            )
            self.relations[uid] = role
        elif role:
            self.roles[uid] = "staff"
            batch.put(batch.staff, uid, {**names, "email": row.get("email", "")[:254]}, where)
        else:
            raise Invalid("role", "(missing)", "user has no role")

    def _guardian_links(self) -> None:
        """agentSourcedIds link students and guardians, in either direction."""
        order: dict[str, list[str]] = {}
        for uid, (where, agents) in self.agents.items():
            for agent in agents:
                self._link(uid, agent, where, order)
        for student, guardians in order.items():
            for rank, guardian in enumerate(dict.fromkeys(guardians), start=1):
                row = {
                    "relation": self.relations.get(guardian, "")[:40],
                    "primary": rank == 1,
                    "priority": rank,
                }
                key = (student, guardian)
                self.batch.student_guardians.rows[key] = row
                self.batch.student_guardians.where[key] = (
                    self.agents[student][0] if student in self.agents else 0
                )

    def _link(self, uid: str, agent: str, where: int, order: dict[str, list[str]]) -> None:
        if agent not in self.roles:
            if agent not in self.dropped:
                self.batch.problem(where, "agentSourcedIds", agent, "unknown user")
            return
        pair = {self.roles[uid]: uid, self.roles[agent]: agent}
        if "student" in pair and "guardian" in pair:
            order.setdefault(pair["student"], []).append(pair["guardian"])
        else:
            file, line = self.batch.place(where)
            what = KINDS[self.roles[agent]]
            self.batch.problems.note(
                f"{file}:{line}: agent {agent} is {what}, not a guardian: not linked", "agent"
            )

    def _school_enrollments(self) -> None:
        """OneRoster has no school entry dates: students are enrolled from the start of the newest
        school year's first session at each school org they belong to."""
        if not self.sessions:
            if self.roles:
                self.batch.problems.note(
                    "no academicSessions: school enrollments not created", "enrollment"
                )
            return
        year = max(y for y, _ in self.sessions.values())
        start = min(s for y, s in self.sessions.values() if y == year)
        for uid, orgs in self.user_orgs.items():
            if self.roles.get(uid) != "student":
                continue
            for org in orgs:
                if self.orgs.get(org) in SCHOOL_TYPES:
                    key = (uid, org, start)
                    self.batch.enrollments.rows[key] = {"school_year": year, "exit_date": None}
                    self.batch.enrollments.where[key] = self.agents[uid][0]

    # -- classes, enrollments, demographics -----------------------------------------------

    def _classes(self) -> None:
        self.each("classes", self._class)

    def _class(self, where: int, row: Row) -> None:
        sid = key_id(row["sourcedId"], "sourcedId", 64)
        school = self.school_of(row.get("schoolSourcedId", ""), "schoolSourcedId")
        terms = split_ids(row.get("termSourcedIds", ""))
        unknown = [t for t in terms if t not in self.sessions]
        if unknown or not terms:
            raise Invalid(
                "termSourcedIds", ",".join(unknown) or "(missing)", "unknown academic session"
            )
        year = max(self.sessions[t][0] for t in terms)
        key = (school, year, sid)
        homeroom = row.get("classType", "").lower() == "homeroom"
        self.batch.put(
            self.batch.sections,
            key,
            {"title": row.get("title", "")[:200], "homeroom": homeroom},
            where,
        )
        self.classes[sid] = key

    def _enrollments(self) -> None:
        self.each("enrollments", self._enrollment)

    def _enrollment(self, where: int, row: Row) -> None:
        klass, user = row.get("classSourcedId", ""), row.get("userSourcedId", "")
        self.school_of(row.get("schoolSourcedId", ""), "schoolSourcedId")
        if klass not in self.classes:
            if klass in self.dropped:
                return self._skip(where, f"class {klass} is marked tobedeleted")
            raise Invalid("classSourcedId", klass, "unknown class")
        if user not in self.roles:
            raise Invalid("userSourcedId", user, "unknown user")
        self._enrol(where, self.classes[klass], user, row)
        return None

    def _enrol(self, where: int, section: tuple[str, int, str], user: str, row: Row) -> None:
        role, kind = row.get("role", "").lower(), self.roles[user]
        if role == "student" and kind == "student":
            dates = {"begin_date": date_of(row, "beginDate"), "end_date": date_of(row, "endDate")}
            self.batch.put(self.batch.section_enrollments, (section, user), dates, where)
        elif role != "student" and kind == "staff":
            self.batch.put(self.batch.section_staff, (section, user), {}, where)
        else:
            self._skip(where, f"user {user} is {KINDS[kind]} in users.csv but enrolled as {role}")

    def _skip(self, where: int, why: str) -> None:
        file, line = self.batch.place(where)
        self.batch.problems.note(f"{file}:{line}: {why}: not imported", "enrollment")

    def _demographics(self) -> None:
        self.each("demographics", self._demographic)

    def _demographic(self, where: int, row: Row) -> None:
        uid = row.get("sourcedId", "")
        if self.roles.get(uid) != "student":
            if uid in self.roles:
                return self._skip(where, f"demographics of {uid}, who is not a student")
            raise Invalid("sourcedId", uid, "unknown user")
        fields: dict[str, Any] = {"birth_date": date_of(row, "birthDate")}
        fields["sex"] = SEXES.get(row.get("sex", "").lower(), "")
        fields["hispanic"] = _flag(row, "hispanicOrLatinoEthnicity")
        races = [name for column, name in RACES.items() if _flag(row, column)]
        several = _flag(row, "demographicRaceTwoOrMoreRaces") or len(races) > 1
        fields["race"] = "Two or more races" if several else (races[0] if races else "")
        self.batch.put(
            self.batch.students, uid, {k: v for k, v in fields.items() if v is not None}, where
        )
        return None


def _flag(row: Row, column: str) -> bool:
    try:
        return parse_bool(row.get(column, "") or "false")
    except ValueError:
        raise Invalid(column, row.get(column), "must be true or false") from None
