"""Case-page forms: short, phone-sized, each feeding one action in `attend.cases.actions`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone

from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.cases.choices import (
    CAUSE_GROUP,
    SENSITIVE_CAUSES,
    Cause,
    CauseGroup,
    ContactKind,
    ContactOutcome,
    InterventionType,
    MeetingKind,
    ReferralStatus,
    ReferralTarget,
    ReviewDecision,
    Tier,
)

DATE = forms.DateInput(attrs={"type": "date"})


def cause_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The causes grouped under Attendance Works' four groups; sealed ones say so."""
    grouped: list[tuple[str, list[tuple[str, str]]]] = []
    for group in CauseGroup:
        options = [
            (c.value, f"{c.label} (sealed)" if c.value in SENSITIVE_CAUSES else c.label)
            for c in Cause
            if CAUSE_GROUP.get(c.value) == group
        ]
        grouped.append((group.label, options))
    grouped.append(("Other", [(Cause.OTHER.value, Cause.OTHER.label)]))
    return grouped


class DistrictUsersForm(forms.Form):
    """A form that offers people of the asking user's district only."""

    def __init__(self, *args: Any, district_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.district_users = User.objects.filter(district_id=district_id or 0, is_active=True)


class ContactForm(forms.Form):
    """The fast add on the case page: two taps and a note."""

    kind = forms.ChoiceField(choices=ContactKind.choices)
    outcome = forms.ChoiceField(choices=ContactOutcome.choices)
    guardian = forms.IntegerField(required=False)
    language = forms.CharField(max_length=8, required=False)
    interpreter = forms.BooleanField(required=False)
    conference_attempt = forms.BooleanField(required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RootCauseForm(forms.Form):
    cause = forms.ChoiceField(choices=cause_choices)
    detail = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PlanForm(DistrictUsersForm):
    type = forms.ChoiceField(choices=InterventionType.choices)
    tier = forms.TypedChoiceField(choices=Tier.choices, coerce=int, initial=Tier.EARLY)
    goal = forms.CharField(max_length=300)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    start = forms.DateField(widget=DATE, initial=timezone.localdate)
    duration_days = forms.IntegerField(min_value=1, max_value=365, initial=30)
    review_every_days = forms.IntegerField(min_value=1, max_value=120, initial=14)

    def __init__(self, *args: Any, district_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, district_id=district_id, **kwargs)
        owners = self.district_users.filter(
            role__in=(Role.OFFICER, Role.COUNSELOR, Role.SUPERVISOR)
        )
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]


class ReferralForm(DistrictUsersForm):
    target = forms.ChoiceField(choices=ReferralTarget.choices)
    to_user = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    agency = forms.CharField(max_length=200, required=False)
    reason = forms.CharField(max_length=300)
    consent = forms.BooleanField(required=False, label="The parent or guardian consented")
    consent_by = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, district_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, district_id=district_id, **kwargs)
        colleagues = self.district_users.filter(role__in=(Role.COUNSELOR, Role.TEACHER))
        self.fields["to_user"].queryset = colleagues.order_by("last_name", "username")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("consent") and not data.get("consent_by"):
            self.add_error("consent_by", "Say who consented.")
        if not data.get("consent"):
            data["consent_by"] = ""
        if data.get("target") == ReferralTarget.AGENCY and not data.get("consent"):
            self.add_error("consent", "A referral to an agency needs the family's consent.")
        return data


class RespondReferralForm(forms.Form):
    to = forms.ChoiceField(
        choices=[
            (ReferralStatus.ACCEPTED, "Accept"),
            (ReferralStatus.REJECTED, "Decline"),
            (ReferralStatus.DONE, "Done"),
        ]
    )
    note = forms.CharField(max_length=300, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(choices=MeetingKind.choices)
    held_on = forms.DateField(widget=DATE, initial=timezone.localdate)
    attendees = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    agreement = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    compliance_until = forms.DateField(widget=DATE, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        held, until = data.get("held_on"), data.get("compliance_until")
        if isinstance(held, dt.date) and isinstance(until, dt.date) and until < held:
            self.add_error("compliance_until", "The compliance window ends after the meeting.")
        return data


class TaskForm(DistrictUsersForm):
    title = forms.CharField(max_length=200)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    due_on = forms.DateField(widget=DATE, initial=timezone.localdate)

    def __init__(self, *args: Any, district_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, district_id=district_id, **kwargs)
        owners = self.district_users.filter(
            role__in=(Role.OFFICER, Role.COUNSELOR, Role.SUPERVISOR)
        )
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]


class ReviewStepForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices)
    note = forms.CharField(max_length=300)


class OpenCaseForm(forms.Form):
    student = forms.CharField(max_length=32)
    reason = forms.CharField(max_length=300)
    tier = forms.TypedChoiceField(choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, initial=2)


class AssignForm(forms.Form):
    cases = forms.CharField(help_text="case ids, comma-separated")
    owner = forms.IntegerField()

    def case_ids(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["cases"].split(",") if x.strip().isdigit()]


class TemplateForm(forms.Form):
    subject = forms.CharField(max_length=200)
    # htmx: the grade level and word count follow the author as they type.
    body = forms.CharField(
        widget=forms.Textarea(
            attrs={
                "rows": 14,
                "hx-post": reverse_lazy("cases:template_score"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#score",
                "hx-swap": "outerHTML",
            }
        )
    )
