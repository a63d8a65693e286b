"""`attend risk train` and `attend risk report` as Job rows (house style 13): status, counts,
one progress line per stage, and a failed Job with the reason when the input is wrong."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command

from attend.insights.models import ModelVersion
from attend.insights.risk.pipeline import TRAIN_STAGES
from attend.insights.risk.testing import district_folder, trained_run
from attend.jobs.choices import JobStatus
from attend.jobs.models import Job
from attend.test import BaseTestCase


def _job_of(output: str) -> Job:
    found = re.search(r"job (\d+)", output)
    assert found, output
    return Job.objects.get(pk=int(found.group(1)))


class RiskJobTests(BaseTestCase):
    def setUp(self) -> None:
        self.models = Path(tempfile.mkdtemp(prefix="attend-risk-jobs-"))
        self.addCleanup(shutil.rmtree, self.models, ignore_errors=True)

    def _train(self, *extra: str) -> Job:
        out = io.StringIO()
        call_command(
            "risk",
            "train",
            "--edfi",
            str(district_folder()),
            "--models-dir",
            str(self.models),
            *extra,
            stdout=out,
        )
        return _job_of(out.getvalue())

    def _stages(self, job: Job) -> list[str]:
        return [line.split(":")[0] for line in job.log.splitlines()]

    def test_it_trains_for_a_district_as_a_finished_job(self) -> None:
        job = self._train("--district", self.district.lea_id)
        self.assertEqual((job.kind, job.status), ("risk_train", JobStatus.SUCCEEDED))
        self.assertEqual(job.params["district"], self.district.lea_id)
        version = ModelVersion.objects.get()
        self.assertEqual(self._stages(job)[:-1], list(TRAIN_STAGES))
        self.assertEqual(
            job.log.splitlines()[-1],
            f"registered for Riverside Unified as model version {version.pk} (trained)",
        )
        self.assertEqual((job.progress_done, job.progress_total), (8, 8))
        self.assertGreater(job.counts["examples"], 1000)
        self.assertGreater(job.counts["test examples"], 0)
        self.assertGreaterEqual(job.counts["folds"], 1)
        self.assertIn("fairness flags", job.counts)

    def test_it_trains_without_a_district_as_a_job_of_no_one(self) -> None:
        job = self._train()
        self.assertEqual(
            (job.status, job.created_by, job.params["district"]), ("succeeded", None, None)
        )
        self.assertEqual(self._stages(job), list(TRAIN_STAGES))
        self.assertEqual((job.progress_done, job.progress_total), (7, 7))
        self.assertFalse(ModelVersion.objects.exists())

    def test_it_fails_the_job_with_the_reason_when_the_lake_is_missing(self) -> None:
        missing = self.models / "no-lake"
        with self.assertRaises(CommandError) as raised:
            call_command("risk", "train", "--edfi", str(missing), "--models-dir", str(self.models))
        job = Job.objects.get(kind="risk_train")
        self.assertEqual(job.status, JobStatus.FAILED)
        self.assertIn(f"job {job.pk} failed", str(raised.exception))
        self.assertTrue(job.errors and job.errors[0].split(":")[0].endswith("Error"))
        self.assertEqual(job.transitions.last().note, job.errors[0])  # type: ignore[union-attr]

    def test_it_reports_a_run_as_a_finished_job(self) -> None:
        out = io.StringIO()
        call_command("risk", "report", str(trained_run()), stdout=out)
        job = _job_of(out.getvalue().split("model card:")[1])
        self.assertEqual((job.kind, job.status), ("risk_report", JobStatus.SUCCEEDED))
        self.assertEqual((job.progress_done, job.progress_total), (3, 3))
        self.assertIn("precision@k", job.log)
        self.assertTrue(job.log.splitlines()[-1].startswith("card: "))
        self.assertGreater(job.counts["examples"], 0)

    def test_it_fails_the_report_job_when_the_folder_is_not_a_run(self) -> None:
        with self.assertRaises(CommandError) as raised:
            call_command("risk", "report", str(self.models))
        job = Job.objects.get(kind="risk_report")
        self.assertEqual(job.status, JobStatus.FAILED)
        self.assertIn("is not a run folder (no run.json)", job.errors[0])
        self.assertIn(f"job {job.pk} failed", str(raised.exception))
