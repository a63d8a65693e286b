from __future__ import annotations

from django import forms

from attend.cases.choices import ContactKind, ContactOutcome


class ContactForm(forms.Form):
    """The fast add on the case page: two taps and a note."""

    kind = forms.ChoiceField(choices=ContactKind.choices)
    outcome = forms.ChoiceField(choices=ContactOutcome.choices)
    guardian = forms.IntegerField(required=False)
    language = forms.CharField(max_length=8, required=False)
    interpreter = forms.BooleanField(required=False)
    conference_attempt = forms.BooleanField(required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class OpenCaseForm(forms.Form):
    student = forms.CharField(max_length=32)
    reason = forms.CharField(max_length=300)
    tier = forms.TypedChoiceField(choices=[(1, "1"), (2, "2"), (3, "3")], coerce=int, initial=2)


class AssignForm(forms.Form):
    cases = forms.CharField(help_text="case ids, comma-separated")
    owner = forms.IntegerField()

    def case_ids(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["cases"].split(",") if x.strip().isdigit()]
