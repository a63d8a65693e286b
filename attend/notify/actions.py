"""Write outbox rows (inside the caller's transaction) and deliver them (outside any)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from attend.notify.choices import OutboxStatus, TargetRole
from attend.notify.models import NotifyTarget, Outbox

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# Backoff after attempt n (1-based): 10 s, 30 s, 90 s, 270 s, then failed.
BACKOFF_SECONDS = (10, 30, 90, 270)
LEASE_SECONDS = 60


def enqueue(
    *,
    key: str,
    url: str,
    title: str,
    body: str,
    district_id: int | None = None,
    target: NotifyTarget | None = None,
    alarm_id: int | None = None,
) -> Outbox:
    """At-least-once: the same key is written once, whoever writes it again."""
    row, _ = Outbox.objects.get_or_create(
        key=key[:200],
        defaults={
            "url": url,
            "title": title[:200],
            "body": body,
            "district_id": district_id,
            "target": target,
            "alarm_id": alarm_id,
        },
    )
    return row


def enqueue_role(
    *, district_id: int, role: TargetRole, key: str, title: str, body: str, alarm_id: int | None
) -> list[Outbox]:
    """One row per configured target of `role` in the district."""
    targets: Iterable[NotifyTarget] = NotifyTarget.objects.filter(
        district_id=district_id, role=role, active=True
    )
    return [
        enqueue(
            key=f"{key}:t{t.pk}",
            url=t.apprise_url,
            title=title,
            body=body,
            district_id=district_id,
            target=t,
            alarm_id=alarm_id,
        )
        for t in targets
    ]


def send_apprise(url: str, title: str, body: str) -> bool:
    """The one call to the outside world (mocked in tests)."""
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        raise ValueError("Apprise does not understand this URL")
    return bool(sender.notify(title=title, body=body))


def _claim(row_id: int, now: dt.datetime) -> bool:
    """Lease the row so a second deliverer skips it; an expired lease makes it due again."""
    lease = now + dt.timedelta(seconds=LEASE_SECONDS)
    return (
        Outbox.objects.filter(
            pk=row_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=lease)
        == 1
    )


def _after_attempt(row: Outbox, ok: bool, error: str, now: dt.datetime) -> None:
    attempts = row.attempts + 1
    fields: dict[str, object] = {"attempts": attempts, "last_error": error[:300]}
    if ok:
        fields.update(status=OutboxStatus.SENT, sent_at=now)
    elif attempts >= MAX_ATTEMPTS:
        fields["status"] = OutboxStatus.FAILED
    else:
        wait = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
        fields["next_attempt_at"] = now + dt.timedelta(seconds=wait)
    Outbox.objects.filter(pk=row.pk).update(**fields)
    if not ok and fields.get("status") == OutboxStatus.FAILED:
        _publish_failure(row)


def _publish_failure(row: Outbox) -> None:
    from attend.safety.live import publish_on_commit

    with transaction.atomic():
        publish_on_commit({"type": "outbox.failed", "outbox_id": row.pk, "alarm_id": row.alarm_id})


def deliver_one(row: Outbox, now: dt.datetime) -> bool:
    if not _claim(row.pk, now):
        return False
    try:
        ok, error = send_apprise(row.url, row.title, row.body), ""
        if not ok:
            error = "Apprise reported the notification was not delivered"
    except Exception as exc:  # any provider failure is a failed attempt
        ok, error = False, f"{type(exc).__name__}: {exc}"
    _after_attempt(row, ok, error, now)
    return ok


def deliver_due(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Deliver due rows; return how many were sent."""
    now = now or timezone.now()
    rows = list(
        Outbox.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at"
        )[:limit]
    )
    return sum(deliver_one(row, now) for row in rows)
