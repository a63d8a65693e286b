from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "attend.jobs"
    label = "jobs"
    verbose_name = "Jobs: long work made visible"
