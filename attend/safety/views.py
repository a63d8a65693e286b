"""Console (operators; supervisors read-only), supervisor board, and the officer's /field/ app."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_POST

from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.devices.actions import register_app_device
from attend.evidence.actions import EvidenceError, read_chunk
from attend.evidence.models import AudioChunk
from attend.roster.models import Student
from attend.safety import actions, queries
from attend.safety.choices import AlarmKind
from attend.safety.forms import (
    ExtendForm,
    IncidentForm,
    PinForm,
    PinsForm,
    PolicyNameForm,
    PolicyStepFormSet,
    ResolveForm,
    VisitForm,
)
from attend.safety.models import Alarm, SafetyProfile

CONSOLE_ROLES = [Role.OPERATOR, Role.SUPERVISOR, Role.DISTRICT_ADMIN]
OPERATOR = [Role.OPERATOR]
OFFICER = [Role.OFFICER]
BOARD_ROLES = [Role.SUPERVISOR, Role.DISTRICT_ADMIN]
POLICY_EDITORS = [Role.DISTRICT_ADMIN]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _alarm(request: HttpRequest, pk: int) -> Alarm:
    return get_object_or_404(queries.alarms_for_user(_user(request)), pk=pk)


# --- console ----------------------------------------------------------------------------


@roles_required(CONSOLE_ROLES)
def console(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "queue": queries.queue(user),
        "heartbeat": queries.heartbeat(),
        "can_act": user.role == Role.OPERATOR,
        "selected": request.GET.get("alarm", ""),
    }
    return render(request, "safety/console.html", context)


@roles_required(CONSOLE_ROLES)
def console_queue(request: HttpRequest) -> HttpResponse:
    context = {"queue": queries.queue(_user(request)), "heartbeat": queries.heartbeat()}
    return render(request, "safety/_queue.html", context)


@roles_required(CONSOLE_ROLES)
def alarm_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alarm = _alarm(request, pk)
    positions = queries.trail(alarm)
    context = {
        "alarm": alarm,
        "transitions": alarm.transitions.select_related("actor").order_by("-at", "-pk")[:50],
        "positions": positions[:10],
        "svg": queries.svg_trail(positions),
        "chunks": alarm.audio_chunks.filter(deleted_at=None).order_by("index"),
        "next_step": alarm.next_step(),
        "can_act": _user(request).role == Role.OPERATOR,
        "resolve_form": ResolveForm(),
        "incident_form": IncidentForm(),
        "has_incident": hasattr(alarm, "incident"),
    }
    return render(request, "safety/_alarm.html", context)


def _operator_action(run: Callable[[HttpRequest, Alarm], Any]) -> Callable[..., HttpResponse]:
    """POST an operator action on an alarm, then back to the console with it selected."""

    @roles_required(OPERATOR)
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        alarm = _alarm(request, pk)
        try:
            run(request, alarm)
        except actions.SafetyError as exc:
            messages.error(request, str(exc))
        if request.headers.get("HX-Request"):
            return alarm_detail(request, pk)
        return redirect(f"{reverse('safety:console')}?alarm={pk}")

    view.__name__ = run.__name__
    return view


def _ack(request: HttpRequest, alarm: Alarm) -> None:
    actions.acknowledge_alarm(alarm=alarm, by=_user(request))


def _call(request: HttpRequest, alarm: Alarm) -> None:
    actions.log_officer_call(
        alarm=alarm, by=_user(request), outcome=request.POST.get("outcome", "")[:300]
    )


def _colleagues(request: HttpRequest, alarm: Alarm) -> None:
    actions.send_colleagues(alarm=alarm, by=_user(request))


def _dispatch(request: HttpRequest, alarm: Alarm) -> None:
    actions.record_dispatch(
        alarm=alarm, by=_user(request), reference=request.POST.get("reference", "")
    )


def _resolve(request: HttpRequest, alarm: Alarm) -> None:
    form = ResolveForm(request.POST)
    if not form.is_valid():
        raise actions.SafetyError("Choose a resolution code")
    actions.resolve_alarm(
        alarm=alarm,
        by=_user(request),
        resolution=form.cleaned_data["resolution"],
        note=form.cleaned_data["note"],
    )


def _incident(request: HttpRequest, alarm: Alarm) -> None:
    form = IncidentForm(request.POST)
    if not form.is_valid():
        raise actions.SafetyError("Say what happened")
    actions.write_incident_report(alarm=alarm, author=_user(request), **form.cleaned_data)


acknowledge = _operator_action(_ack)
call_officer = _operator_action(_call)
send_colleagues = _operator_action(_colleagues)
record_dispatch = _operator_action(_dispatch)
resolve = _operator_action(_resolve)
incident = _operator_action(_incident)


@roles_required(CONSOLE_ROLES)
def audio(request: HttpRequest, pk: int) -> HttpResponse:
    """Play one chunk; every play is a custody row."""
    chunk = get_object_or_404(AudioChunk, pk=pk, alarm__in=queries.alarms_for_user(_user(request)))
    try:
        data = read_chunk(chunk=chunk, user=_user(request))
    except EvidenceError as exc:
        return HttpResponse(str(exc), status=exc.status)
    return HttpResponse(data, content_type=chunk.content_type)


# --- supervisor board -------------------------------------------------------------------


@roles_required(BOARD_ROLES)
def board(request: HttpRequest) -> HttpResponse:
    template = (
        "safety/board.html#board" if request.headers.get("HX-Request") else "safety/board.html"
    )
    context = {**queries.board(_user(request)), "heartbeat": queries.heartbeat()}
    return render(request, template, context)


# --- escalation policies (district admins edit; supervisors read) ----------------------


def _kind(slug: str) -> str:
    """URL slug → policy kind: an alarm kind, or "default" for the district's default ("")."""
    if slug == "default":
        return ""
    if slug not in AlarmKind.values:
        raise Http404("No such alarm kind")
    return slug


@roles_required(BOARD_ROLES)
def policies(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "rows": queries.policy_rows(user),
        "can_edit": user.role in POLICY_EDITORS,
    }
    return render(request, "safety/policies.html", context)


@roles_required(BOARD_ROLES)
def policy_edit(request: HttpRequest, kind: str) -> HttpResponse:
    user, kind = _user(request), _kind(kind)
    own, steps = queries.policy_for_editing(user, kind)
    can_edit = user.role in POLICY_EDITORS
    if request.method == "POST" and not can_edit:
        return HttpResponse("Only a district admin edits escalation policies", status=403)
    if request.method == "POST" and "delete" in request.POST and own is not None:
        actions.delete_escalation_policy(policy=own, by=user)
        messages.success(request, "Removed: this kind now follows the district default.")
        return redirect("safety:policies")
    name_form = PolicyNameForm(request.POST or None, initial={"name": own.name if own else ""})
    rows = PolicyStepFormSet(request.POST or None, initial=_rows(steps))
    if request.method == "POST" and _save_policy(request, user, kind, name_form, rows):
        return redirect("safety:policies")
    context = {
        "kind": kind,
        "label": AlarmKind(kind).label if kind else "District default",
        "own": own,
        "name_form": name_form,
        "rows": rows,
        "can_edit": can_edit,
    }
    return render(request, "safety/policy_edit.html", context)


def _rows(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The current steps, then blank rows up to the ten a policy may have."""
    filled = [{"wait": s["wait"], "action": s["action"], "times": s.get("times")} for s in steps]
    return filled + [{}] * (actions.MAX_POLICY_STEPS - len(filled))


def _save_policy(request: HttpRequest, user: User, kind: str, name_form: Any, rows: Any) -> bool:
    if not (name_form.is_valid() and rows.is_valid()):
        return False
    steps = [step for form in rows for step in [form.step()] if step is not None]
    try:
        actions.save_escalation_policy(
            district_id=user.district_id or 0,
            kind=kind,
            name=name_form.cleaned_data["name"],
            steps=steps,
            by=user,
        )
    except actions.SafetyError as refused:
        name_form.add_error(None, str(refused))
        return False
    messages.success(request, "Saved. Alarms already raised keep the policy they started with.")
    return True


# --- officer app ------------------------------------------------------------------------


def _caseload(user: User) -> Any:
    return Student.objects.filter(caseload_assignments__officer=user).order_by("last_name")


@roles_required(OFFICER)
def field_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    profile = SafetyProfile.objects.filter(user=user).first()
    context = {
        "visit": queries.current_visit(user),
        "has_pins": bool(profile and profile.pin_hash),
        "form": VisitForm(caseload=_caseload(user)),
    }
    return render(request, "safety/field_home.html", context)


@roles_required(OFFICER)
def field_hazards(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    hazards = actions.hazards_for_address(
        district_id=user.district_id or 0, address=request.GET.get("address", "")
    )
    return JsonResponse({"hazards": hazards})


@roles_required(OFFICER)
def field_start(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = VisitForm(request.POST or None, request.FILES or None, caseload=_caseload(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = actions.start_visit(
                officer=user,
                address=data["address"],
                expected_minutes=data["expected_minutes"],
                student=data["student"],
                expected_people=data["expected_people"],
                hazards=form.hazard_list(),
                voice_memo=data["voice_memo"],
            )
        except actions.SafetyError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("safety:field_visit", pk=visit.pk)
    return render(request, "safety/field_start.html", {"form": form})


@roles_required(OFFICER)
def field_visit(request: HttpRequest, pk: int) -> HttpResponse:
    visit = get_object_or_404(queries.visits_for_user(_user(request)), pk=pk)
    context = {"visit": visit, "pin_form": PinForm(), "extend_form": ExtendForm()}
    return render(request, "safety/field_visit.html", context)


@roles_required(OFFICER)
@require_POST
def field_visit_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """I'm OK / extend / check out. A duress PIN gives exactly the normal answer."""
    visit = get_object_or_404(queries.visits_for_user(_user(request)), pk=pk)
    pin = request.POST.get("pin") or None
    try:
        if what == "check-in":
            actions.check_in(visit=visit, pin=pin)
            messages.success(request, "Checked in. Stay safe.")
        elif what == "extend":
            actions.extend_visit(
                visit=visit, minutes=int(request.POST.get("minutes", "15") or 15), pin=pin
            )
            messages.success(request, "Visit extended.")
        elif what == "check-out":
            actions.check_out(visit=visit, pin=pin)
            messages.success(request, "Checked out. Visit ended.")
            return redirect("safety:field")
        else:
            raise Http404
    except (actions.SafetyError, ValueError) as exc:
        messages.error(request, str(exc))
    return redirect("safety:field_visit", pk=pk)


@roles_required(OFFICER)
def field_pins(request: HttpRequest) -> HttpResponse:
    form = PinsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_pins(user=_user(request), **form.cleaned_data)
        except actions.SafetyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "PINs saved.")
            return redirect("safety:field")
    return render(request, "safety/field_pins.html", {"form": form})


@roles_required(OFFICER)
@require_POST
def field_device(request: HttpRequest) -> HttpResponse:
    """Give this browser its own revocable device token (shown once, kept in localStorage)."""
    label = (request.POST.get("label") or request.headers.get("User-Agent", "browser"))[:120]
    device, token = register_app_device(officer=_user(request), label=label)
    return JsonResponse({"device_id": device.pk, "token": token}, status=201)


def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the site root so it may control /field/ and the API calls it retries."""
    from django.contrib.staticfiles import finders

    path = finders.find("safety/sw.js")
    body = open(path, encoding="utf-8").read() if path else ""  # noqa: SIM115
    response = HttpResponse(body, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


def manifest(request: HttpRequest) -> HttpResponse:
    data = {
        "name": "Attend Field",
        "short_name": "Attend",
        "start_url": "/field/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b00020",
        "icons": [{"src": static("safety/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return HttpResponse(json.dumps(data), content_type="application/manifest+json")
