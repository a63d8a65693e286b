"""The upload form of the import page."""

from __future__ import annotations

from typing import Any

from django import forms

from attend.roster.importers.sis_csv import PROFILES

KINDS = [
    ("edfi", "Ed-Fi: a zip of a lake folder or of XML interchanges, or one XML/NDJSON file"),
    ("oneroster", "OneRoster 1.1 / 1.2 CSV: the zip with manifest.csv"),
    ("csv", "SIS daily attendance export: CSV or XLSX, read through a profile"),
]
SUFFIXES = {
    "edfi": (".zip", ".xml", ".json", ".ndjson", ".jsonl", ".parquet"),
    "oneroster": (".zip",),
    "csv": (".csv", ".txt", ".xlsx"),
}
MAX_BYTES = 512 * 1024 * 1024


def profile_choices() -> list[tuple[str, str]]:
    return [(p.stem, p.stem.replace("_", " ").title()) for p in sorted(PROFILES.glob("*.toml"))]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=KINDS, widget=forms.RadioSelect, initial="edfi")
    file = forms.FileField()
    profile = forms.ChoiceField(choices=[], required=False, help_text="For SIS exports only.")
    skip_invalid = forms.BooleanField(
        required=False,
        label="Write the valid records even if some are invalid (keep the report)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = profile_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, kind = data.get("file"), data.get("kind")
        if upload is not None and kind in SUFFIXES:
            if not upload.name.lower().endswith(SUFFIXES[kind]):
                self.add_error("file", f"Expected one of: {', '.join(SUFFIXES[kind])}")
            if upload.size > MAX_BYTES:
                self.add_error("file", "The file is larger than 512 MB: use `attend import`.")
        if kind == "csv" and not data.get("profile"):
            self.add_error("profile", "Choose the profile of your SIS export.")
        return data
