"""Every casework write. Each action is atomic, keyword-only and writes its ChangeLog row in
the same transaction (house style 3)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from attend.audit.actions import record_change
from attend.cases.choices import (
    CASE_MOVES,
    CAUSE_GROUP,
    LOST_CONTACT,
    REFERRAL_MOVES,
    CaseStatus,
    ReferralStatus,
    ReferralTarget,
    ReviewDecision,
    StepStatus,
    TaskStatus,
)
from attend.cases.ledger import build_history, student_school
from attend.cases.models import (
    Case,
    CaseTransition,
    Contact,
    Disclosure,
    InterventionPlan,
    LegalStep,
    LegalStepTransition,
    Meeting,
    Referral,
    ReferralTransition,
    RootCause,
    Task,
)
from attend.cases.rules import Reached, evaluate, load_rule_set
from attend.lib.dates import school_year_of

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.jobs.models import Job
    from attend.roster.models import Guardian, Student


class CaseworkError(ValueError):
    """A refused action; the message says why in words an officer understands."""


def _audit(actor: User | None, action: str, obj: Any, case: Case, **data: Any) -> None:
    record_change(actor=actor, action=action, target=obj, student=case.student, data=data)


# --- cases ------------------------------------------------------------------------------------


@transaction.atomic
def open_case(
    *,
    student: Student,
    opened_by: User | None,
    reason: str,
    tier: int = 2,
    owner: User | None = None,
) -> Case:
    """Open a case; `opened_by=None` is the system (rules after an unattended import), and
    then the case needs an `owner`."""
    owner = owner or opened_by
    if owner is None:
        raise CaseworkError("a case opened by the system needs an owner")
    case = Case.objects.create(
        student=student,
        school=student_school(student, student.district.current_school_year),
        owner=owner,
        tier=tier,
        opened_reason=reason[:300],
    )
    CaseTransition.objects.create(
        case=case, by=opened_by, to_status=CaseStatus.OPEN, note=reason[:300]
    )
    _audit(opened_by, "case.open", case, case, tier=tier, reason=reason)
    return case


@transaction.atomic
def open_cases(
    *, students: list[Student], opened_by: User, reason: str, tier: int = 2
) -> dict[int, Case]:
    """`open_case` for many students at once (letters approved from a worklist): the same
    rows and audit entries, written with a handful of statements instead of six per case."""
    schools = _current_schools(students)
    cases = Case.objects.bulk_create(
        Case(
            student=s,
            school_id=schools.get(s.pk),
            owner=opened_by,
            tier=tier,
            opened_reason=reason[:300],
        )
        for s in students
    )
    CaseTransition.objects.bulk_create(
        CaseTransition(case=c, by=opened_by, to_status=CaseStatus.OPEN, note=reason[:300])
        for c in cases
    )
    for case in cases:
        _audit(opened_by, "case.open", case, case, tier=tier, reason=reason)
    return {c.student_id: c for c in cases}


def _current_schools(students: list[Student]) -> dict[int, int]:
    """`ledger.student_school` for many students: the latest counted enrollment this year."""
    from attend.cases.ledger import IGNORED_EXIT_TYPES
    from attend.roster.models import Enrollment

    if not students:
        return {}
    year = students[0].district.current_school_year  # callers pass one district's students
    rows = Enrollment.objects.filter(student__in=students, school_year=year).exclude(
        exit_type__in=[t.title() for t in IGNORED_EXIT_TYPES]
    )
    ordered = rows.order_by("entry_date", "pk").values_list("student_id", "school_id")
    return dict(ordered)  # later rows overwrite earlier ones: the latest entry wins


@transaction.atomic
def change_status(*, case: Case, to: str, by: User, reason: str = "") -> Case:
    """Claimed with a conditional UPDATE so two people moving one case cannot both win."""
    old = case.status
    if to not in CASE_MOVES[CaseStatus(old)]:
        raise CaseworkError(f"A {old} case cannot move to {to}.")
    if to == CaseStatus.CLOSED and not reason:
        raise CaseworkError("Say why the case is closed.")
    fields: dict[str, Any] = {"status": to}
    if to == CaseStatus.CLOSED:
        fields.update(closed_at=timezone.now(), closed_reason=reason[:300])
    if Case.objects.filter(pk=case.pk, status=old).update(**fields) != 1:
        raise CaseworkError("Someone else changed this case; reload and try again.")
    CaseTransition.objects.create(
        case=case, by=by, from_status=old, to_status=to, note=reason[:300]
    )
    case.refresh_from_db()
    _audit(by, "case.status", case, case, **{"from": old, "to": to})
    return case


@transaction.atomic
def assign_case(*, case: Case, owner: User, by: User) -> Case:
    old = case.owner_id
    case.owner = owner
    case.save(update_fields=["owner"])
    _audit(by, "case.assign", case, case, **{"from": old, "to": owner.pk})
    return case


@transaction.atomic
def set_tier(*, case: Case, tier: int, by: User) -> Case:
    old, case.tier = case.tier, tier
    case.save(update_fields=["tier"])
    _audit(by, "case.tier", case, case, **{"from": old, "to": tier})
    return case


@transaction.atomic
def add_team_member(*, case: Case, user: User, by: User) -> None:
    case.team.add(user)
    _audit(by, "case.team_add", case, case, user=user.pk)


# --- assessment, plans, meetings, tasks ---------------------------------------------------------


@transaction.atomic
def assess_root_cause(*, case: Case, cause: str, by: User, detail: str = "") -> RootCause:
    root = RootCause.objects.create(
        case=case, cause=cause, group=CAUSE_GROUP[cause], detail=detail, assessed_by=by
    )
    # The sealed detail never goes into the audit data, only that one was recorded.
    _audit(by, "case.root_cause", root, case, group=root.group, sealed=root.sealed)
    return root


@transaction.atomic
def plan_intervention(
    *,
    case: Case,
    type: str,
    tier: int,
    goal: str,
    owner: User,
    by: User,
    start: dt.date,
    duration_days: int = 30,
    review_every_days: int = 14,
) -> InterventionPlan:
    plan = InterventionPlan.objects.create(
        case=case,
        type=type,
        tier=tier,
        goal=goal[:300],
        owner=owner,
        start=start,
        duration_days=duration_days,
        review_every_days=review_every_days,
        next_review_on=start + dt.timedelta(days=review_every_days),
    )
    _audit(by, "case.plan", plan, case, type=type, tier=tier)
    return plan


@transaction.atomic
def record_meeting(
    *,
    case: Case,
    kind: str,
    held_on: dt.date,
    attendees: str,
    by: User,
    agreement: str = "",
    compliance_until: dt.date | None = None,
) -> Meeting:
    meeting = Meeting.objects.create(
        case=case,
        kind=kind,
        held_on=held_on,
        attendees=attendees,
        agreement=agreement,
        compliance_until=compliance_until,
        recorded_by=by,
    )
    _audit(by, "case.meeting", meeting, case, kind=kind)
    return meeting


@transaction.atomic
def add_task(*, case: Case, title: str, owner: User, due_on: dt.date, by: User) -> Task:
    task = Task.objects.create(case=case, title=title[:200], owner=owner, due_on=due_on)
    _audit(by, "case.task_add", task, case, due_on=due_on.isoformat())
    return task


@transaction.atomic
def complete_task(*, task: Task, by: User) -> Task:
    if (
        Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
            status=TaskStatus.DONE, done_at=timezone.now()
        )
        != 1
    ):
        raise CaseworkError("This task is already done.")
    task.refresh_from_db()
    _audit(by, "case.task_done", task, task.case)
    return task


# --- contacts -----------------------------------------------------------------------------------


@transaction.atomic
def log_contact(
    *,
    case: Case,
    kind: str,
    outcome: str,
    by: User,
    guardian: Guardian | None = None,
    at: dt.datetime | None = None,
    language: str = "",
    interpreter: bool = False,
    conference_attempt: bool = False,
    notes: str = "",
) -> Contact:
    """Failed attempts are contacts too; a wrong number or bounce flags the guardian's details."""
    contact = Contact.objects.create(
        case=case,
        kind=kind,
        outcome=outcome,
        by=by,
        guardian=guardian,
        at=at or timezone.now(),
        language=language,
        interpreter=interpreter,
        conference_attempt=conference_attempt,
        notes=notes,
    )
    if guardian is not None and outcome in LOST_CONTACT:
        type(guardian).objects.filter(pk=guardian.pk).update(contact_valid=False)
    Case.objects.filter(pk=case.pk, first_contact_at__isnull=True).update(
        first_contact_at=contact.at
    )
    _audit(by, "case.contact", contact, case, kind=kind, outcome=outcome)
    return contact


# --- referrals and disclosures ------------------------------------------------------------------


def outside_school(case: Case, to_user: User | None) -> bool:
    """An agency, or a colleague who does not work at the case's school (34 CFR 99.32)."""
    if to_user is None:
        return True
    return case.school_id is None or not to_user.schools.filter(pk=case.school_id).exists()


def _log_disclosure(referral: Referral, by: User) -> None:
    recipient = referral.agency
    if referral.to_user is not None:
        recipient = referral.to_user.get_full_name() or referral.to_user.username
    Disclosure.objects.create(
        student=referral.case.student,
        case=referral.case,
        referral=referral,
        by=by,
        recipient=recipient,
        legitimate_interest=referral.reason,
        records="attendance record and case summary",
        consent=referral.consent_recorded,
    )


@transaction.atomic
def send_referral(
    *,
    case: Case,
    target: str,
    reason: str,
    by: User,
    to_user: User | None = None,
    agency: str = "",
    consent_by: str = "",
) -> Referral:
    """A referral to an agency needs recorded consent; any addressee outside the case's school
    (an agency, or a colleague at another school) is logged as a disclosure."""
    if target == ReferralTarget.AGENCY and not (agency and consent_by):
        raise CaseworkError("A referral to an agency needs the agency's name and who consented.")
    if target != ReferralTarget.AGENCY and to_user is None:
        raise CaseworkError("Choose the colleague this referral is addressed to.")
    referral = Referral.objects.create(
        case=case,
        target=target,
        to_user=to_user,
        agency=agency,
        reason=reason[:300],
        consent_recorded=bool(consent_by),
        consent_by=consent_by,
        consent_at=timezone.now() if consent_by else None,
        sent_by=by,
    )
    ReferralTransition.objects.create(referral=referral, by=by, to_status=ReferralStatus.SENT)
    if outside_school(case, to_user):
        _log_disclosure(referral, by)
    _audit(by, "referral.send", referral, case, target=target)
    return referral


def _move_referral(referral: Referral, to: str, by: User, note: str) -> Referral:
    old = referral.status
    if to not in REFERRAL_MOVES[ReferralStatus(old)]:
        raise CaseworkError(f"A {old} referral cannot become {to}.")
    if Referral.objects.filter(pk=referral.pk, status=old).update(status=to) != 1:
        raise CaseworkError("This referral changed meanwhile; reload and try again.")
    ReferralTransition.objects.create(
        referral=referral, by=by, from_status=old, to_status=to, note=note[:300]
    )
    referral.refresh_from_db()
    _audit(by, f"referral.{to}", referral, referral.case, note=note)
    return referral


@transaction.atomic
def respond_referral(*, referral: Referral, to: str, by: User, note: str = "") -> Referral:
    """The addressee accepts, rejects or finishes; the sender revokes (revoke_referral)."""
    if to not in (ReferralStatus.ACCEPTED, ReferralStatus.REJECTED, ReferralStatus.DONE):
        raise CaseworkError("Respond with accepted, rejected or done.")
    if referral.to_user_id is not None and referral.to_user_id != by.pk:
        raise CaseworkError("Only the person this referral is addressed to can respond.")
    return _move_referral(referral, to, by, note)


@transaction.atomic
def revoke_referral(*, referral: Referral, by: User, note: str = "") -> Referral:
    return _move_referral(referral, ReferralStatus.REVOKED, by, note)


# --- legal steps --------------------------------------------------------------------------------


def logged_steps(case: Case) -> dict[str, list[dt.date]]:
    """What the rule guards see: completed steps, and conference attempts from the contact log."""
    logged: dict[str, list[dt.date]] = defaultdict(list)
    done = LegalStep.objects.filter(case__student=case.student, status=StepStatus.DONE)
    for step, day in done.values_list("step", "done_on"):
        if day is not None:
            logged[step].append(day)
    attempts = Contact.objects.filter(case__student=case.student, conference_attempt=True)
    for at in attempts.values_list("at", flat=True):
        logged["conference_attempt"].append(timezone.localdate(at))
    return logged


def unmet_guards(step: LegalStep, on: dt.date) -> list[str]:
    """Guard steps not logged on or before `on` (EC 48262: a conference attempt after a report)."""
    logged = logged_steps(step.case)
    return [g for g in step.guards if not any(d <= on for d in logged.get(g, []))]


@transaction.atomic
def complete_legal_step(
    *, step: LegalStep, by: User, satisfied_by: str, on: dt.date | None = None
) -> LegalStep:
    on = on or timezone.localdate()
    missing = unmet_guards(step, on)
    if missing:
        names = ", ".join(m.replace("_", " ") for m in missing)
        raise CaseworkError(f"“{step.label}” cannot be completed yet: first log {names}.")
    if (
        LegalStep.objects.filter(pk=step.pk, status=StepStatus.DUE).update(
            status=StepStatus.DONE,
            satisfied_by=satisfied_by[:200],
            satisfied_at=timezone.now(),
            done_on=on,
        )
        != 1
    ):
        raise CaseworkError("This step is not due (already done, or flagged for review).")
    LegalStepTransition.objects.create(
        step=step, by=by, from_status=StepStatus.DUE, to_status=StepStatus.DONE, note=satisfied_by
    )
    step.refresh_from_db()
    _audit(by, "legal_step.done", step, step.case, step=step.step, rule_set=step.rule_set)
    return step


@transaction.atomic
def review_legal_step(*, step: LegalStep, by: User, decision: str, note: str) -> LegalStep:
    """Resolve a step a recomputation flagged. Letters already sent are never touched: keeping
    restores the step (done if it was done), withdrawing records that it no longer applies."""
    if not note.strip():
        raise CaseworkError("Write a note saying why.")
    if decision == ReviewDecision.WITHDRAW:
        to = StepStatus.WITHDRAWN
    else:
        to = StepStatus.DONE if step.done_on else StepStatus.DUE
    if LegalStep.objects.filter(pk=step.pk, status=StepStatus.REVIEW).update(status=to) != 1:
        raise CaseworkError("This step is not flagged for review (someone resolved it already?).")
    LegalStepTransition.objects.create(
        step=step, by=by, from_status=StepStatus.REVIEW, to_status=to, note=note[:300]
    )
    step.refresh_from_db()
    _audit(by, "legal_step.review", step, step.case, decision=decision, to=to)
    return step


def _step_rows(case: Case, rule_set_ref: str, found: Reached) -> list[LegalStep]:
    return [
        LegalStep(
            case=case,
            rule_set=rule_set_ref,
            rule=found.rule,
            classification=found.classification,
            sequence=found.sequence,
            step=s.step,
            label=s.label,
            kind=s.kind,
            citation=s.citation,
            template=s.template,
            role=s.role,
            guards=list(s.guards),
            reached_on=found.reached_on,
            due_on=s.due_on,
        )
        for s in found.steps
    ]


@transaction.atomic
def apply_rules(
    *, student: Student, as_of: dt.date, by: User | None, case: Case | None = None
) -> dict[str, int]:
    """1. Evaluate the district's state rule set over the student's year up to `as_of`.
    2. Create LegalSteps for classifications newly reached (opening a case if none is open).
    3. Steps whose classification a recomputation no longer reaches are never rewritten or
       deleted — a sent notice stays as sent — they are flagged for review."""
    rule_set = load_rule_set(student.district.state, as_of)
    school = case.school if case and case.school else student_school(student, school_year_of(as_of))
    if school is None:
        return {"created": 0, "flagged": 0}
    case = case or Case.objects.filter(student=student).open().first()
    history = build_history(student, school, as_of, rule_set.school_day_minutes)
    found = [
        r
        for r in evaluate(rule_set, history, as_of, logged_steps(case) if case else None)
        if r.counts
    ]
    if case is None and found:
        case = _open_for_rules(student, by, found[0])
    if case is None:
        return {"created": 0, "flagged": 0}
    created = _create_steps(case, rule_set.ref, found)
    flagged = _flag_removed(case, rule_set.ref, found, as_of)
    record_change(
        actor=by,
        action="case.apply_rules",
        target=case,
        student=student,
        data={"rule_set": rule_set.ref, "created": created, "flagged": flagged},
    )
    return {"created": created, "flagged": flagged}


def _open_for_rules(student: Student, by: User | None, first: Reached) -> Case | None:
    """A classification reached with no open case: a case is opened (by `by`, or by the
    system for an unattended run) and owned by the officer whose caseload holds the student,
    else by `by`, so the due steps land on a worklist. Nobody to own it: no case (the watch
    list still shows the student's flags)."""
    owner = caseload_officer(student) or by
    if owner is None:
        return None
    return open_case(
        student=student,
        opened_by=by,
        owner=owner,
        reason=f"{first.citation}: {first.classification}",
        tier=3,
    )


def caseload_officer(student: Student) -> User | None:
    """The officer longest responsible for the student (first caseload assignment)."""
    from attend.accounts.models import CaseloadAssignment

    first = (
        CaseloadAssignment.objects.filter(student=student, officer__is_active=True)
        .select_related("officer")
        .order_by("assigned_at", "pk")
        .first()
    )
    return first.officer if first else None


def _create_steps(case: Case, ref: str, found: list[Reached]) -> int:
    existing = set(case.legal_steps.filter(rule_set=ref).values_list("rule", "sequence", "step"))
    new = [
        s
        for r in found
        for s in _step_rows(case, ref, r)
        if (s.rule, s.sequence, s.step) not in existing
    ]
    LegalStep.objects.bulk_create(new)
    return len(new)


def _flag_removed(case: Case, ref: str, found: list[Reached], as_of: dt.date) -> int:
    reached = {(r.rule, r.sequence) for r in found}
    live = case.legal_steps.filter(rule_set=ref, status__in=(StepStatus.DUE, StepStatus.DONE))
    gone = [s.pk for s in live if (s.rule, s.sequence) not in reached]
    reason = (
        f"Recomputed on {as_of}: the classification is no longer reached "
        "(absence excused or corrected?)"
    )
    return LegalStep.objects.filter(pk__in=gone).update(
        status=StepStatus.REVIEW, review_reason=reason
    )


def apply_rules_for_students(
    *, student_ids: Iterable[int], as_of: dt.date, by: User | None = None
) -> dict[str, int]:
    """Re-run the truancy rules for the students an attendance import touched.

    1. One transaction per student, so one student's problem never rolls back the others.
    2. A new classification with no open case opens one: owned by `by`, or with `by=None`
       (an unattended run) by the student's caseload officer (`_open_for_rules`).
    """
    from attend.roster.models import Student

    totals = {"students": 0, "created": 0, "flagged": 0}
    students = Student.objects.filter(pk__in=list(student_ids)).select_related("district")
    for student in students.iterator(chunk_size=200):
        result = apply_rules(student=student, as_of=as_of, by=by)
        totals["students"] += 1
        totals["created"] += result["created"]
        totals["flagged"] += result["flagged"]
    return totals


def run_rules_job(
    *, as_of: dt.date, since: dt.datetime | None = None, by: User | None = None, why: str = ""
) -> Job:
    """The truancy rules after an import (`since` = when it started) or an insights run, as a
    visible Job: which students were checked, steps that became due, sent steps flagged."""
    from attend.cases.queries import rules_candidates
    from attend.jobs import actions as jobs

    students = sorted(rules_candidates(school_year=school_year_of(as_of), since=since))
    with jobs.running_job(
        kind="cases.rules",
        title=f"Truancy rules as of {as_of}" + (f" after {why}" if why else ""),
        created_by=by,
        params={"as_of": as_of.isoformat(), "since": since.isoformat() if since else None},
        total=len(students),
    ) as job:
        jobs.finish_job(job=job, counts=_rules_in_chunks(job, students, as_of, by))
    return job


def _rules_in_chunks(
    job: Job, students: list[int], as_of: dt.date, by: User | None
) -> dict[str, int]:
    from attend.jobs import actions as jobs

    totals = {"students": 0, "created": 0, "flagged": 0}
    for start in range(0, len(students), 500):
        part = apply_rules_for_students(
            student_ids=students[start : start + 500], as_of=as_of, by=by
        )
        for key in totals:
            totals[key] += part[key]
        jobs.report_progress(job=job, done=totals["students"])
    return totals


def rules_line(counts: dict[str, Any]) -> str:
    """The one line a command prints for a rules Job."""
    return (
        f"truancy rules: {counts['students']} students checked, "
        f"{counts['created']} steps due, {counts['flagged']} sent steps flagged for review"
    )
