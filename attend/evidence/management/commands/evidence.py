"""`attend evidence verify | export ALARM_ID --out DIR | retention [--days N] | hold ALARM_ID`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attend.evidence.actions import apply_retention, verify_chain
from attend.evidence.export import export_alarm


class Command(BaseCommand):
    help = "Evidence: verify the custody chain and files, export a bundle, apply retention."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("verify")
        export = sub.add_parser("export")
        export.add_argument("alarm_id", type=int)
        export.add_argument("--out", required=True)
        retention = sub.add_parser("retention")
        retention.add_argument("--days", type=int, default=settings.ATTEND_EVIDENCE_RETENTION_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['what']}")(options)

    def _verify(self, options: dict[str, Any]) -> None:
        result = verify_chain()
        if not result.ok:
            raise CommandError(f"BROKEN at {result.first_break}")
        self.stdout.write(f"OK: {result.events} custody rows, {result.chunks} audio files verified")

    def _export(self, options: dict[str, Any]) -> None:
        from attend.safety.models import Alarm

        alarm = Alarm.objects.filter(pk=options["alarm_id"]).first()
        if alarm is None:
            raise CommandError(f"no alarm {options['alarm_id']}")
        out = export_alarm(alarm=alarm, out=Path(options["out"]), actor="cli")
        self.stdout.write(f"exported to {out}; check with: cd {out} && sha256sum -c SHA256SUMS")

    def _retention(self, options: dict[str, Any]) -> None:
        deleted = apply_retention(days=options["days"])
        self.stdout.write(
            f"deleted {deleted} audio chunk(s) older than {options['days']} days (held alarms kept)"
        )
