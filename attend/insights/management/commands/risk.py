"""`attend risk train|score|activate|retire|report|replicate` — the early-warning model from
the shell."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

SHARED_EWS = Path(settings.BASE_DIR).parent / "shared" / "data" / "ews"


LABELS = {"30-day": "label", "year-end": "label_year_end"}


def _options(label: str = "label") -> Any:
    from attend.insights.risk import Options

    bowers = Path(
        getattr(
            settings,
            "ATTEND_RISK_BOWERS_CSV",
            SHARED_EWS / "ews-indicator-accuracy" / "BowersEWSReviewData.csv",
        )
    )
    return Options(
        share=float(getattr(settings, "ATTEND_RISK_SHARE", 0.05)),
        horizon=int(getattr(settings, "ATTEND_RISK_HORIZON", 30)),
        demographics=bool(getattr(settings, "ATTEND_RISK_DEMOGRAPHICS", False)),
        bowers_csv=bowers if bowers.is_file() else None,
        label=label,
    )


def _district(lea_id: str | None) -> Any:
    """The named district (None when no id is given)."""
    from attend.roster.models import District

    if not lea_id:
        return None
    found = District.objects.filter(lea_id=lea_id).first()
    if found is None:
        raise CommandError(f"no district with LEA id {lea_id}")
    return found


def _models_dir() -> Path:
    return Path(settings.VAR_DIR) / "models"


class Command(BaseCommand):
    help = "Chronic-absence risk: train a run, score a date, print a run's card, replicate OULAD."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        tr = sub.add_parser("train", help="train, evaluate and write a run with its model card")
        tr.add_argument("--edfi", type=Path, required=True, help="lake-mode folder")
        tr.add_argument("--as-of", type=date.fromisoformat, default=None)
        tr.add_argument("--models-dir", type=Path, default=None)
        tr.add_argument("--label", choices=list(LABELS), default="30-day")
        tr.add_argument("--district", default=None, help="LEA id to register the run for")
        sc = sub.add_parser(
            "score",
            help="score every enrolled student as of a date: into the database (a Job: "
            "scores and watch-list flags for each active model) or, with --edfi, a CSV",
        )
        sc.add_argument("--edfi", type=Path, default=None, help="lake folder (CSV mode)")
        sc.add_argument("--as-of", type=date.fromisoformat, default=None)
        sc.add_argument("--out", type=Path, default=None, help="CSV to write (with --edfi)")
        sc.add_argument("--run", type=Path, default=None, help="run folder (default: latest)")
        sc.add_argument("--district", default=None, help="LEA id (default: every district)")
        for name, text in (("activate", "make a run the active model"), ("retire", "retire it")):
            st = sub.add_parser(name, help=text)
            st.add_argument("run_id")
            st.add_argument("--by", default=None, help="username recorded as the actor")
        rp = sub.add_parser("report", help="print a run's headline numbers and card path")
        rp.add_argument("run_dir", type=Path)
        rl = sub.add_parser("replicate", help="replicate the design on a public dataset")
        rl.add_argument("dataset", choices=["oulad"])
        rl.add_argument("--data", type=Path, default=SHARED_EWS / "oulad")
        rl.add_argument("--demographics", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _progress(self) -> Any:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())

    def _train(self, options: dict[str, Any]) -> None:
        """A Job row (with or without a district), shown here as a spinner."""
        from attend.insights.risk import headline, store
        from attend.insights.risk.app import JobFailed, train_job

        models_dir = options["models_dir"] or _models_dir()
        district = _district(options["district"])
        with self._progress() as bar:
            task = bar.add_task("risk train", total=None)
            try:
                job, folder, version = train_job(
                    edfi=options["edfi"],
                    models_dir=models_dir,
                    as_of=options["as_of"],
                    options=_options(LABELS[options["label"]]),
                    district=district,
                    watch=lambda text: bar.update(task, description=text),
                )
            except JobFailed as error:
                raise CommandError(str(error)) from error
        self.stdout.write("\n".join(headline(store.load(folder))))
        self.stdout.write(f"run folder: {folder}\nmodel card: {folder / 'card.md'}")
        self.stdout.write(
            f"job {job.pk} · " + ", ".join(f"{k} {v:,}" for k, v in job.counts.items())
        )
        if version is None:
            self.stdout.write("not registered: pass --district to register it for a district")
            return
        assert district is not None
        self.stdout.write(
            f"registered for {district.name} as model version {version.pk} (trained); "
            f"`attend risk activate {version.run_id}` makes it score nightly"
        )

    def _score(self, options: dict[str, Any]) -> None:
        if options["edfi"] is None:
            self._score_database(options)
            return
        if options["out"] is None or options["as_of"] is None:
            raise CommandError("--edfi scores into a CSV: pass --as-of and --out")
        self._score_csv(options)

    def _score_database(self, options: dict[str, Any]) -> None:
        from django.utils import timezone

        from attend.insights.actions import RiskError
        from attend.insights.models import ModelVersion
        from attend.insights.risk.app import score_district
        from attend.roster.models import District

        as_of = options["as_of"] or timezone.localdate()
        if options["district"]:
            districts = [_district(options["district"])]
        else:
            # Every district with an active model: the nightly job scores them all.
            active = ModelVersion.objects.filter(status="active").values("district_id")
            districts = list(District.objects.filter(pk__in=active))
        if not districts:
            raise CommandError("no active risk model: `attend risk activate RUN_ID` first")
        for district in districts:
            try:
                job = score_district(district=district, as_of=as_of)
            except RiskError as error:
                raise CommandError(str(error)) from error
            counts = ", ".join(f"{k} {v:,}" for k, v in job.counts.items())
            self.stdout.write(f"{district.name} as of {as_of}: job {job.pk} · {counts}")

    def _score_csv(self, options: dict[str, Any]) -> None:
        import json

        from attend.insights.risk import score_date, store

        run_dir = options["run"] or store.latest(_models_dir())
        if run_dir is None:
            raise CommandError("no trained run: run `attend risk train` first or pass --run")
        with self._progress() as bar:
            task = bar.add_task("risk score", total=None)
            scored = score_date(
                options["edfi"],
                run_dir,
                options["as_of"],
                share=_options().share,
                progress=lambda text: bar.update(task, description=text),
            )
        scored["reason_list"] = [json.dumps(r) if r else "" for r in scored["reason_list"]]
        scored.to_csv(options["out"], index=False)
        flagged = int(scored["flagged"].sum())
        self.stdout.write(
            f"scored {len(scored):,} students, flagged {flagged:,} → {options['out']}"
        )

    def _activate(self, options: dict[str, Any]) -> None:
        self._move(options, "active")

    def _retire(self, options: dict[str, Any]) -> None:
        self._move(options, "retired")

    def _move(self, options: dict[str, Any], to: str) -> None:
        from attend.accounts.models import User
        from attend.insights.actions import RiskError, change_model_status
        from attend.insights.models import ModelVersion

        version = ModelVersion.objects.filter(run_id=options["run_id"]).first()
        if version is None:
            raise CommandError(f"no registered model version {options['run_id']}")
        by = User.objects.filter(username=options["by"]).first() if options["by"] else None
        try:
            change_model_status(version=version, to=to, by=by, note="from the shell")
        except RiskError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"model version {version.run_id} is now {version.status}")

    def _report(self, options: dict[str, Any]) -> None:
        from attend.insights.risk.app import JobFailed, report_job

        folder = options["run_dir"]
        try:
            job, lines = report_job(folder=folder)
        except JobFailed as error:
            raise CommandError(str(error)) from error
        self.stdout.write("\n".join(lines))
        self.stdout.write(f"model card: {folder / 'card.md'}\njob {job.pk}")

    def _replicate(self, options: dict[str, Any]) -> None:
        from attend.insights.risk.oulad import replicate

        if not (options["data"] / "studentInfo.csv").is_file():
            raise CommandError(f"OULAD not found in {options['data']}")
        result = replicate(options["data"], demographics=options["demographics"])
        self.stdout.write(result.line())
