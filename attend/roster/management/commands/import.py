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
        for sub in (edfi, oneroster, csv):
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
        self._report(result)

    def _run(self, options: dict[str, Any]) -> ImportResult:
        from attend.roster import actions

        skip = options["skip_invalid"]
        if options["format"] == "oneroster":
            return actions.import_oneroster(path=options["path"], by=None, skip_invalid=skip)
        if options["format"] == "csv":
            return actions.import_sis_csv(
                path=options["path"], profile=options["profile"], by=None, skip_invalid=skip
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

    def _report(self, result: ImportResult) -> None:
        for line in result.errors:
            self.stderr.write(line)
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.quality_kinds.items()))
        if kinds:
            self.stdout.write(f"data quality: {kinds} (job {result.job.pk})")
            for line in result.quality[:QUALITY_SHOWN]:
                self.stdout.write(f"  {line}")
        if result.corrections:
            self.stdout.write(f"corrections: {result.corrections} (previous values kept)")
        if result.written and result.changed_nothing:
            self.stdout.write("nothing changed: this data was already imported")
        self.stdout.write(result.summary())
