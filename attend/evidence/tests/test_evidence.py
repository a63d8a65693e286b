from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from attend.evidence.actions import (
    EvidenceError,
    apply_retention,
    place_hold,
    read_chunk,
    receive_chunk,
    verify_chain,
)
from attend.evidence.export import export_alarm
from attend.evidence.models import AudioChunk, CustodyEvent
from attend.evidence.storage import evidence_storage
from attend.safety.tests.base import SafetyTestCase

AUDIO = [b"\x1aE\xdf\xa3 chunk zero", b"chunk one bytes", b"chunk two bytes"]


class EvidenceTests(SafetyTestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp())
        self.override = override_settings(ATTEND_EVIDENCE_DIR=self.tmp)
        self.override.enable()
        evidence_storage.cache_clear()
        self.addCleanup(self._cleanup)

    def _cleanup(self) -> None:
        self.override.disable()
        evidence_storage.cache_clear()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _upload(self, alarm, n: int = 3) -> list[AudioChunk]:  # type: ignore[no-untyped-def]
        return [
            receive_chunk(
                alarm=alarm,
                index=i,
                data=AUDIO[i],
                claimed_sha256=hashlib.sha256(AUDIO[i]).hexdigest(),
            )[0]
            for i in range(n)
        ]

    def test_it_stores_chunks_content_addressed_with_custody_rows(self) -> None:
        chunks = self._upload(self.alarm())
        path = self.tmp / chunks[0].sha256[:2] / chunks[0].sha256
        self.assertEqual(path.read_bytes(), AUDIO[0])
        self.assertEqual(CustodyEvent.objects.count(), 6)
        self.assertTrue(verify_chain().ok)

    def test_it_keeps_bytes_that_do_not_match_the_devices_hash_and_flags_them(self) -> None:
        chunk, created = receive_chunk(
            alarm=self.alarm(), index=0, data=b"abc", claimed_sha256="0" * 64
        )
        self.assertTrue(created)
        self.assertEqual(
            (chunk.sha256, chunk.hash_mismatch), (hashlib.sha256(b"abc").hexdigest(), True)
        )
        with evidence_storage().open(chunk.storage_name, "rb") as stored:
            self.assertEqual(stored.read(), b"abc")  # kept exactly as received, not "fixed"
        received = CustodyEvent.objects.get(chunk=chunk, kind="received")
        self.assertEqual(received.detail["device_sha256"], "0" * 64)
        self.assertEqual(received.sha256, chunk.sha256)
        out = self.tmp / "bundle"
        export_alarm(alarm=chunk.alarm, out=out, actor="dana")
        manifest = json.loads((out / "manifest.json").read_text())
        self.assertEqual(manifest["files"][0]["hash_mismatch"], True)

    def test_it_refuses_out_of_order_chunks_and_accepts_retries(self) -> None:
        alarm = self.alarm()
        with self.assertRaises(EvidenceError) as caught:
            receive_chunk(
                alarm=alarm,
                index=1,
                data=AUDIO[1],
                claimed_sha256=hashlib.sha256(AUDIO[1]).hexdigest(),
            )
        self.assertEqual((caught.exception.status, caught.exception.extra), (409, {"expected": 0}))
        first = self._upload(alarm, 1)[0]
        again, created = receive_chunk(
            alarm=alarm, index=0, data=AUDIO[0], claimed_sha256=first.sha256
        )
        self.assertEqual((again.pk, created), (first.pk, False))

    def test_it_finds_a_tampered_file(self) -> None:
        chunks = self._upload(self.alarm())
        (self.tmp / chunks[1].sha256[:2] / chunks[1].sha256).write_bytes(b"edited")
        result = verify_chain()
        self.assertFalse(result.ok)
        self.assertIn(f"chunk {chunks[1].pk}", result.first_break)
        with self.assertRaises(CommandError):
            call_command("evidence", "verify")

    def test_it_finds_a_tampered_custody_row(self) -> None:
        self._upload(self.alarm())
        third = CustodyEvent.objects.order_by("pk")[2]
        CustodyEvent.objects.filter(pk=third.pk).update(actor="someone else")
        result = verify_chain()
        self.assertEqual(
            result.first_break, f"custody row {third.pk}: contents do not match its hash"
        )

    def test_it_finds_a_deleted_custody_row(self) -> None:
        self._upload(self.alarm())
        rows = list(CustodyEvent.objects.order_by("pk"))
        CustodyEvent.objects.filter(pk=rows[1].pk).delete()
        self.assertIn(f"custody row {rows[2].pk}: prev_hash", verify_chain().first_break)

    def test_it_logs_each_play(self) -> None:
        chunk = self._upload(self.alarm(), 1)[0]
        self.assertEqual(read_chunk(chunk=chunk, user=self.opal), AUDIO[0])
        self.assertEqual(
            CustodyEvent.objects.order_by("pk").values_list("kind", flat=True).last(), "played"
        )

    def test_it_exports_a_bundle_that_sha256sum_verifies(self) -> None:
        alarm = self.alarm()
        self._upload(alarm)
        out = self.tmp / "bundle"
        call_command("evidence", "export", str(alarm.pk), "--out", str(out))
        check = subprocess.run(
            ["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True
        )
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertTrue((out / "manifest.json").exists() and (out / "custody.jsonl").exists())
        lines = (out / "custody.jsonl").read_text().splitlines()
        import json

        for line in lines:
            row = json.loads(line)
            self.assertEqual(hashlib.sha256(row["canonical"].encode()).hexdigest(), row["hash"])

    def test_it_deletes_old_audio_unless_held(self) -> None:
        held, free = self.alarm(), self.alarm(officer=self.omar)
        self._upload(held, 1)
        receive_chunk(
            alarm=free,
            index=0,
            data=b"other audio",
            claimed_sha256=hashlib.sha256(b"other audio").hexdigest(),
        )
        place_hold(alarm=held, by=self.dana, reason="court case 42")
        later = timezone.now() + dt.timedelta(days=32)
        self.assertEqual(apply_retention(days=31, now=later), 1)
        self.assertIsNotNone(AudioChunk.objects.get(alarm=free).deleted_at)
        self.assertIsNone(AudioChunk.objects.get(alarm=held).deleted_at)
        self.assertTrue(verify_chain().ok)
