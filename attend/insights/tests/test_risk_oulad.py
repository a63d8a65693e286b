"""OULAD replication of the risk design (RISK.md): must at least match the reference AUC."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command


def test_it_replicates_oulad_at_day_60(shared_data: Path) -> None:
    folder = shared_data / "ews" / "oulad"
    if not (folder / "studentInfo.csv").is_file():
        pytest.skip("OULAD is not in ../shared/data/ews/oulad")
    out = StringIO()
    call_command("risk", "replicate", "oulad", "--data", str(folder), stdout=out)
    line = out.getvalue().strip()
    match = re.match(r"OULAD AUC (\d\.\d{3}) precision@k (\d\.\d{3}) \(k=(\d[\d,]*)\)", line)
    assert match, line
    assert float(match.group(1)) >= 0.76
    assert "demographics-only AUC" in line
