"""Where audio bytes live: local disk by default, an S3-compatible bucket with
ATTEND_EVIDENCE_STORAGE=s3 (django-storages; bucket settings in settings.py)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage


@cache
def evidence_storage() -> Storage:
    if getattr(settings, "ATTEND_EVIDENCE_STORAGE", "local") == "s3":
        from storages.backends.s3 import S3Storage

        return S3Storage(**settings.ATTEND_EVIDENCE_S3)
    return FileSystemStorage(location=str(settings.ATTEND_EVIDENCE_DIR))


def name_for(sha256: str) -> str:
    """Content-addressed: the same bytes are stored once, under their own hash."""
    return f"{sha256[:2]}/{sha256}"
