"""Permission-matrix rows for the dashboards (collected by accounts/tests)."""

from __future__ import annotations

from typing import Any

from attend.test import only

# Aggregates: admins, supervisors, officers and analysts. Operators (safety only), counselors
# and teachers (individual students only) are refused. A school outside a user's scope is 404.
AGGREGATE = {
    "dana": 200,
    "nina": 200,
    "sam": 200,
    "olivia": 200,
    "omar": 200,
    "otto": 200,
    "ana": 200,
}
LINCOLN = {**AGGREGATE, "otto": 404, "nina": 404}

MATRIX: dict[str, tuple[Any, dict[str, int]]] = {
    "insights:district": (lambda t: {}, only(AGGREGATE)),
    "insights:school": (lambda t: {"school_id": t.lincoln.school_id}, only(LINCOLN)),
}
