from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "attend.evidence"
    label = "evidence"
    verbose_name = "Evidence: audio and chain of custody"
