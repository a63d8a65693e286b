"""Forms of the insights pages (the numbers' ranges are checked by the actions)."""

from __future__ import annotations

from django import forms


class CapacityForm(forms.Form):
    """One row of the capacity page: a school's or an officer's number; blank clears it."""

    school = forms.IntegerField(required=False, widget=forms.HiddenInput)
    officer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    students = forms.IntegerField(required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if (data.get("school") is None) == (data.get("officer") is None):
            raise forms.ValidationError("Choose one school or one officer.")
        return data
