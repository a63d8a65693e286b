"""Permission-matrix rows for the import pages (district admins only)."""

from __future__ import annotations

from typing import Any

from attend.test import only

MATRIX: dict[str, tuple[Any, dict[str, int]]] = {
    "imports:upload": (lambda t: {}, only({"dana": 200, "nina": 200})),
    # Dana's import job: another district's admin is answered as if it did not exist.
    "imports:job": (lambda t: {"pk": t.import_job.pk}, only({"dana": 200, "nina": 404})),
}


def setup(cls: Any) -> None:
    from attend.jobs.actions import create_job

    cls.import_job = create_job(kind="import.edfi", title="Ed-Fi import", created_by=cls.dana)
