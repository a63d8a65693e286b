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

# Risk models: the dashboard's readers (officers see only their own flags' figures on it);
# another district's version is 404. Status changes are district admins'; confirming or
# dismissing a flag is casework. POST-only URLs answer a GET with 405 once the role passes.
RISK_MODEL = {**AGGREGATE, "nina": 404}
CASEWORK_POST = only(dict.fromkeys(("olivia", "omar", "otto", "sam", "dana", "nina"), 405))
# Capacity: district admins edit their own district's numbers, supervisors read their schools'.
CAPACITY = only({"dana": 200, "nina": 200, "sam": 200})


def setup(cls: Any) -> None:
    from attend.insights.actions import register_model_version

    run = {"run_id": "20260301T000000000000Z", "horizon": 30, "metrics": {"share": 0.05}}
    cls.risk_version = register_model_version(
        district=cls.district, run=run, folder="/nonexistent", by=cls.dana
    )


MATRIX.update(
    {
        "insights:risk_models": (lambda t: {}, only(AGGREGATE)),
        "insights:risk_model": (lambda t: {"pk": t.risk_version.pk}, only(RISK_MODEL)),
        "insights:risk_model_status": (
            lambda t: {"pk": t.risk_version.pk},
            only({"dana": 405, "nina": 405}),
        ),
        "insights:risk_capacity": (lambda t: {}, CAPACITY),
        "insights:risk_flag_confirm": (lambda t: {"pk": 1}, CASEWORK_POST),
        "insights:risk_flag_dismiss": (lambda t: {"pk": 1}, CASEWORK_POST),
    }
)
