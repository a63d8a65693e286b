"""Golden histories through the Texas rule set (TEC 25.095, 25.0915, 25.0951)."""

from __future__ import annotations

import datetime as dt

from attend.cases.rules import Reached, evaluate, load_rule_set
from attend.cases.tests.rulekit import d, history, weekdays

TX = load_rule_set("TX", dt.date(2026, 1, 1))
AS_OF = d("2026-06-12")


def _of(found: list[Reached], classification: str) -> list[Reached]:
    return [r for r in found if r.classification == classification]


def test_it_gives_notice_at_three_absences_inside_four_weeks() -> None:
    # 9-10 (Wed) … 10-07 (Tue): 28 calendar days, the window's full width.
    marks = {d("2025-09-10"): "U", d("2025-09-22"): "U", d("2025-10-07"): "U"}
    (notice,) = _of(evaluate(TX, history(marks), AS_OF), "three_in_four_weeks")
    assert (notice.reached_on, notice.occasions) == (d("2025-10-07"), 3)
    steps = {s.step: s for s in notice.steps}
    assert steps["parent_warning_notice"].template == "tx-warning-notice@2015"
    assert steps["parent_warning_notice"].due_on == d("2025-10-14")


def test_it_leaves_out_an_absence_one_day_outside_four_weeks() -> None:
    marks = {d("2025-09-09"): "U", d("2025-09-22"): "U", d("2025-10-07"): "U"}
    assert _of(evaluate(TX, history(marks), AS_OF), "three_in_four_weeks") == []


def test_it_counts_parts_of_days_but_not_tardies_or_excused_days() -> None:
    marks = {
        d("2025-09-10"): ("U", 20),
        d("2025-09-11"): ("T", 50),
        d("2025-09-12"): "E",
        d("2025-09-15"): "U",
    }
    assert _of(evaluate(TX, history(marks), AS_OF), "three_in_four_weeks") == []
    marks[d("2025-09-16")] = ("U", 90)
    (notice,) = _of(evaluate(TX, history(marks), AS_OF), "three_in_four_weeks")
    assert notice.reached_on == d("2025-09-16")


TEN = dict.fromkeys(weekdays(d("2025-10-01"), d("2025-10-14")), "U")  # 10 school days


def test_it_refers_to_truancy_court_within_ten_school_days_of_the_tenth_absence() -> None:
    (conduct,) = _of(evaluate(TX, history(TEN), AS_OF), "truant_conduct")
    assert (conduct.reached_on, conduct.occasions) == (d("2025-10-14"), 10)
    (referral,) = conduct.steps
    assert referral.step == "truancy_court_referral"
    assert referral.due_on == d("2025-10-28")
    assert referral.guards == ("truancy_prevention_measures",)


def test_it_counts_ten_absences_only_within_six_months() -> None:
    early = dict.fromkeys(weekdays(d("2025-09-02"), d("2025-09-08")), "U")  # 5 days
    late = dict.fromkeys(weekdays(d("2026-03-02"), d("2026-03-06")), "U")  # 5 days, 6 months on
    assert _of(evaluate(TX, history({**early, **late}), AS_OF), "truant_conduct") == []
    late[d("2026-03-09")] = "U"  # window (9-09, 3-09]: the early days have all left it
    assert _of(evaluate(TX, history({**early, **late}), AS_OF), "truant_conduct") == []
    inside = dict.fromkeys(weekdays(d("2025-09-08"), d("2025-09-12")), "U")
    late.pop(d("2026-03-09"))
    (conduct,) = _of(evaluate(TX, history({**inside, **late}), AS_OF), "truant_conduct")
    # On 3-06 the window is (9-06, 3-06]: 5 September days + 5 March days = the 10th.
    assert conduct.reached_on == d("2026-03-06")


def test_it_offers_counseling_instead_of_court_for_an_exempt_student() -> None:
    (conduct,) = _of(
        evaluate(TX, history(TEN, exemptions={"homelessness"}), AS_OF), "truant_conduct"
    )
    assert conduct.exempt == ("homelessness",)
    assert [s.step for s in conduct.steps] == ["additional_counseling"]
    assert conduct.steps[0].citation == "TEC 25.0915(a-3)"
