"""Dashboard data: the stored roll-ups of the newest run, filtered to what the user may see.

Cells the engine suppressed (fewer than 10 students) stay suppressed here and in every export.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse

from attend.insights.models import InsightsRun

if TYPE_CHECKING:
    from attend.accounts.models import User

DIMENSIONS = {
    "grade": "Grade",
    "sex": "Sex",
    "race": "Race/ethnicity",
    "el": "English learner",
    "disability": "Disability",
    "econ": "Economic disadvantage",
}
EXPORT_COLUMNS = (
    "scope",
    "school_id",
    "dimension",
    "value",
    "enrolled_students",
    "eligible_students",
    "chronic_students",
    "chronic_rate",
    "satisfactory",
    "at_risk",
    "moderate_chronic",
    "severe_chronic",
    "average_daily_attendance",
    "suppressed",
)
TIERS = ("satisfactory", "at_risk", "moderate_chronic", "severe_chronic")


def cells(run: InsightsRun, user: User, *, school_id: str | None) -> list[dict[str, Any]]:
    """Rows of one scope: the user's district, and one school when `school_id` is given."""
    lea = user.district.lea_id if user.district else None
    scope = "school" if school_id else "district"
    return [
        row
        for row in run.aggregates
        if str(row.get("district_id")) == str(lea)
        and row.get("scope") == scope
        and (school_id is None or str(row.get("school_id")) == school_id)
    ]


def trend(run: InsightsRun, user: User, *, school_id: str | None) -> list[dict[str, Any]]:
    lea = user.district.lea_id if user.district else None
    return [
        {"week": row["week_start"], "rate": None if row["suppressed"] else row["attendance_rate"]}
        for row in run.trend
        if str(row.get("district_id")) == str(lea)
        and row.get("dimension") == "all"
        and row.get("scope") == ("school" if school_id else "district")
        and (school_id is None or str(row.get("school_id")) == school_id)
    ]


def by_dimension(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups = []
    for key, label in DIMENSIONS.items():
        members = sorted((r for r in rows if r["dimension"] == key), key=lambda r: str(r["value"]))
        if members:
            groups.append({"key": key, "label": label, "rows": members})
    return groups


def overall(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in rows if r["dimension"] == "all"), None)


def export(rows: list[dict[str, Any]], fmt: str, name: str) -> HttpResponse:
    """CSV or XLSX of the table shown; suppressed numbers are left blank, as published."""
    table = [[_cell(row, col) for col in EXPORT_COLUMNS] for row in rows]
    if fmt == "xlsx":
        return _xlsx(table, name)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(table)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _cell(row: dict[str, Any], column: str) -> Any:
    hidden = row.get("suppressed") and column not in (
        "scope",
        "school_id",
        "dimension",
        "value",
        "suppressed",
    )
    return "" if hidden or row.get(column) is None else row[column]


def _xlsx(table: list[list[Any]], name: str) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(EXPORT_COLUMNS))
    for line in table:
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
