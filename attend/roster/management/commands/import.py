"""`attend import edfi|oneroster|csv …`: bring in what a district already has.

Every run is a Job, prints one summary line (`created N, updated M, unchanged U, errors E`),
and exits non-zero — having written nothing — when any record is invalid, unless
`--skip-invalid` asks to write the valid records and keep the report.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from attend.roster.importers.common import ImportFailed
from attend.roster.importers.run import ImportResult

QUALITY_SHOWN = 20


class Command(BaseCommand):
    help = "Import Ed-Fi (lake folder, XML or API), OneRoster CSV, or a SIS attendance export."

    def add_arguments(self, parser: ArgumentParser) -> None:
        formats = parser.add_subparsers(dest="format", required=True)
        edfi = formats.add_parser("edfi", help="Ed-Fi lake folder, XML interchanges, or API")
        edfi.add_argument("path", nargs="?", help="lake folder or XML folder/file")
        edfi.add_argument("--api", metavar="BASE_URL", help="Ed-Fi API base URL instead of a path")
        edfi.add_argument("--key", help="API client key")
        edfi.add_argument("--secret", help="API client secret")
        edfi.add_argument("--school-year", type=int, help="API school year (Ed-Fi ending year)")
        edfi.add_argument("--full", action="store_true", help="API: ignore the last change version")
        oneroster = formats.add_parser("oneroster", help="OneRoster 1.1/1.2 CSV folder or zip")
        oneroster.add_argument("path")
        csv = formats.add_parser("csv", help="SIS daily attendance export (CSV or XLSX)")
        csv.add_argument("path")
        csv.add_argument("--profile", required=True, help="profile name or path to a .toml")
        csv.add_argument(
            "--replace-range",
            nargs="?",
            const="",
            metavar="FROM:TO",
            help="the export is complete for these dates (default: its first to last date): "
            "events missing from it are recorded as deleted, with history",
        )
        for sub in (edfi, oneroster, csv):
            sub.add_argument(
                "--no-rules",
                action="store_true",
                help="do not run the state truancy rules for the students this import changed",
            )
            sub.add_argument(
                "--skip-invalid",
                action="store_true",
                help="write the valid records, report the invalid (default: all or nothing)",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = self._run(options)
        except ImportFailed as failed:
            self._report(failed.result)
            raise CommandError(
                "nothing was written (use --skip-invalid to keep the valid records)"
            ) from None
        except (FileNotFoundError, ValueError) as bad:
            raise CommandError(str(bad)) from None
        rules = None
        if not options["no_rules"] and result.written and not result.changed_nothing:
            rules = self._rules(result)
        self._report(result, rules)

    def _rules(self, result: ImportResult) -> str:
        """New classifications and due steps reach the worklists right after the data."""
        from django.utils import timezone

        from attend.cases.actions import rules_line, run_rules_job

        job = run_rules_job(
            as_of=timezone.localdate(), since=result.job.started_at, why=f"import {result.job.pk}"
        )
        return rules_line(job.counts) + f" (job {job.pk})"

    def _run(self, options: dict[str, Any]) -> ImportResult:
        from attend.roster import actions

        skip = options["skip_invalid"]
        if options["format"] == "oneroster":
            return actions.import_oneroster(path=options["path"], by=None, skip_invalid=skip)
        if options["format"] == "csv":
            return actions.import_sis_csv(
                path=options["path"],
                profile=options["profile"],
                by=None,
                skip_invalid=skip,
                replace_range=options.get("replace_range"),
            )
        if options.get("api"):
            return self._api(options)
        if not options.get("path"):
            raise CommandError("give a PATH or --api BASE_URL")
        return actions.import_edfi(path=options["path"], by=None, skip_invalid=skip)

    def _api(self, options: dict[str, Any]) -> ImportResult:
        from attend.roster import actions

        if not (options.get("key") and options.get("secret")):
            raise CommandError("--api needs --key and --secret")
        return actions.sync_edfi_api(
            base_url=options["api"],
            key=options["key"],
            secret=options["secret"],
            school_year=options.get("school_year"),
            full=options["full"],
            by=None,
            skip_invalid=options["skip_invalid"],
        )

    def _report(self, result: ImportResult, rules: str | None = None) -> None:
        """Problems, data quality and corrections, then the rules' line; the import's summary
        line is always the last one, for scripts that read it."""
        for line in result.errors:
            self.stderr.write(line)
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.quality_kinds.items()))
        if kinds:
            self.stdout.write(f"data quality: {kinds} (job {result.job.pk})")
            for line in result.quality[:QUALITY_SHOWN]:
                self.stdout.write(f"  {line}")
        if result.corrections:
            self.stdout.write(f"corrections: {result.corrections} (previous values kept)")
        if result.deleted:
            self.stdout.write(f"deleted: {result.deleted} (kept as history, flagged for review)")
        if result.written and result.changed_nothing:
            self.stdout.write("nothing changed: this data was already imported")
        if rules:
            self.stdout.write(rules)
        self.stdout.write(result.summary())
