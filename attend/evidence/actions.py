"""Evidence writes: receive audio chunks, append to the custody chain, export, retention."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from attend.evidence.choices import CustodyKind
from attend.evidence.models import AudioChunk, CustodyEvent, CustodyHead, LegalHold
from attend.evidence.storage import evidence_storage, name_for

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.devices.models import Device
    from attend.safety.models import Alarm

GENESIS = "0" * 64
MAX_CHUNK_BYTES = 1024 * 1024
AUDIO_TYPES = (
    "audio/webm",
    "audio/ogg",
    "audio/mp4",
    "audio/mpeg",
    "audio/wav",
    "application/octet-stream",
)
LATE_UPLOAD = dt.timedelta(minutes=10)


class EvidenceError(ValueError):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(event: CustodyEvent) -> bytes:
    """The bytes a row's hash covers; an independent verifier recomputes exactly this."""
    body = {
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "kind": event.kind,
        "alarm_id": event.alarm_id,
        "chunk_id": event.chunk_id,
        "sha256": event.sha256,
        "actor": event.actor,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def append_custody(
    *,
    kind: CustodyKind,
    alarm_id: int,
    chunk: AudioChunk | None = None,
    sha256: str = "",
    actor: str = "",
    detail: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Append one row to the chain; the locked head row keeps concurrent writers in line."""
    with transaction.atomic():
        CustodyHead.objects.get_or_create(name="main")
        head = CustodyHead.objects.select_for_update().get(name="main")
        event = CustodyEvent(
            at=timezone.now(),
            kind=kind,
            alarm_id=alarm_id,
            chunk=chunk,
            sha256=sha256,
            actor=actor[:150],
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        event.hash = hashlib.sha256(canonical(event)).hexdigest()
        event.save()
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


def _check_chunk(alarm: Alarm, index: int, data: bytes, claimed: str, content_type: str) -> str:
    if not data:
        raise EvidenceError(400, "empty", "The chunk is empty")
    if len(data) > MAX_CHUNK_BYTES:
        raise EvidenceError(413, "too_large", f"Chunks are at most {MAX_CHUNK_BYTES} bytes")
    if content_type.split(";")[0].strip() not in AUDIO_TYPES:
        raise EvidenceError(415, "bad_type", f"Audio types accepted: {', '.join(AUDIO_TYPES)}")
    actual = sha256_hex(data)
    if alarm.resolved_at and timezone.now() - alarm.resolved_at > LATE_UPLOAD:
        raise EvidenceError(409, "alarm_closed", "This alarm was resolved; audio is closed")
    return actual


def next_index(alarm: Alarm) -> int:
    return AudioChunk.objects.filter(alarm=alarm).count()


@transaction.atomic
def receive_chunk(
    *,
    alarm: Alarm,
    index: int,
    data: bytes,
    claimed_sha256: str,
    content_type: str = "audio/webm",
    device: Device | None = None,
    actor: str = "",
) -> tuple[AudioChunk, bool]:
    """Store chunk `index` of the alarm's audio; (chunk, created).

    1. Check size and type, and hash the bytes received.
    2. The same index with the same bytes again is a retry: answer with the stored chunk.
    3. Only the next index is accepted, so the recording keeps its order.
    4. Store the bytes under their hash, then record "received" and "stored" in the chain.
       Bytes whose hash differs from the device's `claimed_sha256` are kept all the same
       (SAFETY.md: kept and flagged, never silently fixed): the chunk is marked
       `hash_mismatch` and its "received" custody event carries both hashes.
    """
    from attend.safety.models import Alarm as AlarmModel

    alarm = AlarmModel.objects.select_for_update().get(pk=alarm.pk)
    sha = _check_chunk(alarm, index, data, claimed_sha256, content_type)
    existing = AudioChunk.objects.filter(alarm=alarm, index=index).first()
    if existing is not None:
        if existing.sha256 != sha:
            raise EvidenceError(409, "index_taken", "A different chunk is stored at this index")
        return existing, False
    expected = next_index(alarm)
    if index != expected:
        raise EvidenceError(409, "out_of_order", f"Expected chunk {expected}", expected=expected)
    storage, name = evidence_storage(), name_for(sha)
    if not storage.exists(name):
        storage.save(name, ContentFile(data))
    chunk = AudioChunk.objects.create(
        alarm=alarm,
        device=device,
        index=index,
        sha256=sha,
        size=len(data),
        content_type=content_type.split(";")[0].strip(),
        storage_name=name,
        device_sha256=claimed_sha256.lower(),
        hash_mismatch=claimed_sha256.lower() != sha,
    )
    append_custody(
        kind=CustodyKind.RECEIVED,
        alarm_id=alarm.pk,
        chunk=chunk,
        sha256=sha,
        actor=actor,
        detail={"hash_mismatch": True, "device_sha256": chunk.device_sha256}
        if chunk.hash_mismatch
        else {},
    )
    append_custody(
        kind=CustodyKind.STORED,
        alarm_id=alarm.pk,
        chunk=chunk,
        sha256=sha,
        actor=actor,
        detail={"name": name},
    )
    from attend.safety.live import publish_on_commit

    publish_on_commit(
        {"type": "audio", "alarm_id": alarm.pk, "district_id": alarm.district_id, "index": index}
    )
    return chunk, True


def read_chunk(*, chunk: AudioChunk, user: User) -> bytes:
    """The bytes, after logging that this person played them."""
    if chunk.deleted_at is not None:
        raise EvidenceError(410, "deleted", "This audio was deleted under the retention policy")
    append_custody(
        kind=CustodyKind.PLAYED,
        alarm_id=chunk.alarm_id,
        chunk=chunk,
        sha256=chunk.sha256,
        actor=user.username,
    )
    with evidence_storage().open(chunk.storage_name, "rb") as handle:
        return bytes(handle.read())


@transaction.atomic
def place_hold(*, alarm: Alarm, by: User, reason: str) -> LegalHold:
    hold = LegalHold.objects.create(alarm=alarm, placed_by=by, reason=reason[:300])
    append_custody(
        kind=CustodyKind.HOLD, alarm_id=alarm.pk, actor=by.username, detail={"reason": reason[:300]}
    )
    return hold


@transaction.atomic
def release_hold(*, hold: LegalHold, by: User) -> LegalHold:
    hold.released_at = timezone.now()
    hold.save(update_fields=["released_at"])
    append_custody(kind=CustodyKind.RELEASED, alarm_id=hold.alarm_id, actor=by.username)
    return hold


def apply_retention(*, days: int, now: dt.datetime | None = None) -> int:
    """Delete audio older than `days` unless its alarm is on legal hold; return chunks deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    held = LegalHold.objects.filter(released_at=None).values("alarm_id")
    due = AudioChunk.objects.filter(deleted_at=None, received_at__lt=cutoff).exclude(
        alarm_id__in=held
    )
    count = 0
    for chunk in due.iterator():
        _delete_chunk(chunk, days)
        count += 1
    return count


@transaction.atomic
def _delete_chunk(chunk: AudioChunk, days: int) -> None:
    chunk.deleted_at = timezone.now()
    chunk.save(update_fields=["deleted_at"])
    # Content-addressed: the file may still back another live chunk with the same bytes.
    if not AudioChunk.objects.filter(sha256=chunk.sha256, deleted_at=None).exists():
        evidence_storage().delete(chunk.storage_name)
    append_custody(
        kind=CustodyKind.DELETED,
        alarm_id=chunk.alarm_id,
        chunk=chunk,
        sha256=chunk.sha256,
        actor="retention",
        detail={"days": days},
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    chunks: int
    first_break: str = ""


def verify_chain() -> VerifyResult:
    """Recompute every row's hash and link, then every stored file's hash; first break wins."""
    prev, events = GENESIS, 0
    for event in CustodyEvent.objects.order_by("pk").iterator():
        events += 1
        if event.prev_hash != prev:
            return VerifyResult(
                False, events, 0, f"custody row {event.pk}: prev_hash does not link to row before"
            )
        if hashlib.sha256(canonical(event)).hexdigest() != event.hash:
            return VerifyResult(
                False, events, 0, f"custody row {event.pk}: contents do not match its hash"
            )
        prev = event.hash
    return _verify_files(events)


def _verify_files(events: int) -> VerifyResult:
    storage, chunks = evidence_storage(), 0
    for chunk in AudioChunk.objects.filter(deleted_at=None).order_by("pk").iterator():
        chunks += 1
        if not storage.exists(chunk.storage_name):
            return VerifyResult(
                False,
                events,
                chunks,
                f"chunk {chunk.pk} (alarm {chunk.alarm_id} #{chunk.index}): file missing",
            )
        with storage.open(chunk.storage_name, "rb") as handle:
            if sha256_hex(handle.read()) != chunk.sha256:
                return VerifyResult(
                    False,
                    events,
                    chunks,
                    f"chunk {chunk.pk} (alarm {chunk.alarm_id} #{chunk.index}): file hash differs",
                )
    return VerifyResult(True, events, chunks)
