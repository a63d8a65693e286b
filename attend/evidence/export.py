"""The export bundle: audio files, SHA256SUMS (for `sha256sum -c`), manifest.json and the
alarm's custody rows (custody.jsonl), each with the fields its hash covers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attend.evidence.actions import append_custody, canonical
from attend.evidence.choices import CustodyKind
from attend.evidence.models import AudioChunk, CustodyEvent
from attend.evidence.storage import evidence_storage

if TYPE_CHECKING:
    from attend.safety.models import Alarm

EXTENSIONS = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
}


def _write_audio(chunks: list[AudioChunk], out: Path) -> list[dict[str, Any]]:
    (out / "audio").mkdir(parents=True, exist_ok=True)
    rows, storage = [], evidence_storage()
    for chunk in chunks:
        name = f"audio/{chunk.index:06d}.{EXTENSIONS.get(chunk.content_type, 'bin')}"
        with storage.open(chunk.storage_name, "rb") as handle:
            (out / name).write_bytes(handle.read())
        rows.append(
            {
                "file": name,
                "index": chunk.index,
                "sha256": chunk.sha256,
                "device_sha256": chunk.device_sha256,
                "hash_mismatch": chunk.hash_mismatch,
                "size": chunk.size,
                "received_at": chunk.received_at.isoformat(),
                "content_type": chunk.content_type,
            }
        )
    return rows


def export_alarm(*, alarm: Alarm, out: Path, actor: str) -> Path:
    """Write the bundle for one alarm into `out`; record the export in the chain."""
    out.mkdir(parents=True, exist_ok=True)
    chunks = list(AudioChunk.objects.filter(alarm=alarm, deleted_at=None).order_by("index"))
    files = _write_audio(chunks, out)
    event = append_custody(
        kind=CustodyKind.EXPORTED, alarm_id=alarm.pk, actor=actor, detail={"files": len(files)}
    )
    custody = [
        {"id": e.pk, "hash": e.hash, "canonical": canonical(e).decode()}
        for e in CustodyEvent.objects.filter(alarm_id=alarm.pk).order_by("pk")
    ]
    (out / "custody.jsonl").write_text("".join(json.dumps(row) + "\n" for row in custody))
    manifest = {
        "alarm": {"id": alarm.pk, "kind": alarm.kind, "raised_at": alarm.raised_at.isoformat()},
        "files": files,
        "export_event": event.hash,
        "hash_algorithm": "sha256",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (out / "SHA256SUMS").write_text("".join(f"{f['sha256']}  {f['file']}\n" for f in files))
    return out
