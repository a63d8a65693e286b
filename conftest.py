"""Repository-wide pytest configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The conformance data beside the checkout; skipped on machines that do not have it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            "../shared/data not present: conformance data is only in CI and the dev machine"
        )
    return SHARED_DATA
