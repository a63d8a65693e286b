"""Casework pages: worklists, the case page (phone-first), the director view."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.views.decorators.http import require_POST

from attend.accounts.choices import STUDENT_RECORD_ROLES, Role
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.audit.actions import log_access
from attend.cases import actions, bulk, director, letters
from attend.cases.actions import CaseworkError
from attend.cases.forms import (
    AssignForm,
    ContactForm,
    MeetingForm,
    NoteForm,
    OpenCaseForm,
    PlanForm,
    ReferralForm,
    RespondReferralForm,
    ReviewStepForm,
    RootCauseForm,
    TaskForm,
    TemplateForm,
)
from attend.cases.models import (
    Case,
    Disclosure,
    LegalStep,
    Letter,
    LetterTemplate,
    Referral,
    Task,
)
from attend.cases.queries import sees_root_cause
from attend.cases.worklists import worklists
from attend.jobs.queries import jobs_for
from attend.roster.models import Guardian, Student

CASEWORKERS = (Role.OFFICER, Role.SUPERVISOR, Role.DISTRICT_ADMIN)
DIRECTORS = (Role.SUPERVISOR, Role.DISTRICT_ADMIN)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@roles_required(CASEWORKERS)
def worklist(request: HttpRequest) -> HttpResponse:
    user, today = _user(request), timezone.localdate()
    lists = worklists(user, today)
    tab = request.GET.get("list", "today")
    return render(request, "cases/worklist.html", {"lists": lists, "tab": tab, "today": today})


def _case_for(request: HttpRequest, pk: int) -> Case:
    user = _user(request)
    case = get_object_or_404(Case.objects.for_user(user).select_related("student", "owner"), pk=pk)
    log_access(user=user, student=case.student, page=request.path, purpose="case")
    return case


def _steps(case: Case, today: dt.date) -> list[dict[str, Any]]:
    rows = []
    for step in case.legal_steps.all():
        blocked = actions.unmet_guards(step, today) if step.status == "due" else []
        rows.append({"step": step, "blocked": [b.replace("_", " ") for b in blocked]})
    return rows


def _root_causes(case: Case, user: User) -> list[dict[str, Any]]:
    return [
        {"root": r, "visible": sees_root_cause(user, r, case)}
        for r in case.root_causes.select_related("assessed_by")
    ]


def _context(request: HttpRequest, case: Case, **bound: Any) -> dict[str, Any]:
    """Everything the case page shows; querysets stay lazy so a partial pays for its own part."""
    user, today, district = _user(request), timezone.localdate(), _user(request).district_id
    return {
        "case": case,
        "root_causes": _root_causes(case, user),
        "plans": case.plans.select_related("owner"),
        "contacts": case.contacts.select_related("guardian", "by")[:50],
        "referrals": case.referrals.select_related("to_user"),
        "steps": _steps(case, today),
        "tasks": case.tasks.select_related("owner"),
        "meetings": case.meetings.all(),
        "letters": case.letters.defer("pdf", "html"),
        "guardians": Guardian.objects.filter(student_links__student=case.student),
        "can_write": user.role in CASEWORKERS,
        "today": today,
        "contact_form": bound.get("contact_form") or ContactForm(),
        "cause_form": bound.get("cause_form") or RootCauseForm(),
        "plan_form": bound.get("plan_form") or PlanForm(district_id=district),
        "referral_form": bound.get("referral_form") or ReferralForm(district_id=district),
        "meeting_form": bound.get("meeting_form") or MeetingForm(),
        "task_form": bound.get("task_form") or TaskForm(district_id=district),
        "review_form": ReviewStepForm(),
        "respond_form": RespondReferralForm(),
    }


@roles_required(STUDENT_RECORD_ROLES)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Every view is logged before anything is shown (FERPA); sealed causes stay sealed."""
    case = _case_for(request, pk)
    return render(request, "cases/case_detail.html", _context(request, case))


def _answer(
    request: HttpRequest, case: Case, section: str, message: str, ok: bool = True, **bound: Any
) -> HttpResponse:
    """htmx: re-render just the section with the outcome in it. Plain POST: message, redirect."""
    if request.htmx:  # type: ignore[attr-defined]
        context = {**_context(request, case, **bound), "notice": message, "notice_ok": ok}
        return render(request, f"cases/case_detail.html#{section}", context)
    (messages.success if ok else messages.error)(request, message)
    return redirect(reverse("cases:detail", args=[case.pk]) + f"#sec-{section}")


def _errors(form: forms.Form) -> str:
    said = (f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items())
    return "; ".join(said) or "Check the form."


@roles_required(CASEWORKERS)
@require_POST
def open_case(request: HttpRequest) -> HttpResponse:
    form = OpenCaseForm(request.POST)
    user = _user(request)
    if not form.is_valid():
        messages.error(request, "Give the student and a reason.")
        return redirect("cases:worklist")
    student = get_object_or_404(
        Student.objects.for_user(user), student_unique_id=form.cleaned_data["student"]
    )
    case = actions.open_case(
        student=student,
        opened_by=user,
        reason=form.cleaned_data["reason"],
        tier=form.cleaned_data["tier"],
    )
    return redirect("cases:detail", pk=case.pk)


@roles_required(CASEWORKERS)
@require_POST
def add_contact(request: HttpRequest, pk: int) -> HttpResponse:
    case, form = _case_for(request, pk), ContactForm(request.POST)
    if not form.is_valid():
        return _answer(request, case, "contacts", "Choose how and what happened.", False)
    data = form.cleaned_data
    guardian = Guardian.objects.filter(
        pk=data["guardian"], student_links__student=case.student
    ).first()
    actions.log_contact(
        case=case,
        by=_user(request),
        guardian=guardian,
        kind=data["kind"],
        outcome=data["outcome"],
        language=data["language"],
        interpreter=data["interpreter"],
        conference_attempt=data["conference_attempt"],
        notes=data["notes"],
    )
    return _answer(request, case, "contacts", "Contact logged.")


@roles_required(CASEWORKERS)
@require_POST
def complete_step(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    case = _case_for(request, pk)
    legal = get_object_or_404(LegalStep, case=case, pk=step)
    try:
        actions.complete_legal_step(
            step=legal,
            by=_user(request),
            satisfied_by=request.POST.get("satisfied_by", "") or "logged",
        )
    except CaseworkError as exc:
        return _answer(request, case, "steps", str(exc), False)
    return _answer(request, case, "steps", f"{legal.label}: done.")


@roles_required(CASEWORKERS)
@require_POST
def apply_rules(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk)
    result = actions.apply_rules(
        student=case.student, as_of=timezone.localdate(), by=_user(request), case=case
    )
    found = f"{result['created']} new legal steps, {result['flagged']} flagged for review."
    return _answer(request, case, "steps", found)


@roles_required(CASEWORKERS)
@require_POST
def bulk_assign(request: HttpRequest) -> HttpResponse:
    """Assign many cases (worklist checkboxes, director reassignment) to one officer."""
    user, form = _user(request), AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose cases and an officer.")
        return redirect(request.POST.get("next") or "cases:worklist")
    owner = get_object_or_404(
        User, pk=form.cleaned_data["owner"], role=Role.OFFICER, district=user.district
    )
    cases = Case.objects.for_user(user).filter(pk__in=form.case_ids())
    for case in cases:
        actions.assign_case(case=case, owner=owner, by=user)
    messages.success(request, f"{len(cases)} case(s) assigned to {owner.username}.")
    return redirect("cases:director" if user.role in DIRECTORS else "cases:worklist")


@roles_required(DIRECTORS)
def director_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    cases = Case.objects.for_user(user)
    return render(request, "cases/director.html", director.summary(user, cases))


@roles_required(CASEWORKERS)
def disclosures_csv(request: HttpRequest, student_id: str) -> HttpResponse:
    """34 CFR 99.32(c): the record of disclosures, as a file a parent can be given."""
    user = _user(request)
    student = get_object_or_404(Student.objects.for_user(user), student_unique_id=student_id)
    log_access(user=user, student=student, page=request.path, purpose="disclosure record")
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="disclosures-{student_id}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["date", "recipient", "legitimate interest", "records disclosed", "consent", "by"]
    )
    for d in Disclosure.objects.filter(student=student).select_related("by"):
        writer.writerow(
            [
                d.at.date().isoformat(),
                d.recipient,
                d.legitimate_interest,
                d.records,
                "yes" if d.consent else "no",
                d.by.get_full_name() or d.by.username,
            ]
        )
    return response


@roles_required(CASEWORKERS)
@require_POST
def send_letter(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk)
    try:
        letter = letters.send_letter(
            case=case, by=_user(request), key=request.POST.get("key", "supportive")
        )
    except letters.LetterError as exc:
        return _answer(request, case, "letters", str(exc), False)
    return _answer(request, case, "letters", f"Letter {letter.template_ref} generated.")


@roles_required(STUDENT_RECORD_ROLES)
def letter_pdf(request: HttpRequest, pk: int, letter: int) -> HttpResponse:
    case = _case_for(request, pk)
    sent = get_object_or_404(Letter, case=case, pk=letter)
    response = HttpResponse(bytes(sent.pdf or b""), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{sent.pk}.pdf"'
    return response


# --- casework from the case page ------------------------------------------------------------


@roles_required(CASEWORKERS)
@require_POST
def assess(request: HttpRequest, pk: int) -> HttpResponse:
    case, form = _case_for(request, pk), RootCauseForm(request.POST)
    if not form.is_valid():
        return _answer(request, case, "causes", _errors(form), False, cause_form=form)
    actions.assess_root_cause(
        case=case,
        cause=form.cleaned_data["cause"],
        detail=form.cleaned_data["detail"],
        by=_user(request),
    )
    return _answer(request, case, "causes", "Root cause recorded.")


@roles_required(CASEWORKERS)
@require_POST
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    case, user = _case_for(request, pk), _user(request)
    form = PlanForm(request.POST, district_id=user.district_id)
    if not form.is_valid():
        return _answer(request, case, "plans", _errors(form), False, plan_form=form)
    data = form.cleaned_data
    actions.plan_intervention(
        case=case,
        type=data["type"],
        tier=data["tier"],
        goal=data["goal"],
        owner=data["owner"] or user,
        by=user,
        start=data["start"],
        duration_days=data["duration_days"],
        review_every_days=data["review_every_days"],
    )
    return _answer(request, case, "plans", "Intervention planned.")


@roles_required(CASEWORKERS)
@require_POST
def refer(request: HttpRequest, pk: int) -> HttpResponse:
    case, user = _case_for(request, pk), _user(request)
    form = ReferralForm(request.POST, district_id=user.district_id)
    if not form.is_valid():
        return _answer(request, case, "referrals", _errors(form), False, referral_form=form)
    data = form.cleaned_data
    try:
        actions.send_referral(
            case=case,
            target=data["target"],
            reason=data["reason"],
            by=user,
            to_user=data["to_user"] if data["target"] != "agency" else None,
            agency=data["agency"],
            consent_by=data["consent_by"],
        )
    except CaseworkError as exc:
        return _answer(request, case, "referrals", str(exc), False, referral_form=form)
    return _answer(request, case, "referrals", "Referral sent.")


def _referral(request: HttpRequest, pk: int, referral: int) -> tuple[Case, Referral]:
    case = _case_for(request, pk)
    return case, get_object_or_404(Referral, case=case, pk=referral)


@roles_required(STUDENT_RECORD_ROLES)
@require_POST
def respond_referral(request: HttpRequest, pk: int, referral: int) -> HttpResponse:
    """The addressee (a counselor or teacher, usually) accepts, declines or finishes."""
    case, ref = _referral(request, pk, referral)
    form = RespondReferralForm(request.POST)
    if not form.is_valid():
        return _answer(request, case, "referrals", _errors(form), False)
    try:
        actions.respond_referral(
            referral=ref,
            to=form.cleaned_data["to"],
            by=_user(request),
            note=form.cleaned_data["note"],
        )
    except CaseworkError as exc:
        return _answer(request, case, "referrals", str(exc), False)
    return _answer(request, case, "referrals", "Referral updated.")


@roles_required(CASEWORKERS)
@require_POST
def revoke_referral(request: HttpRequest, pk: int, referral: int) -> HttpResponse:
    case, ref = _referral(request, pk, referral)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        actions.revoke_referral(referral=ref, by=_user(request), note=note)
    except CaseworkError as exc:
        return _answer(request, case, "referrals", str(exc), False)
    return _answer(request, case, "referrals", "Referral revoked.")


@roles_required(CASEWORKERS)
@require_POST
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    case, form = _case_for(request, pk), MeetingForm(request.POST)
    if not form.is_valid():
        return _answer(request, case, "meetings", _errors(form), False, meeting_form=form)
    actions.record_meeting(case=case, by=_user(request), **form.cleaned_data)
    return _answer(request, case, "meetings", "Meeting recorded.")


@roles_required(CASEWORKERS)
@require_POST
def add_task(request: HttpRequest, pk: int) -> HttpResponse:
    case, user = _case_for(request, pk), _user(request)
    form = TaskForm(request.POST, district_id=user.district_id)
    if not form.is_valid():
        return _answer(request, case, "tasks", _errors(form), False, task_form=form)
    data = form.cleaned_data
    actions.add_task(
        case=case, title=data["title"], owner=data["owner"] or user, due_on=data["due_on"], by=user
    )
    return _answer(request, case, "tasks", "Task added.")


@roles_required(STUDENT_RECORD_ROLES)
@require_POST
def complete_task(request: HttpRequest, pk: int, task: int) -> HttpResponse:
    """Caseworkers, or whoever the task was given to (a counselor on a referral, say)."""
    case, user = _case_for(request, pk), _user(request)
    todo = get_object_or_404(Task, case=case, pk=task)
    if user.role not in CASEWORKERS and todo.owner_id != user.pk:
        raise PermissionDenied("Only the task's owner or a caseworker can complete it.")
    try:
        actions.complete_task(task=todo, by=user)
    except CaseworkError as exc:
        return _answer(request, case, "tasks", str(exc), False)
    return _answer(request, case, "tasks", f"Done: {todo.title}.")


@roles_required(CASEWORKERS)
@require_POST
def review_step(request: HttpRequest, pk: int, step: int) -> HttpResponse:
    case, form = _case_for(request, pk), ReviewStepForm(request.POST)
    legal = get_object_or_404(LegalStep, case=case, pk=step)
    if not form.is_valid():
        return _answer(request, case, "steps", "Choose keep or withdraw and write a note.", False)
    try:
        actions.review_legal_step(step=legal, by=_user(request), **form.cleaned_data)
    except CaseworkError as exc:
        return _answer(request, case, "steps", str(exc), False)
    return _answer(request, case, "steps", f"{legal.label}: reviewed.")


# --- bulk letters and the template editor ---------------------------------------------------


@roles_required(CASEWORKERS)
@require_POST
def bulk_letters(request: HttpRequest) -> HttpResponse:
    """ "Approve and generate letters" for the students ticked on a worklist: a Job."""
    user = _user(request)
    ids = [int(x) for x in request.POST.getlist("student") if x.isdigit()]
    students = list(Student.objects.for_user(user).filter(pk__in=ids))
    if not students:
        messages.error(request, "Tick the students whose families should get a letter.")
        return redirect(reverse("cases:worklist") + "?list=" + request.POST.get("list", "watch"))
    job = bulk.create_bulk_job(
        students=students, by=user, key=request.POST.get("key", "supportive")
    )
    bulk.launch(job, workers=getattr(settings, "CASES_LETTER_WORKERS", 2))
    return redirect("cases:bulk_status", job=job.pk)


@roles_required(CASEWORKERS)
def bulk_status(request: HttpRequest, job: int) -> HttpResponse:
    """The officer's view of their letter job (the jobs pages are for supervisors and admins)."""
    found = get_object_or_404(jobs_for(_user(request)).filter(kind=bulk.KIND), pk=job)
    name = "cases/bulk_job.html#status" if request.htmx else "cases/bulk_job.html"  # type: ignore[attr-defined]
    return render(request, name, {"job": found})


@roles_required([Role.DISTRICT_ADMIN])
def template_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = LetterTemplate.objects.filter(district_id=user.district_id or 0)
    latest = {(t.key, t.language): t for t in reversed(list(rows))}  # highest version wins
    gaps = letters.translation_gaps(user.district) if user.district else []
    return render(request, "cases/template_list.html", {"templates": latest.values(), "gaps": gaps})


SAMPLE = {
    "first_name": "Ada",
    "guardian_name": "Ms Lovelace",
    "absences": 9,
    "typical": 3,
    "school": "Lincoln Elementary",
    "officer_name": "Olivia Officer",
    "phone": "555-0100",
}


def _score(body: str) -> dict[str, Any]:
    """Readability of the letter a family would read (sample values filled in)."""
    try:
        text = Template(body).render(Context(SAMPLE))
    except TemplateSyntaxError as exc:
        return {"error": str(exc)}
    score = letters.readability(strip_tags(text))
    return {**score, "too_long": score["words"] > letters.MAX_WORDS}


@roles_required([Role.DISTRICT_ADMIN])
def template_edit(request: HttpRequest, key: str, language: str) -> HttpResponse:
    """Each save is a new version; letters already sent keep the version they were made from."""
    user = _user(request)
    current = letters.current_template(user.district, key, language) if user.district else None
    if current is None:
        raise Http404("No such template in your district.")
    form = TemplateForm(
        request.POST or None, initial={"subject": current.subject, "body": current.body}
    )
    if request.method == "POST" and form.is_valid():
        score = _score(form.cleaned_data["body"])
        if "error" in score or score["too_long"]:
            messages.error(
                request, score.get("error") or f"Keep it under {letters.MAX_WORDS} words."
            )
        else:
            saved = letters.edit_template(
                district=current.district,
                key=key,
                language=language,
                by=user,
                **form.cleaned_data,
            )
            messages.success(request, f"Saved {saved.ref}.")
            return redirect("cases:template_edit", key=key, language=language)
    body = form["body"].value() or ""
    context = {"form": form, "current": current, "score": _score(str(body))}
    return render(request, "cases/template_edit.html", context)


@roles_required([Role.DISTRICT_ADMIN])
@require_POST
def template_score(request: HttpRequest) -> HttpResponse:
    """htmx, as the admin types: grade level and word count of the body in the form."""
    score = _score(request.POST.get("body", ""))
    return render(request, "cases/template_edit.html#score", {"score": score})
