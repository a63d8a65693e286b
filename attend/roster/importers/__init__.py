"""Importers: Ed-Fi (lake folder, XML, API), OneRoster CSV and SIS exports, all through one
staged, checked, single-transaction write path. Entry points are in `attend.roster.actions`."""

from attend.roster.importers.batch import Batch, Events, Table
from attend.roster.importers.common import ImportFailed, Problem, Problems, Tally, summary_line
from attend.roster.importers.run import ImportResult

__all__ = [
    "Batch",
    "Events",
    "ImportFailed",
    "ImportResult",
    "Problem",
    "Problems",
    "Table",
    "Tally",
    "summary_line",
]
