"""Casework pages: worklists, the case page (phone-first), the director view."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from attend.accounts.choices import STUDENT_RECORD_ROLES, Role
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.audit.actions import log_access
from attend.cases import actions, director, letters
from attend.cases.actions import CaseworkError
from attend.cases.forms import AssignForm, ContactForm, OpenCaseForm
from attend.cases.models import Case, Disclosure, LegalStep, Letter
from attend.cases.queries import sees_sealed
from attend.cases.worklists import worklists
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


@roles_required(STUDENT_RECORD_ROLES)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Every view is logged before anything is shown (FERPA); sealed causes stay sealed."""
    case, user, today = _case_for(request, pk), _user(request), timezone.localdate()
    context = {
        "case": case,
        "sealed_ok": sees_sealed(user),
        "root_causes": case.root_causes.all(),
        "plans": case.plans.all(),
        "contacts": case.contacts.select_related("guardian", "by")[:50],
        "referrals": case.referrals.select_related("to_user"),
        "steps": _steps(case, today),
        "tasks": case.tasks.select_related("owner"),
        "meetings": case.meetings.all(),
        "letters": case.letters.defer("pdf", "html"),
        "guardians": Guardian.objects.filter(student_links__student=case.student),
        "contact_form": ContactForm(),
        "can_write": user.role in CASEWORKERS,
        "today": today,
    }
    return render(request, "cases/case_detail.html", context)


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
    if form.is_valid():
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
        messages.success(request, "Contact logged.")
    else:
        messages.error(request, "Choose how and what happened.")
    return redirect("cases:detail", pk=case.pk)


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
        messages.success(request, f"{legal.label}: done.")
    except CaseworkError as exc:
        messages.error(request, str(exc))
    return redirect("cases:detail", pk=case.pk)


@roles_required(CASEWORKERS)
@require_POST
def apply_rules(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk)
    result = actions.apply_rules(
        student=case.student, as_of=timezone.localdate(), by=_user(request), case=case
    )
    messages.info(
        request, f"{result['created']} new legal steps, {result['flagged']} flagged for review."
    )
    return redirect("cases:detail", pk=case.pk)


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
        messages.success(request, f"Letter {letter.template_ref} generated.")
    except letters.LetterError as exc:
        messages.error(request, str(exc))
    return redirect("cases:detail", pk=case.pk)


@roles_required(STUDENT_RECORD_ROLES)
def letter_pdf(request: HttpRequest, pk: int, letter: int) -> HttpResponse:
    case = _case_for(request, pk)
    sent = get_object_or_404(Letter, case=case, pk=letter)
    response = HttpResponse(bytes(sent.pdf or b""), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{sent.pk}.pdf"'
    return response
