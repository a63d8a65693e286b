"""Per-district policy: every threshold and switch named in ATTENDANCE-RULES.

The defaults are the contract's defaults; tests and benchmarks use them. Ratios are `Fraction`s so
that every comparison the engine makes can be done in exact integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

__all__ = ["MICRO", "Policy"]

# Day fractions travel through the engine as integer millionths of a day ("micro-days"), so sums
# are exact and the 10 % comparison needs no rounding.
MICRO = 1_000_000


@dataclass(frozen=True)
class Policy:
    """Thresholds and switches; one frozen value per computation."""

    # School days and enrolled days (rules 2-3).
    exit_inclusive: bool = True
    cut_at_last_reported: bool = True

    # A day's attendance (rules 5-8).
    positive_reporting_default: bool = False
    positive_reporting_schools: frozenset[str] = field(default_factory=frozenset)
    partial_default: Fraction = Fraction(0)
    ignore_recorded_after_as_of: bool = False

    # Per-student metrics.
    eligibility_min_days: int = 10
    eligibility_requires_present_day: bool = True
    chronic_threshold: Fraction = Fraction(1, 10)
    tier_satisfactory_above: Fraction = Fraction(95, 100)
    tier_at_risk_above: Fraction = Fraction(90, 100)
    tier_moderate_above: Fraction = Fraction(80, 100)
    absence_day_min_fraction: Fraction = Fraction(1, 2)

    # Patterns.
    recent_window_days: int = 20
    sudden_drop_points: Fraction = Fraction(10, 100)
    sudden_drop_min_absences: int = 3
    sudden_drop_min_prior_days: int = 20
    streak_min_days: int = 3
    weekday_min_absences: int = 5
    weekday_min_share: Fraction = Fraction(60, 100)
    break_min_calendar_days: int = 3
    break_min_absences: int = 2
    period_skip_min_days: int = 3
    tardy_min_days: int = 4
    on_track_min_days: int = 10

    # Aggregates: cells with fewer students (or, when set, fewer enrolled days) are suppressed.
    min_cell_students: int = 10
    min_cell_days: int = 0

    def positive_reporting(self, school_id: str) -> bool:
        """Whether a school's source reports every day (a day without events is unknown)."""
        return self.positive_reporting_default or school_id in self.positive_reporting_schools

    @classmethod
    def california(cls) -> Policy:
        """California counts students enrolled more than 30 days."""
        return cls(eligibility_min_days=31)

    def with_(self, **changes: object) -> Policy:
        """A copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def micro(self, ratio: Fraction) -> int:
        """A day fraction in micro-days (exact for the fractions used in policies)."""
        return int(ratio * MICRO)
