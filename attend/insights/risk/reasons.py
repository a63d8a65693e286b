"""Plain-word reasons from LightGBM contributions (`pred_contrib`), with their evidence.

Only the features named here can become a reason; demographics are never among them, even
when a district turns them on as model inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

Row = Mapping[str, Any]


def _n(value: Any) -> str:
    number = float(value)
    return f"{number:.0f}" if number == int(number) else f"{number:.1f}"


def _plural(value: Any, word: str) -> str:
    return f"{_n(value)} {word}" + ("" if float(value) == 1 else "s")


def _recent(row: Row) -> str:
    return (
        f"{_plural(row['abs_20'], 'absence')} in the last 20 school days "
        f"({_n(row['abs_10'])} in the last 10)"
    )


def _last(row: Row) -> str:
    if float(row["days_since_absence"]) == 0:
        return "absent on the most recent school day"
    return f"last absence {_n(row['days_since_absence'])} school days ago"


def _ytd(row: Row) -> str:
    rate = 100 * float(row["abs_rate_ytd"])
    return (
        f"absent {rate:.1f}% of enrolled days so far "
        f"({_n(row['abs_ytd'])} of {_n(row['enrolled_days'])})"
    )


def _streak(row: Row) -> str:
    if row["current_streak"]:
        return f"absent the last {_n(row['current_streak'])} school days in a row"
    return f"a run of {_n(row['longest_streak'])} school days absent in a row this year"


# Family of features → (sentence builder, features that feed it).
FAMILIES: dict[str, tuple[Callable[[Row], str], tuple[str, ...]]] = {
    "recent": (
        _recent,
        (
            "abs_10",
            "abs_20",
            "abs_40",
            "rate_10",
            "rate_20",
            "rate_40",
            "proj_gap_20",
            "proj_gap_40",
        ),
    ),
    "ytd": (
        _ytd,
        (
            "abs_ytd",
            "abs_rate_ytd",
            "budget_used",
            "ever_chronic",
            "month_trigger",
            "headroom",
            "proj_gap_ytd",
        ),
    ),
    "unexcused": (
        lambda r: f"{_plural(r['unexcused_ytd'], 'unexcused absence')} this year",
        ("unexcused_ytd",),
    ),
    "streak": (_streak, ("current_streak", "longest_streak")),
    "weekday": (
        lambda r: (
            f"{_plural(r['monfri_abs'], 'absence')} on Mondays or Fridays "
            f"({100 * float(r['monfri_share']):.0f}% of full-day absences)"
        ),
        ("monfri_abs", "monfri_share"),
    ),
    "breaks": (
        lambda r: f"{_plural(r['break_abs'], 'absence')} on the day before or after a school break",
        ("break_abs",),
    ),
    "tardy": (
        lambda r: (
            f"{_n(r['tardy_20'])} late arrivals or early departures in the last 20 "
            f"school days ({_n(r['tardy_ytd'])} this year)"
        ),
        ("tardy_20", "tardy_ytd"),
    ),
    "skipping": (
        lambda r: (
            f"missed classes while present on {_n(r['skip_days_20'])} of the last 20 "
            f"school days ({_n(r['skip_days_ytd'])} days this year)"
        ),
        ("skip_days_20", "skip_days_ytd"),
    ),
    "mobility": (
        lambda r: (
            f"new at this school: enrolled {_n(r['enrolled_days'])} school days ago"
            + (f", {_n(r['n_schools'])} schools this year" if float(r["n_schools"]) > 1 else "")
        ),
        ("enrolled_days", "days_since_entry", "n_schools"),
    ),
    "last_absence": (
        _last,
        ("days_since_absence",),
    ),
}
ACTIONABLE = {feature for _, features in FAMILIES.values() for feature in features}


def top_families(contributions: np.ndarray, columns: list[str], top: int = 3) -> list[list[str]]:
    """The `top` families pushing each row's risk up, largest first.

    1. Sum each family's contributions (the last column of `pred_contrib` is the bias).
    2. Keep families that push the risk up, largest first.
    """
    index = {name: i for i, name in enumerate(columns)}
    names = list(FAMILIES)
    family_sums = np.column_stack(
        [
            contributions[:, [index[f] for f in FAMILIES[name][1] if f in index]].sum(axis=1)
            for name in names
        ]
    )
    order = np.argsort(-family_sums, axis=1)[:, :top]
    return [[names[j] for j in order[i] if family_sums[i, j] > 0] for i in range(len(order))]


def sentences(families: list[list[str]], rows: pd.DataFrame) -> list[list[str]]:
    """Each family in words, with the row's own numbers as evidence."""
    wanted = sorted({f for family in FAMILIES.values() for f in family[1]} & set(rows.columns))
    records = cast(list[dict[str, Any]], rows[wanted].to_dict("records"))
    return [
        [FAMILIES[name][0](record) for name in names]
        for names, record in zip(families, records, strict=True)
    ]


def explain(
    contributions: np.ndarray, columns: list[str], rows: pd.DataFrame, top: int = 3
) -> list[str]:
    """Top `top` reasons per row in words, joined with "; "."""
    said = sentences(top_families(contributions, columns, top), rows)
    return ["; ".join(parts) for parts in said]
