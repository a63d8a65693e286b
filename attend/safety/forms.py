from __future__ import annotations

from typing import Any

from django import forms

from attend.roster.models import Student
from attend.safety.choices import Resolution, StepAction


class VisitForm(forms.Form):
    student = forms.ModelChoiceField(queryset=Student.objects.none(), required=False)
    address = forms.CharField(max_length=300)
    expected_people = forms.CharField(max_length=300, required=False)
    hazards = forms.CharField(
        max_length=500,
        required=False,
        help_text="Comma-separated: dog, aggressive relative, no signal…",
    )
    expected_minutes = forms.IntegerField(min_value=1, max_value=720, initial=30)
    voice_memo = forms.FileField(required=False)

    def __init__(self, *args: Any, caseload: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].queryset = caseload  # type: ignore[attr-defined]

    def hazard_list(self) -> list[str] | None:
        raw = self.cleaned_data.get("hazards") or ""
        items = [h.strip() for h in raw.split(",") if h.strip()]
        return items or None


class PinForm(forms.Form):
    pin = forms.CharField(max_length=8, widget=forms.PasswordInput(attrs={"inputmode": "numeric"}))


class ExtendForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=240, initial=15)


class PinsForm(forms.Form):
    pin = forms.CharField(
        min_length=4, max_length=8, widget=forms.PasswordInput(attrs={"inputmode": "numeric"})
    )
    duress_pin = forms.CharField(
        min_length=4, max_length=8, widget=forms.PasswordInput(attrs={"inputmode": "numeric"})
    )


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        choices=[c for c in Resolution.choices if c[0] != Resolution.CANCELLED_BY_OFFICER]
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class IncidentForm(forms.Form):
    what_happened = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    who_responded = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    outcome = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    follow_up = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PolicyStepForm(forms.Form):
    """One row of the escalation policy editor; an empty row is left out."""

    wait = forms.IntegerField(
        min_value=0,
        max_value=3600,
        required=False,
        label="Wait (s)",
        help_text="after the step before",
    )
    action = forms.ChoiceField(choices=[("", "—"), *StepAction.choices], required=False)
    times = forms.IntegerField(min_value=0, max_value=5, required=False, label="Repeat times")

    def step(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("action"):
            return None
        step: dict[str, Any] = {"wait": data.get("wait") or 0, "action": data["action"]}
        if data["action"] == StepAction.REPEAT:
            step["times"] = data.get("times") or 0
        return step


PolicyStepFormSet = forms.formset_factory(PolicyStepForm, extra=0, max_num=10, absolute_max=10)


class PolicyNameForm(forms.Form):
    name = forms.CharField(max_length=120)
