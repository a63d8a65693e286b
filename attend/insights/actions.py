"""Storing engine results: one atomic, audited write per run."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from attend.accounts.choices import Role
from attend.audit.actions import record_change
from attend.insights.choices import (
    FLAG_MOVES,
    MODEL_MOVES,
    DismissReason,
    FlagStatus,
    ModelStatus,
    RiskLabel,
)
from attend.insights.engine import EngineResult
from attend.insights.models import (
    FlagReview,
    FlagReviewTransition,
    InsightsRun,
    ModelVersion,
    ModelVersionTransition,
    PatternFlag,
    RiskCapacity,
    RiskScore,
    StudentSnapshot,
)
from attend.roster.models import School, Student

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.jobs.models import Job
    from attend.roster.models import District

METRIC_FIELDS = (
    "enrolled_days",
    "absent_days",
    "excused_absent_days",
    "unexcused_absent_days",
    "tardy_days",
    "present_days",
    "attendance_rate",
    "eligible",
    "chronic",
    "tier",
    "longest_absence_streak",
    "current_absence_streak",
    "absence_budget",
)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]


def _plain(value: Any) -> Any:
    """JSON-safe values: dates as ISO strings, NaN as null."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@transaction.atomic
def store_results(
    *, result: EngineResult, as_of: dt.date, school_year: int, by: User | None, job: Job | None
) -> InsightsRun:
    """1. One InsightsRun with the roll-ups. 2. A snapshot per metric row. 3. The flags."""
    run = InsightsRun.objects.create(
        as_of=as_of,
        school_year=school_year,
        job=job,
        students=result.metrics.num_rows,
        aggregates=_rows(result.aggregates),
        trend=_rows(result.trend),
        quality=_rows(result.quality)[:1000],
    )
    students = dict(Student.objects.values_list("student_unique_id", "pk"))
    schools = dict(School.objects.values_list("school_id", "pk"))
    StudentSnapshot.objects.bulk_create(
        (_snapshot(run, row, students, schools) for row in result.metrics.to_pylist()),
        batch_size=2000,
    )
    PatternFlag.objects.bulk_create(
        (_flag(run, row, students, schools) for row in result.flags.to_pylist()),
        batch_size=2000,
    )
    record_change(
        actor=by,
        action="insights.run",
        target=run,
        data={"as_of": as_of.isoformat(), "students": run.students},
    )
    return run


def _snapshot(
    run: InsightsRun, row: dict[str, Any], students: dict[str, int], schools: dict[str, int]
) -> StudentSnapshot:
    values = {name: row[name] for name in METRIC_FIELDS}
    values["tier"] = values["tier"] or ""
    return StudentSnapshot(
        run=run,
        student_id=students[row["student_id"]],
        school_id=schools[row["school_id"]],
        school_year=row["school_year"],
        as_of=run.as_of,
        **values,
    )


def _flag(
    run: InsightsRun, row: dict[str, Any], students: dict[str, int], schools: dict[str, int]
) -> PatternFlag:
    return PatternFlag(
        run=run,
        student_id=students[row["student_id"]],
        school_id=schools[row["school_id"]],
        as_of=run.as_of,
        pattern=row["pattern"],
        detail=(row.get("detail") or "")[:300],
        evidence_dates=_plain(list(row.get("evidence_dates") or [])),
        projected_crossing_date=row.get("projected_crossing_date"),
    )


# --- early-warning risk: model versions, nightly scores, flag reviews (RISK.md 8) -----------

# A decided flag holds for about the 30-school-day horizon: the same model flagging the same
# student again within this many calendar days does not put them back on the watch list.
REVIEW_HOLDS_DAYS = 42


class RiskError(ValueError):
    """A refused risk action; the message says why in words the reader understands."""


def _version_fields(run: dict[str, Any]) -> dict[str, Any]:
    metrics = run.get("metrics", {})
    dates = metrics.get("dates", {})

    def day(fold: str, end: int) -> dt.date | None:
        pair = dates.get(fold)
        return dt.date.fromisoformat(pair[end]) if pair else None

    return {
        "label": run.get("label") or RiskLabel.WITHIN,
        "horizon_days": int(run.get("horizon", 30)),
        "share": float(metrics.get("share", 0.05)),
        "train_start": day("train", 0),
        "train_end": day("train", 1),
        "test_start": day("test", 0),
        "test_end": day("test", 1),
        "examples": int(run.get("examples", 0)),
        "metrics": metrics,
        "fairness": run.get("fairness", []),
    }


@transaction.atomic
def register_model_version(
    *, district: District, run: dict[str, Any], folder: str, by: User | None
) -> ModelVersion:
    """A trained run becomes a version the district can activate (status trained)."""
    version = ModelVersion.objects.create(
        district=district, run_id=run["run_id"], folder=folder, **_version_fields(run)
    )
    ModelVersionTransition.objects.create(version=version, by=by, to_status=ModelStatus.TRAINED)
    record_change(
        actor=by,
        action="risk.model.register",
        target=version,
        data={"run_id": version.run_id, "label": version.label},
    )
    return version


def _move_version(version: ModelVersion, to: str, by: User | None, note: str) -> None:
    old = version.status
    fields: dict[str, Any] = {"status": to}
    if to == ModelStatus.ACTIVE:
        fields.update(activated_by=by if by is not None and by.pk else None)
        fields.update(activated_at=timezone.now())
    if ModelVersion.objects.filter(pk=version.pk, status=old).update(**fields) != 1:
        raise RiskError("Someone else changed this model version; reload and try again.")
    ModelVersionTransition.objects.create(
        version=version, by=by, from_status=old, to_status=to, note=note[:300]
    )
    version.refresh_from_db()


@transaction.atomic
def change_model_status(
    *, version: ModelVersion, to: str, by: User | None, note: str = ""
) -> ModelVersion:
    """trained → active → retired. Activating retires the district's active version of the
    same label first: one model decides each label's flags at a time."""
    if to not in MODEL_MOVES[ModelStatus(version.status)]:
        raise RiskError(f"A {version.status} model version cannot become {to}.")
    if to == ModelStatus.ACTIVE:
        current = ModelVersion.objects.filter(
            district_id=version.district_id, label=version.label, status=ModelStatus.ACTIVE
        )
        for old in current.exclude(pk=version.pk):
            _move_version(old, ModelStatus.RETIRED, by, f"replaced by {version.run_id}")
            record_change(actor=by, action="risk.model.retired", target=old, data={})
    _move_version(version, to, by, note)
    record_change(
        actor=by, action=f"risk.model.{to}", target=version, data={"run_id": version.run_id}
    )
    return version


@transaction.atomic
def store_risk_scores(
    *,
    version: ModelVersion,
    as_of: dt.date,
    rows: list[dict[str, Any]],
    by: User | None,
) -> dict[str, int]:
    """One night's scores under one version, and the watch-list flags they raise.

    1. Replace the version's scores for this date (a re-run of the same night).
    2. For each selected student: refresh their pending flag, or open one unless they were
       reviewed in the last REVIEW_HOLDS_DAYS days.
    3. Pending flags of students no longer selected expire (with a transition row).
    Rows: student, school (pks), score, rank, rank_school, selected, reasons.
    """
    RiskScore.objects.filter(model_version=version, as_of=as_of).delete()
    scores = RiskScore.objects.bulk_create(
        (
            RiskScore(
                model_version=version,
                student_id=row["student"],
                school_id=row["school"],
                as_of=as_of,
                score=row["score"],
                rank_district=row["rank"],
                rank_school=row["rank_school"],
                selected=row["selected"],
                reasons=row["reasons"] if row["selected"] else [],
            )
            for row in rows
        ),
        batch_size=2000,
    )
    selected = {s.student_id: s for s in scores if s.selected}
    opened, refreshed = _raise_flags(version, as_of, selected, by)
    expired = _expire_flags(version, as_of, set(selected), by)
    counts = {
        "scored": len(scores),
        "selected": len(selected),
        "new flags": opened,
        "refreshed flags": refreshed,
        "expired flags": expired,
    }
    record_change(
        actor=by,
        action="risk.score",
        target=version,
        data={"as_of": as_of.isoformat(), **counts},
    )
    return counts


def _raise_flags(
    version: ModelVersion, as_of: dt.date, selected: dict[int, RiskScore], by: User | None
) -> tuple[int, int]:
    reviews = FlagReview.objects.filter(model_version=version, student_id__in=list(selected))
    pending = {r.student_id: r for r in reviews.filter(status=FlagStatus.PENDING)}
    held = set(
        reviews.filter(
            status__in=[FlagStatus.CONFIRMED, FlagStatus.DISMISSED],
            last_flagged_on__gte=as_of - dt.timedelta(days=REVIEW_HOLDS_DAYS),
        ).values_list("student_id", flat=True)
    )
    for student_id, review in pending.items():
        score = selected[student_id]
        review.score, review.reasons = score, score.reasons
        review.last_flagged_on, review.school_id = as_of, score.school_id
    FlagReview.objects.bulk_update(
        pending.values(), ["score", "reasons", "last_flagged_on", "school"], batch_size=2000
    )
    new = FlagReview.objects.bulk_create(
        FlagReview(
            model_version=version,
            student_id=student_id,
            school_id=score.school_id,
            flagged_on=as_of,
            last_flagged_on=as_of,
            score=score,
            reasons=score.reasons,
        )
        for student_id, score in selected.items()
        if student_id not in pending and student_id not in held
    )
    FlagReviewTransition.objects.bulk_create(
        FlagReviewTransition(review=r, by=by, to_status=FlagStatus.PENDING, note="in the top k")
        for r in new
    )
    return len(new), len(pending)


def _expire_flags(
    version: ModelVersion, as_of: dt.date, selected: set[int], by: User | None
) -> int:
    stale = list(
        FlagReview.objects.filter(model_version=version, status=FlagStatus.PENDING).exclude(
            student_id__in=selected
        )
    )
    FlagReview.objects.filter(pk__in=[r.pk for r in stale]).update(status=FlagStatus.EXPIRED)
    FlagReviewTransition.objects.bulk_create(
        FlagReviewTransition(
            review=r,
            by=by,
            from_status=FlagStatus.PENDING,
            to_status=FlagStatus.EXPIRED,
            note=f"not in the top k on {as_of.isoformat()}",
        )
        for r in stale
    )
    return len(stale)


def _decide(review: FlagReview, to: str, by: User, **fields: Any) -> None:
    old = review.status
    if to not in FLAG_MOVES[FlagStatus(old)]:
        raise RiskError(f"This flag is {review.get_status_display().lower()} already.")
    fields.update(status=to, decided_by=by, decided_at=timezone.now())
    if FlagReview.objects.filter(pk=review.pk, status=old).update(**fields) != 1:
        raise RiskError("Someone else reviewed this flag; reload and try again.")
    FlagReviewTransition.objects.create(
        review=review, by=by, from_status=old, to_status=to, note=fields.get("note", "")[:300]
    )
    review.refresh_from_db()


@transaction.atomic
def confirm_flag(*, review: FlagReview, by: User, note: str = "") -> FlagReview:
    """The officer agrees the student needs support: a case is opened for them, or, when
    one is open already, its owner gets a task to look at the flag. The case reason holds
    the plain-word reasons, never the score."""
    from attend.cases import actions as cases
    from attend.cases.models import Case

    case = Case.objects.open().filter(student=review.student).order_by("-opened_at").first()
    reasons = "; ".join(r.get("text", "") for r in review.reasons)
    if case is None:
        case = cases.open_case(
            student=review.student,
            opened_by=by,
            reason=f"Early-warning flag confirmed: {reasons}"[:300],
        )
    else:
        cases.add_task(
            case=case,
            title=f"Early-warning flag confirmed: {reasons}"[:200],
            owner=case.owner,
            due_on=timezone.localdate() + dt.timedelta(days=7),
            by=by,
        )
    _decide(review, FlagStatus.CONFIRMED, by, note=note[:300], case=case)
    record_change(
        actor=by,
        action="risk.flag.confirm",
        target=review,
        student=review.student,
        data={"case": case.pk, "model": review.model_version.run_id},
    )
    return review


@transaction.atomic
def dismiss_flag(*, review: FlagReview, by: User, reason: str, note: str = "") -> FlagReview:
    """The officer disagrees; the reason feeds the model page's misidentification rate."""
    if reason not in DismissReason.values:
        raise RiskError("Choose why the flag is dismissed.")
    if reason == DismissReason.OTHER and not note.strip():
        raise RiskError("Say why the flag is dismissed.")
    _decide(review, FlagStatus.DISMISSED, by, dismiss_reason=reason, note=note[:300])
    record_change(
        actor=by,
        action="risk.flag.dismiss",
        target=review,
        student=review.student,
        data={"reason": reason, "model": review.model_version.run_id},
    )
    return review


# --- capacity: the watch list's k per school or officer (RISK.md 5) --------------------------

# An officer's caseload above this is a typing slip, not a plan.
MAX_OFFICER_CAPACITY = 1000


@transaction.atomic
def set_risk_capacity(
    *,
    by: User,
    school: School | None = None,
    officer: User | None = None,
    students: int | None,
) -> RiskCapacity | None:
    """Set how many students a school's officers (or one officer) can serve; `students`
    None clears the setting, and the school or officer is back on the default.

    1. Check: one of school/officer, in `by`'s district; 0 ≤ students ≤ the school's
       enrolled students (an officer: ≤ MAX_OFFICER_CAPACITY).
    2. Create, update or delete the one row, with a change-log row holding before/after.
    Scores already stored keep their flags; the next nightly scoring uses the new k.
    """
    district_id = by.district_id
    if district_id is None:
        raise RiskError("Only district staff set capacities.")
    target = _capacity_target(district_id, school, officer)
    if students is not None:
        _check_capacity(school, students)
    row = RiskCapacity.objects.select_for_update().filter(**target).first()
    before = row.students if row else None
    if students is None:
        if row is not None:
            record_change(actor=by, action="risk.capacity.clear", target=row, data=_said(row))
            row.delete()
        return None
    if row is None:
        row = RiskCapacity(district_id=district_id, **target)
    row.students, row.updated_by, row.updated_at = students, by, timezone.now()
    row.save()
    record_change(
        actor=by, action="risk.capacity.set", target=row, data={**_said(row), "before": before}
    )
    return row


def _capacity_target(
    district_id: int, school: School | None, officer: User | None
) -> dict[str, Any]:
    if (school is None) == (officer is None):
        raise RiskError("Set a capacity for one school or for one officer.")
    if school is not None:
        if school.district_id != district_id:
            raise RiskError(f"{school.name} is not a school of your district.")
        return {"school": school}
    assert officer is not None
    if officer.district_id != district_id or officer.role != Role.OFFICER:
        raise RiskError(f"{officer} is not an attendance officer of your district.")
    return {"officer": officer}


def _check_capacity(school: School | None, students: int) -> None:
    from attend.insights.queries import enrolled_counts

    if students < 0:
        raise RiskError("A capacity cannot be negative.")
    if school is None:
        if students > MAX_OFFICER_CAPACITY:
            raise RiskError(f"An officer's capacity is at most {MAX_OFFICER_CAPACITY}.")
        return
    enrolled = enrolled_counts([school]).get(school.pk, 0)
    if students > enrolled:
        raise RiskError(
            f"{school.name} has {enrolled} enrolled students: its capacity is at most that."
        )


def _said(row: RiskCapacity) -> dict[str, Any]:
    """The setting in the change log: what it is for and the number."""
    who = {"school": row.school.school_id} if row.school else {"officer": str(row.officer)}
    return {**who, "students": row.students}
