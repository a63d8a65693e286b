"""The district admin's import page: upload a file, watch its Job (progress, counts, problems).

Files up to `SYNC_BYTES` are imported during the request, so the page that follows already
shows the outcome; larger ones run in a background thread and the Job page polls (htmx) until
the Job finishes. A thread, not the worker, because an upload must start at once and the
import is one transaction either way; `attend worker` picks up nothing here.
"""

from __future__ import annotations

import shutil
import threading
import uuid
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.cases.actions import run_rules_job
from attend.jobs.actions import create_job, fail_job
from attend.jobs.choices import TERMINAL
from attend.jobs.models import Job
from attend.jobs.queries import jobs_for
from attend.roster import actions
from attend.roster.importers.common import ImportFailed
from attend.roster.importers.forms import UploadForm

SYNC_BYTES = 1024 * 1024
MAX_MEMBERS = 10_000
MAX_UNZIPPED = 4 * 1024 * 1024 * 1024
TITLES = {"edfi": "Ed-Fi", "oneroster": "OneRoster", "csv": "SIS attendance"}
# The Job kinds the actions use, so web and command-line runs of a format look alike.
KINDS = {"edfi": "import.edfi", "oneroster": "import.oneroster", "csv": "import.sis_csv"}


def import_jobs(user: User) -> Any:
    return jobs_for(user).filter(kind__startswith="import.")


@roles_required([Role.DISTRICT_ADMIN])
def upload(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = start(user, form.cleaned_data)
        return redirect("imports:job", pk=job.pk)
    jobs = import_jobs(user).select_related("created_by")[:20]
    return render(request, "roster/imports/upload.html", {"form": form, "jobs": jobs})


@roles_required([Role.DISTRICT_ADMIN])
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    job = get_object_or_404(import_jobs(user), pk=pk)
    htmx = getattr(request, "htmx", False)
    template = "roster/imports/job.html#status" if htmx else "roster/imports/job.html"
    context = {
        "job": job,
        "kinds": (job.counts or {}).get("by_kind", {}),
        "quality": _quality(job),
        "latest": _latest(job),
    }
    return render(request, template, context)


def _latest(job: Job) -> str:
    """The last progress line the import logged (`read students.ndjson: 50,000 records`)."""
    lines = job.log.strip().splitlines()
    return lines[-1] if lines else ""


def _quality(job: Job) -> dict[str, Any]:
    return (job.counts or {}).get("quality", {"kinds": {}, "items": []})


# ---------------------------------------------------------------------------------------------
# Running an upload


def start(user: User, data: dict[str, Any]) -> Job:
    """Save the upload, create its Job, and run it now (small) or in a thread (large)."""
    upload: UploadedFile = data["file"]
    folder = Path(settings.VAR_DIR) / "imports" / uuid.uuid4().hex
    path = save(upload, folder)
    params = {"file": upload.name, "kind": data["kind"], "profile": data.get("profile") or ""}
    job = create_job(
        kind=KINDS[data["kind"]],
        title=f"{TITLES[data['kind']]} upload: {upload.name}"[:200],
        created_by=user,
        params=params,
    )
    work = threading.Thread(target=run, args=(job, user, data, path, folder), daemon=True)
    if (upload.size or 0) <= SYNC_BYTES:
        run(job, user, data, path, folder, close=False)
    else:
        work.start()
    return job


def save(upload: UploadedFile, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(upload.name or "upload").name
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def run(
    job: Job, user: User, data: dict[str, Any], path: Path, folder: Path, close: bool = True
) -> None:
    """The import itself; the Job records the outcome, including a crash."""
    try:
        _dispatch(job, user, data, path)
    except ImportFailed:
        pass  # the Job already lists every problem
    except Exception as crash:
        job.refresh_from_db()
        if job.status not in TERMINAL:
            fail_job(job=job, reason=f"import stopped: {crash}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if close:
            connections.close_all()


def _dispatch(job: Job, user: User, data: dict[str, Any], path: Path) -> None:
    common = {
        "by": user,
        "skip_invalid": data["skip_invalid"],
        "job": job,
        "district": user.district,
    }
    if data["kind"] == "oneroster":
        result = actions.import_oneroster(path=path, **common)
    elif data["kind"] == "csv":
        result = actions.import_sis_csv(path=path, profile=data["profile"], **common)
    else:
        result = actions.import_edfi(path=edfi_folder(path), **common)
    if result.written and not result.changed_nothing:
        # The state truancy rules follow the data, as their own Job on the jobs page.
        run_rules_job(
            as_of=timezone.localdate(), since=job.started_at, by=user, why=f"import {job.pk}"
        )


def edfi_folder(path: Path) -> Path:
    """A zip is unpacked (flat, names only: no paths from the archive are trusted); a single
    file is imported from the folder it was saved in."""
    if path.suffix.lower() != ".zip":
        return path.parent
    target = path.parent / "unzipped"
    target.mkdir()
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED:
            raise ValueError("the zip holds too many or too large files")
        for member in members:
            name = Path(member.filename).name
            if name and not name.startswith("."):
                with archive.open(member) as source, (target / name).open("wb") as out:
                    shutil.copyfileobj(source, out)
    return target
