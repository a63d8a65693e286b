"""Per-student metrics in straightforward vectorised pandas: the benchmark's baseline.

It does what a careful analyst would write first: expand every enrollment into its school days
(a student × day frame), merge the resolved events onto it and group. Same rules, same columns as
`metrics.student_metrics`; no patterns, aggregates or quality report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .metrics import METRIC_COLUMNS
from .schema import (
    ABSENCE_CATEGORIES,
    CATEGORIES,
    EARLY_DEPARTURE,
    EXCUSED,
    IGNORED_EXIT_CODES,
    SEVERITY,
    TARDY,
    UNEXCUSED,
)
from .settings import MICRO, Policy

__all__ = ["pandas_metrics"]

KEYS = ["student_id", "school_id", "school_year"]


def pandas_metrics(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: date,
    policy: Policy | None = None,
    chunk_students: int | None = None,
) -> pd.DataFrame:
    """Metrics from normalised pandas frames (`school_days`, `enrollments`, `events`).

    1. Number the school days; find each school-year's cut (rule 3).
    2. Expand enrollments into enrolled school days, once per day (rule 2).
    3. Resolve each day's events by severity (rules 5-8) and merge them onto the days.
    4. Group per student × school × year; streaks by gaps and islands.

    With `chunk_students`, steps 2-4 run on that many students at a time (the student × day
    frame of a million students does not fit in memory); the result is the same.
    """
    policy = policy or Policy()
    calendar = _calendar(tables["school_days"])
    events = _events(tables["events"], as_of, policy)
    cuts = _cuts(calendar, events, tables, as_of, policy)
    enrollments = tables["enrollments"]
    if chunk_students is None:
        return _student_metrics(enrollments, events, calendar, cuts, as_of, policy)
    codes, _ = pd.factorize(enrollments["student_id"])
    chunk_of = pd.Series(codes // chunk_students, index=enrollments["student_id"])
    chunk_of = chunk_of[~chunk_of.index.duplicated()]
    event_chunk = events["student_id"].map(chunk_of)
    parts = [
        _student_metrics(
            enrollments[codes // chunk_students == n],
            events[event_chunk == n],
            calendar,
            cuts,
            as_of,
            policy,
        )
        for n in range(int(codes.max()) // chunk_students + 1 if len(codes) else 0)
    ]
    if not parts:
        return _student_metrics(enrollments, events, calendar, cuts, as_of, policy)
    return pd.concat(parts).sort_values(
        ["school_year", "school_id", "student_id"], ignore_index=True
    )


def _student_metrics(
    enrollments: pd.DataFrame,
    events: pd.DataFrame,
    calendar: pd.DataFrame,
    cuts: pd.DataFrame,
    as_of: date,
    policy: Policy,
) -> pd.DataFrame:
    days = _enrolled_days(enrollments, calendar, policy)
    days = days.merge(cuts, on=["school_id", "school_year"])
    days["counted"] = days["date"] <= days["cut"]
    resolved = _resolve(events, calendar)
    counted = days[days["counted"]].merge(resolved, on=[*KEYS, "date"], how="left")
    return _metrics(days, counted, calendar, as_of, policy)


def _calendar(school_days: pd.DataFrame) -> pd.DataFrame:
    cal = school_days[["school_id", "date", "school_year"]].drop_duplicates()
    cal = cal.assign(date=pd.to_datetime(cal["date"])).sort_values(["school_id", "date"])
    return cal


def _events(events: pd.DataFrame, as_of: date, policy: Policy) -> pd.DataFrame:
    ev = events.copy()
    ev["date"] = pd.to_datetime(ev["date"])
    canon = {c.lower(): c for c in CATEGORIES}
    ev["category"] = ev["category"].fillna("").str.strip().str.lower().map(canon)
    ev = ev[ev["category"].notna() & (ev["date"] <= pd.Timestamp(as_of))]
    if policy.ignore_recorded_after_as_of and "recorded_at" in ev:
        limit = pd.Timestamp(as_of) + pd.Timedelta(days=1)
        ev = ev[ev["recorded_at"].isna() | (ev["recorded_at"] < limit)]
    duration = (ev["duration"] * MICRO).round().clip(0, MICRO)
    default = np.where(ev["category"] == "Partial", policy.micro(policy.partial_default), MICRO)
    absent = duration.fillna(pd.Series(default, index=ev.index))
    ev["absent"] = np.where(ev["category"].isin(ABSENCE_CATEGORIES), absent, 0).astype("int64")
    ev["severity"] = ev["category"].map(SEVERITY).astype("int64")
    return ev


def _enrolled_days(
    enrollments: pd.DataFrame, calendar: pd.DataFrame, policy: Policy
) -> pd.DataFrame:
    en = enrollments.copy()
    exit_type = en["exit_type"].fillna("").str.strip().str.lower()
    en["entry_date"] = pd.to_datetime(en["entry_date"])
    en["end"] = pd.to_datetime(en["exit_date"])
    en = en[
        ~exit_type.isin(IGNORED_EXIT_CODES) & (en["end"].isna() | (en["end"] >= en["entry_date"]))
    ]
    if not policy.exit_inclusive:
        en["end"] = en["end"] - pd.Timedelta(days=1)
    merged = en[["student_id", "school_id", "entry_date", "end"]].merge(calendar, on="school_id")
    inside = (merged["date"] >= merged["entry_date"]) & (
        merged["end"].isna() | (merged["date"] <= merged["end"])
    )
    return merged.loc[inside, [*KEYS, "date"]].drop_duplicates()


def _cuts(
    calendar: pd.DataFrame,
    events: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    as_of: date,
    policy: Policy,
) -> pd.DataFrame:
    bounds = (
        calendar.groupby(["school_id", "school_year"])["date"].agg(["min", "max"]).reset_index()
    )
    stamp = pd.Timestamp(as_of)
    bounds["cut"] = stamp
    if not policy.cut_at_last_reported:
        return bounds[["school_id", "school_year", "cut"]]
    reported = [tables["events"][["school_id", "date"]]]
    if "section_events" in tables:
        reported.append(tables["section_events"][["school_id", "date"]])
    dates = pd.concat(reported).assign(date=lambda f: pd.to_datetime(f["date"]))
    dates = dates[dates["date"] <= stamp].merge(calendar, on=["school_id", "date"])
    last = dates.groupby(["school_id", "school_year"])["date"].max().rename("last").reset_index()
    bounds = bounds.merge(last, on=["school_id", "school_year"], how="left")
    running = (bounds["min"] <= stamp) & (stamp <= bounds["max"])
    last_or_none = bounds["last"].fillna(bounds["min"] - timedelta(days=1))
    # Before the year ends the cut is the last reported day, never past the as-of date.
    bounds.loc[running, "cut"] = last_or_none[running].clip(upper=stamp)  # type: ignore[index,call-overload]
    return bounds[["school_id", "school_year", "cut"]]


def _resolve(events: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    ev = events.rename(columns={"school_year": "event_year"}).merge(
        calendar, on=["school_id", "date"]
    )
    ev = ev[ev["event_year"].isna() | (ev["event_year"] == ev["school_year"])]
    absence = ev["category"].isin(ABSENCE_CATEGORIES)
    ev["pack"] = np.where(absence, ev["severity"] * 10_000_000 + ev["absent"], -1)
    ev["tardy"] = ev["category"].isin([TARDY, EARLY_DEPARTURE])
    day = (
        ev.groupby([*KEYS, "date"]).agg(pack=("pack", "max"), tardy=("tardy", "any")).reset_index()
    )
    day["absent"] = np.where(day["pack"] >= 0, day["pack"] % 10_000_000, 0)
    day["absence_severity"] = np.where(day["pack"] >= 0, day["pack"] // 10_000_000, 0)
    day["known"] = True
    return day.drop(columns="pack")


def _metrics(
    days: pd.DataFrame, counted: pd.DataFrame, calendar: pd.DataFrame, as_of: date, policy: Policy
) -> pd.DataFrame:
    planned = days.groupby(KEYS).size().rename("planned")
    counted = counted.sort_values([*KEYS, "date"])
    counted["known"] = counted["known"].fillna(False).astype(bool)
    counted["absent"] = counted["absent"].fillna(0).astype("int64")
    counted["tardy"] = counted["tardy"].fillna(False).astype(bool)
    sev = counted["absence_severity"].fillna(0)
    counted["excused"] = np.where(sev == SEVERITY[EXCUSED], counted["absent"], 0)
    counted["unexcused"] = np.where(sev == SEVERITY[UNEXCUSED], counted["absent"], 0)
    grouped = counted.groupby(KEYS).agg(
        cal_days=("date", "size"),
        known_days=("known", "sum"),
        absent=("absent", "sum"),
        excused=("excused", "sum"),
        unexcused=("unexcused", "sum"),
        tardy_days=("tardy", "sum"),
    )
    frame = pd.DataFrame(planned).join(grouped, how="left").join(_streaks(counted, policy))
    frame = frame.fillna(0).reset_index()
    first = calendar.groupby(["school_id", "school_year"])["date"].min().reset_index()
    started = first.loc[first["date"] <= pd.Timestamp(as_of), ["school_id", "school_year"]]
    frame = frame.merge(started, on=["school_id", "school_year"])
    return _derive(frame, as_of, policy)


def _streaks(counted: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    counted = counted.assign(e_idx=counted.groupby(KEYS).cumcount() + 1)
    last = counted.groupby(KEYS)["e_idx"].transform("max")
    absent = counted[counted["absent"] >= policy.micro(policy.absence_day_min_fraction)].copy()
    absent["island"] = absent["e_idx"] - absent.groupby(KEYS).cumcount()
    runs = absent.groupby([*KEYS, "island"]).agg(length=("e_idx", "size"), end=("e_idx", "max"))
    runs = runs.reset_index()
    runs = runs.merge(counted.assign(last=last)[[*KEYS, "last"]].drop_duplicates(), on=KEYS)
    longest = runs.groupby(KEYS)["length"].max().rename("longest")
    current = runs[runs["end"] == runs["last"]].groupby(KEYS)["length"].max().rename("current")
    return pd.concat([longest, current], axis=1)


def _derive(frame: pd.DataFrame, as_of: date, policy: Policy) -> pd.DataFrame:
    positive = frame["school_id"].map(policy.positive_reporting).astype(bool)
    enrolled = np.where(positive, frame["known_days"], frame["cal_days"]).astype("int64")
    absent = frame["absent"].astype("int64")
    present = enrolled * MICRO - absent
    eligible = enrolled >= policy.eligibility_min_days
    if policy.eligibility_requires_present_day:
        eligible &= present > 0
    ratio = policy.chronic_threshold
    chronic = absent * ratio.denominator >= enrolled * MICRO * ratio.numerator
    out = pd.DataFrame(
        {
            "student_id": frame["student_id"],
            "school_id": frame["school_id"],
            "school_year": frame["school_year"].astype("int64"),
            "as_of": as_of,
            "enrolled_days": enrolled,
            "absent_days": absent / MICRO,
            "excused_absent_days": frame["excused"].astype("int64") / MICRO,
            "unexcused_absent_days": frame["unexcused"].astype("int64") / MICRO,
            "tardy_days": frame["tardy_days"].astype("int64"),
            "present_days": present / MICRO,
            "attendance_rate": np.where(
                enrolled > 0, present / np.maximum(enrolled * MICRO, 1), np.nan
            ),
            "eligible": eligible,
            "chronic": pd.Series(chronic).where(eligible, None),
            "tier": pd.Series(_tiers(present, enrolled * MICRO, policy)).where(eligible, None),
            "longest_absence_streak": frame["longest"].astype("int64"),
            "current_absence_streak": frame["current"].astype("int64"),
            "absence_budget": (
                (frame["planned"].astype("int64") * ratio.numerator // ratio.denominator) * MICRO
                - absent
            )
            / MICRO,
        }
    )
    return out[list(METRIC_COLUMNS)].sort_values(
        ["school_year", "school_id", "student_id"], ignore_index=True
    )


def _tiers(present: np.ndarray, whole: np.ndarray, policy: Policy) -> np.ndarray:
    def above(ratio: object) -> np.ndarray:
        r = ratio  # a Fraction
        return present * r.denominator > whole * r.numerator  # type: ignore[attr-defined,no-any-return]

    return np.select(
        [
            above(policy.tier_satisfactory_above),
            above(policy.tier_at_risk_above),
            above(policy.tier_moderate_above),
        ],
        ["satisfactory", "at_risk", "moderate_chronic"],
        default="severe_chronic",
    )
