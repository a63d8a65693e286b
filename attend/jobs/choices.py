from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


class ScheduleKind(models.TextChoices):
    # One row per kind: the worker claims it when its deadline passes (house style: timers
    # are deadline columns).
    NIGHTLY = "nightly", "Nightly insights, truancy rules and risk scores"
