"""State truancy rules as data: effective-dated rule sets (TOML) and a pure-Python engine.

Nothing here imports Django, so the engine runs in a replay over a lake folder, in a worker, or
in a test, the same way.
"""

from attend.cases.rules.engine import DueStep, Reached, evaluate
from attend.cases.rules.history import DayRecord, History
from attend.cases.rules.loader import RuleSetError, load_rule_set, load_rule_set_file
from attend.cases.rules.model import Action, Guard, Rule, RuleSet, TemplateVersion, Window

__all__ = [
    "Action",
    "DayRecord",
    "DueStep",
    "Guard",
    "History",
    "Reached",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "TemplateVersion",
    "Window",
    "evaluate",
    "load_rule_set",
    "load_rule_set_file",
]
