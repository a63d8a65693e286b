"""Roster writes: the import entry points (atomic, audited, each run a visible Job).

Each returns an `ImportResult` (`result.summary()` is the line to print) or raises
`ImportFailed` — carrying the same result, with every problem — when an all-or-nothing import
found an invalid record and therefore wrote nothing. `district` pins a run to one district
(the web upload does): records of another district are then refused.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attend.attendance.choices import Source
from attend.roster.importers.batch import Batch
from attend.roster.importers.run import ImportResult, open_job, run_import

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.jobs.models import Job
    from attend.roster.models import District

__all__ = ["import_edfi", "import_oneroster", "import_sis_csv", "sync_edfi_api"]

Reader = Callable[[Batch, Callable[[str], None]], None]


def _run(
    *,
    kind: str,
    title: str,
    source: str,
    reader: Reader,
    by: User | None,
    skip_invalid: bool,
    job: Job | None,
    district: District | None,
    params: dict[str, Any],
) -> ImportResult:
    params = {**params, "skip_invalid": skip_invalid}
    job = open_job(kind=kind, title=title, by=by, job=job, params=params)
    batch = Batch(source=source)
    try:
        with gc_paused():
            return run_import(
                job=job,
                by=by,
                batch=batch,
                reader=reader,
                skip_invalid=skip_invalid,
                district=district,
            )
    finally:
        batch.close()  # the staged events' embedded database and its spill folder


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import runs: it holds hundreds of thousands of
    staged rows, and every full collection walks all of them (a fifth of a large import's
    time) to find the few cycles it makes. Reference counting still frees everything else."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _existing(path: Path | str) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return path


def import_edfi(
    *,
    path: Path | str,
    by: User | None,
    skip_invalid: bool = False,
    job: Job | None = None,
    district: District | None = None,
) -> ImportResult:
    """Import an Ed-Fi lake folder (JSON/NDJSON/Parquet) or a folder/file of XML interchanges."""
    from attend.roster.importers.edfi_lake import read_lake, resource_files
    from attend.roster.importers.edfi_xml import read_xml

    path = _existing(path)
    lake = path.is_dir() and bool(resource_files(path))

    def reader(batch: Batch, say: Callable[[str], None]) -> None:
        (read_lake if lake else read_xml)(path, batch, say)

    return _run(
        kind="import.edfi",
        title=f"Ed-Fi import: {path.name}",
        source=Source.EDFI,
        reader=reader,
        by=by,
        skip_invalid=skip_invalid,
        job=job,
        district=district,
        params={"path": str(path)},
    )


def import_oneroster(
    *,
    path: Path | str,
    by: User | None,
    skip_invalid: bool = False,
    job: Job | None = None,
    district: District | None = None,
) -> ImportResult:
    """Import a OneRoster 1.1/1.2 CSV bundle (folder or zip)."""
    from attend.roster.importers.oneroster import read_oneroster

    path = _existing(path)
    return _run(
        kind="import.oneroster",
        title=f"OneRoster import: {path.name}",
        source=Source.ONEROSTER,
        reader=lambda batch, say: read_oneroster(path, batch, say),
        by=by,
        skip_invalid=skip_invalid,
        job=job,
        district=district,
        params={"path": str(path)},
    )


def import_sis_csv(
    *,
    path: Path | str,
    profile: str | Path,
    by: User | None,
    skip_invalid: bool = False,
    replace_range: str | None = None,
    job: Job | None = None,
    district: District | None = None,
) -> ImportResult:
    """Import a SIS daily attendance export (CSV or XLSX) through a profile (name or .toml).

    `replace_range` says the export is complete for a range of dates (`"FROM:TO"`, or `""`
    for the first to the last date in the file): events the ledger holds there, at the
    schools the export names, that the export lacks are recorded as deleted (with history).
    """
    from attend.roster.importers.sis_csv import load_profile, parse_span, read_sis_csv

    path = _existing(path)
    layout = load_profile(profile)
    span = parse_span(replace_range)
    return _run(
        kind="import.sis_csv",
        title=f"SIS attendance import: {path.name} ({layout.key})",
        source=Source.SIS_CSV,
        reader=lambda batch, say: read_sis_csv(path, layout, batch, say, replace=span),
        by=by,
        skip_invalid=skip_invalid,
        job=job,
        district=district,
        params={"path": str(path), "profile": str(profile), "replace_range": replace_range},
    )


def sync_edfi_api(
    *,
    base_url: str,
    key: str,
    secret: str,
    by: User | None,
    school_year: int | None = None,
    full: bool = False,
    skip_invalid: bool = False,
    job: Job | None = None,
    district: District | None = None,
) -> ImportResult:
    """Pull from an Ed-Fi API: everything the first time, then changes and deletes since the
    change version the last successful sync of this API reached (unless `full`)."""
    from attend.roster.importers.edfi_api import ApiSync

    sync = ApiSync(base_url=base_url, key=key, secret=secret, school_year=school_year, full=full)
    result = _run(
        kind="import.edfi_api",
        title=f"Ed-Fi API sync: {base_url}",
        source=Source.EDFI,
        reader=sync.read,
        by=by,
        skip_invalid=skip_invalid,
        job=job,
        district=district,
        params=sync.params(),
    )
    sync.finished(result)
    return result
