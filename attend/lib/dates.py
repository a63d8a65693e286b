"""School-year arithmetic shared by every app."""

from __future__ import annotations

import datetime as dt

# US school years run July 1 → June 30 and are named by their ending year, as Ed-Fi does.
YEAR_START_MONTH = 7


def school_year_of(day: dt.date) -> int:
    """The Ed-Fi school year (ending year) that contains `day`: 2025-09-02 → 2026."""
    return day.year + 1 if day.month >= YEAR_START_MONTH else day.year


def school_year_bounds(school_year: int) -> tuple[dt.date, dt.date]:
    return dt.date(school_year - 1, YEAR_START_MONTH, 1), dt.date(school_year, 6, 30)


def school_year_label(school_year: int) -> str:
    return f"{school_year - 1}–{str(school_year)[-2:]}"
