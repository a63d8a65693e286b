"""Load and validate rule-set TOML files into frozen dataclasses.

Validation is strict on purpose: a typo in a rule file must fail at load time with the file
and the rule named, never silently produce no notice.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attend.cases.rules.model import (
    BASES,
    KINDS,
    METRICS,
    REPEATS,
    UNITS,
    WINDOWS,
    Action,
    Guard,
    Rule,
    RuleSet,
    TemplateVersion,
    Window,
)

DATA_DIR = Path(__file__).resolve().parent / "data"


class RuleSetError(ValueError):
    pass


def _check(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise RuleSetError(f"{where}: {message}")


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise RuleSetError(f"{where}: not a date: {value!r}") from exc


def _versions(raw: list[Mapping[str, Any]], where: str) -> tuple[TemplateVersion, ...]:
    return tuple(
        TemplateVersion(
            version=str(v["version"]),
            valid_from=_date(v.get("from"), where),
            valid_to=_date(v.get("to"), where),
        )
        for v in raw
    )


def _action(raw: Mapping[str, Any], where: str) -> Action:
    where = f"{where} action {raw.get('id', '?')}"
    _check(raw.get("kind") in KINDS, where, f"kind must be one of {sorted(KINDS)}")
    for key in ("id", "label", "role", "channel"):
        _check(bool(raw.get(key)), where, f"missing {key}")
    return Action(
        id=raw["id"],
        label=raw["label"],
        kind=raw["kind"],
        role=raw["role"],
        channel=raw["channel"],
        deadline_school_days=raw.get("deadline_school_days"),
        template=raw.get("template", ""),
        template_versions=_versions(raw.get("template_versions", []), where),
        guards=tuple(raw.get("guards", ())),
        evidence=tuple(raw.get("evidence", ())),
        citation=raw.get("citation", ""),
    )


def _window(raw: Mapping[str, Any], where: str) -> Window:
    kind = raw.get("kind")
    _check(kind in WINDOWS, where, f"window kind must be one of {sorted(WINDOWS)}")
    size = int(raw.get("size", 0))
    _check(kind not in ("rolling_weeks", "rolling_months") or size > 0, where, "window size")
    return Window(kind=str(kind), size=size)


def _rule(raw: Mapping[str, Any], where: str) -> Rule:
    where = f"{where} rule {raw.get('id', '?')}"
    units = tuple(raw.get("units", ()))
    _check(raw.get("metric") in METRICS, where, f"metric must be one of {sorted(METRICS)}")
    _check(raw.get("metric") == "reports" or bool(units), where, "units required")
    _check(set(units) <= UNITS, where, f"units must be among {sorted(UNITS)}")
    _check(raw.get("basis", "unexcused") in BASES, where, f"basis must be one of {sorted(BASES)}")
    _check(raw.get("repeat", "once") in REPEATS, where, f"repeat must be one of {sorted(REPEATS)}")
    _check(float(raw.get("threshold", 0)) > 0, where, "threshold must be > 0")
    return Rule(
        id=raw["id"],
        classification=raw.get("classification", raw["id"]),
        citation=raw.get("citation", ""),
        units=units,
        basis=raw.get("basis", "unexcused"),
        window=_window(raw.get("window", {"kind": "school_year"}), where),
        metric=raw["metric"],
        threshold=float(raw["threshold"]),
        repeat=raw.get("repeat", "once"),
        report=bool(raw.get("report", False)),
        requires=tuple(raw.get("requires", ())),
        guards=tuple(Guard(**g) for g in raw.get("guards", ())),
        exempt_if=tuple(raw.get("exempt_if", ())),
        exempt_actions=tuple(_action(a, where) for a in raw.get("exempt_actions", ())),
        actions=tuple(_action(a, where) for a in raw.get("actions", ())),
        evidence=tuple(raw.get("evidence", ())),
        note=raw.get("note", ""),
    )


def _cross_check(rule_set: RuleSet, where: str) -> None:
    """Every `requires` names an earlier rule; every guard names a step of the set."""
    seen: set[str] = set()
    steps = {a.id for r in rule_set.rules for a in (*r.actions, *r.exempt_actions)}
    for rule in rule_set.rules:
        for needed in rule.requires:
            _check(needed in seen, where, f"rule {rule.id} requires unknown/later rule {needed}")
        for guard in rule.guards:
            _check(guard.step in steps, where, f"rule {rule.id} guard names unknown step")
        for action in rule.actions:
            unknown = set(action.guards) - steps
            _check(not unknown, where, f"action {action.id} guards unknown steps {unknown}")
        seen.add(rule.id)
    _check(
        len(steps) == sum(len(r.actions) + len(r.exempt_actions) for r in rule_set.rules),
        where,
        "step ids must be unique",
    )


def parse_rule_set(raw: Mapping[str, Any], where: str = "rule set") -> RuleSet:
    for key in ("jurisdiction", "version", "effective_from", "rules"):
        _check(key in raw, where, f"missing {key}")
    rule_set = RuleSet(
        jurisdiction=str(raw["jurisdiction"]).upper(),
        name=raw.get("name", raw["jurisdiction"]),
        version=str(raw["version"]),
        effective_from=_date(raw["effective_from"], where) or dt.date.min,
        effective_to=_date(raw.get("effective_to"), where),
        rules=tuple(_rule(r, where) for r in raw["rules"]),
        school_day_minutes=int(raw.get("school_day_minutes", 360)),
        sources=tuple(raw.get("sources", ())),
    )
    _cross_check(rule_set, where)
    return rule_set


def load_rule_set_file(path: Path) -> RuleSet:
    with path.open("rb") as handle:
        return parse_rule_set(tomllib.load(handle), where=path.name)


@functools.cache
def all_rule_sets(directory: Path = DATA_DIR) -> tuple[RuleSet, ...]:
    return tuple(load_rule_set_file(p) for p in sorted(directory.glob("*.toml")))


def load_rule_set(jurisdiction: str, on: dt.date, directory: Path = DATA_DIR) -> RuleSet:
    """The rule set of `jurisdiction` in force on `on` (effective-dated)."""
    for rule_set in all_rule_sets(directory):
        if rule_set.jurisdiction == jurisdiction.upper() and rule_set.in_force(on):
            return rule_set
    raise RuleSetError(f"no {jurisdiction.upper()} rule set in force on {on}")
