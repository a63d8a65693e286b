"""Capacity: how many students each school's watch list may hold (RISK.md 5).

The list size k is what officers can serve, set per school or per officer by the district
admin (`RiskCapacity`); a school with no setting falls back to a share of its students.
Plain data only: the app reads the settings from the database, the scorer applies them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

DEFAULT_SHARE = 0.05


@dataclass(frozen=True)
class OfficerCapacity:
    """One officer's setting: how many students they can serve, at which schools (ids)."""

    students: int
    schools: tuple[str, ...]


@dataclass(frozen=True)
class Capacity:
    """A district's settings, keyed by the lake's school ids (`School.school_id`)."""

    schools: Mapping[str, int] = field(default_factory=dict)
    officers: Sequence[OfficerCapacity] = ()


def officer_shares(officers: Sequence[OfficerCapacity]) -> dict[str, Fraction]:
    """Each school's part of its officers' capacity.

    An officer's capacity is split evenly over their schools: an officer who can serve 20
    students at two schools serves 10 at each, not 20 at each (the setting is what one
    person can carry in all). Exact fractions, so three thirds add up to a whole.
    """
    shares: dict[str, Fraction] = {}
    for officer in officers:
        schools = sorted(set(officer.schools))
        for school in schools:
            part = Fraction(officer.students, len(schools))
            shares[school] = shares.get(school, Fraction(0)) + part
    return shares


def school_k(
    enrolled: Mapping[str, int], capacity: Capacity, share: float = DEFAULT_SHARE
) -> dict[str, int]:
    """k for each school in `enrolled` (school id → students scored there).

    1. The school's own setting, when the district admin set one (0 is allowed: no flags).
    2. Else the sum of the shares of the officers assigned there who have a setting (see
       `officer_shares`), rounded up; officers without a setting add nothing.
    3. Else the default: ceil(share x the school's enrolled students), as in validation.
    """
    from_officers = officer_shares(capacity.officers)
    out = {}
    for school, students in enrolled.items():
        if school in capacity.schools:
            out[school] = int(capacity.schools[school])
        elif school in from_officers:
            out[school] = math.ceil(from_officers[school])
        else:
            out[school] = default_k(students, share)
    return out


def default_k(students: int, share: float = DEFAULT_SHARE) -> int:
    """The list size with no setting: a share of the students, rounded up."""
    return math.ceil(share * students)
