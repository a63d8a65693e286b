"""`attend risk train|score|report|replicate` — the early-warning model from the shell."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

SHARED_EWS = Path(settings.BASE_DIR).parent / "shared" / "data" / "ews"


def _options() -> Any:
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
    )


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
        sc = sub.add_parser("score", help="score every enrolled student as of a date")
        sc.add_argument("--edfi", type=Path, required=True)
        sc.add_argument("--as-of", type=date.fromisoformat, required=True)
        sc.add_argument("--out", type=Path, required=True)
        sc.add_argument("--run", type=Path, default=None, help="run folder (default: latest)")
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
        from attend.insights.risk import headline, store, train_run

        models_dir = options["models_dir"] or _models_dir()
        with self._progress() as bar:
            task = bar.add_task("risk train", total=None)
            folder = train_run(
                options["edfi"],
                models_dir,
                as_of=options["as_of"],
                options=_options(),
                progress=lambda text: bar.update(task, description=text),
            )
        self.stdout.write("\n".join(headline(store.load(folder))))
        self.stdout.write(f"run folder: {folder}\nmodel card: {folder / 'card.md'}")

    def _score(self, options: dict[str, Any]) -> None:
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
        scored.to_csv(options["out"], index=False)
        flagged = int(scored["flagged"].sum())
        self.stdout.write(
            f"scored {len(scored):,} students, flagged {flagged:,} → {options['out']}"
        )

    def _report(self, options: dict[str, Any]) -> None:
        from attend.insights.risk import headline, store

        folder = options["run_dir"]
        if not (folder / "run.json").is_file():
            raise CommandError(f"{folder} is not a run folder (no run.json)")
        self.stdout.write("\n".join(headline(store.load(folder))))
        self.stdout.write(f"model card: {folder / 'card.md'}")

    def _replicate(self, options: dict[str, Any]) -> None:
        from attend.insights.risk.oulad import replicate

        if not (options["data"] / "studentInfo.csv").is_file():
            raise CommandError(f"OULAD not found in {options['data']}")
        result = replicate(options["data"], demographics=options["demographics"])
        self.stdout.write(result.line())
