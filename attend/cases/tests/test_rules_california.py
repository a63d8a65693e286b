"""Golden histories through the California rule set (EC 48260–48263.6)."""

from __future__ import annotations

import datetime as dt

from attend.cases.rules import Reached, evaluate, load_rule_set
from attend.cases.tests.rulekit import d, history

CA = load_rule_set("CA", dt.date(2026, 1, 1))
AS_OF = d("2026-06-12")


def _counted(found: list[Reached], classification: str) -> list[Reached]:
    return [r for r in found if r.classification == classification and r.counts]


def _one(found: list[Reached], classification: str) -> Reached:
    (only,) = [r for r in found if r.classification == classification]
    return only


def test_it_classifies_truant_on_the_third_unexcused_full_day() -> None:
    found = evaluate(
        CA, history({d("2025-09-04"): "U", d("2025-09-11"): "U", d("2025-09-18"): "U"}), AS_OF
    )
    truant = _one(found, "truant")
    assert (truant.reached_on, truant.occasions, truant.citation) == (
        d("2025-09-18"),
        3,
        "EC 48260(a)",
    )
    steps = {s.step: s for s in truant.steps}
    assert set(steps) == {"report_truant", "first_notice", "conference_attempt"}
    assert steps["report_truant"].due_on == d("2025-09-25")  # 5 school days later
    assert steps["conference_attempt"].due_on == d("2025-10-02")
    assert steps["first_notice"].kind == "shall"


def test_it_counts_tardies_only_over_thirty_minutes() -> None:
    marks = {
        d("2025-09-04"): "U",
        d("2025-09-05"): ("T", 30),
        d("2025-09-08"): ("U", 25),
        d("2025-09-09"): ("T", 31),
        d("2025-09-10"): ("U", 45),
    }
    truant = _one(evaluate(CA, history(marks), AS_OF), "truant")
    assert truant.reached_on == d("2025-09-10")


def test_it_does_not_count_an_absence_excused_later() -> None:
    # The SIS excused 9-11 after the fact: the history carries the latest version (excused).
    marks = {d("2025-09-04"): "U", d("2025-09-11"): "E", d("2025-09-18"): "U"}
    assert _counted(evaluate(CA, history(marks), AS_OF), "truant") == []
    marks[d("2025-09-25")] = "U"
    assert _one(evaluate(CA, history(marks), AS_OF), "truant").reached_on == d("2025-09-25")


def test_it_ignores_days_after_as_of() -> None:
    marks = {d("2025-09-04"): "U", d("2025-09-11"): "U", d("2025-09-18"): "U"}
    assert evaluate(CA, history(marks), d("2025-09-17")) == []


def test_it_picks_the_first_notice_version_by_date() -> None:
    before = history(
        {d("2025-03-03"): "U", d("2025-03-04"): "U", d("2025-03-05"): "U"},
        start=d("2024-08-20"),
        end=d("2025-06-30"),
    )
    after = history({d("2025-09-03"): "U", d("2025-09-04"): "U", d("2025-09-05"): "U"})
    old = {s.step: s.template for s in _one(evaluate(CA, before, d("2025-06-30")), "truant").steps}
    new = {s.step: s.template for s in _one(evaluate(CA, after, AS_OF), "truant").steps}
    assert old["first_notice"] == "ca-first-notice@2011"
    assert new["first_notice"] == "ca-first-notice@2025-07"


def test_it_switches_notice_version_exactly_on_1_july_2025() -> None:
    # Summer school: the third occasion on 30 June uses the old notice, on 1 July the new one.
    base = {d("2025-06-26"): "U", d("2025-06-27"): "U"}
    for third, version in (("2025-06-30", "2011"), ("2025-07-01", "2025-07")):
        h = history({**base, d(third): "U"}, start=d("2025-06-23"), end=d("2025-07-11"))
        truant = _one(evaluate(CA, h, d("2025-07-11")), "truant")
        notice = next(s for s in truant.steps if s.step == "first_notice")
        assert notice.template == f"ca-first-notice@{version}", third


TRUANT_THEN_TWO_MORE = {
    d("2025-09-04"): "U",
    d("2025-09-11"): "U",
    d("2025-09-18"): "U",
    d("2025-09-25"): ("U", 60),
    d("2025-10-02"): "U",
}


def test_it_reports_each_further_occasion_after_the_first_report() -> None:
    found = evaluate(CA, history(TRUANT_THEN_TWO_MORE), AS_OF)
    further = _counted(found, "further_truancy")
    assert [(r.reached_on, r.sequence) for r in further] == [
        (d("2025-09-25"), 1),
        (d("2025-10-02"), 2),
    ]
    assert all(s.step == "report_further" for r in further for s in r.steps)


def test_it_does_not_classify_habitual_without_a_conference_attempt() -> None:
    found = evaluate(CA, history(TRUANT_THEN_TWO_MORE), AS_OF)
    habitual = _one(found, "habitual_truant")
    assert not habitual.counts
    assert habitual.reached_on == d("2025-10-02")  # three reports filed by then
    assert "48262" in habitual.blocked and habitual.steps == ()


def test_it_does_not_accept_a_conference_attempt_before_any_report() -> None:
    logged = {"conference_attempt": [d("2025-09-12")]}  # before the first report (9-18)
    assert not _one(
        evaluate(CA, history(TRUANT_THEN_TWO_MORE), AS_OF, logged), "habitual_truant"
    ).counts


def test_it_classifies_habitual_once_a_conference_attempt_follows_a_report() -> None:
    logged = {"conference_attempt": [d("2025-09-22")]}
    habitual = _one(evaluate(CA, history(TRUANT_THEN_TWO_MORE), AS_OF, logged), "habitual_truant")
    assert (habitual.counts, habitual.reached_on, habitual.occasions) == (True, d("2025-10-02"), 3)
    (sarb,) = habitual.steps
    assert (sarb.step, sarb.kind, sarb.citation) == ("sarb_referral", "may", "EC 48263")


def test_it_dates_habitual_on_the_school_day_the_late_attempt_was_logged() -> None:
    logged = {"conference_attempt": [d("2025-10-11")]}  # a Saturday
    habitual = _one(evaluate(CA, history(TRUANT_THEN_TWO_MORE), AS_OF, logged), "habitual_truant")
    assert habitual.counts and habitual.reached_on == d("2025-10-13")


CHRONIC = {
    d("2025-09-02"): "U",
    d("2025-09-03"): "U",
    d("2025-09-04"): "U",
    d("2025-09-05"): "U",
    d("2025-09-08"): "U",
}


def test_it_classifies_chronic_truant_only_when_every_earlier_step_was_logged() -> None:
    steps = {
        "report_truant": [d("2025-09-04")],
        "first_notice": [d("2025-09-05")],
        "conference_attempt": [d("2025-09-05")],
    }
    found = evaluate(CA, history(CHRONIC), AS_OF, steps)
    chronic = _one(found, "chronic_truant")
    assert chronic.counts and chronic.reached_on == d("2025-09-08")
    assert chronic.occasions == 1.0  # 5 unexcused of 5 enrolled days
    missing = {k: v for k, v in steps.items() if k != "first_notice"}
    blocked = _one(evaluate(CA, history(CHRONIC), AS_OF, missing), "chronic_truant")
    assert not blocked.counts and "48260.5" in blocked.blocked


def test_it_measures_chronic_truancy_from_the_enrollment_date() -> None:
    # Joined in March: 2 unexcused days of ~20 enrolled (10%) after truancy steps were logged.
    marks = {
        d("2026-03-02"): "U",
        d("2026-03-03"): "U",
        d("2026-03-04"): "U",
        d("2026-03-05"): ("U", 40),
        d("2026-03-06"): ("U", 40),
    }
    logged = {
        "report_truant": [d("2026-03-04")],
        "first_notice": [d("2026-03-04")],
        "conference_attempt": [d("2026-03-04")],
    }
    h = history(marks, enrolled_from=d("2026-03-02"))
    chronic = _one(evaluate(CA, h, AS_OF, logged), "chronic_truant")
    assert chronic.reached_on == d("2026-03-06")
    assert abs(chronic.occasions - (3 + 2 * 40 / 360) / 5) < 1e-9
