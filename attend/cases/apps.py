from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "attend.cases"
    label = "cases"
    verbose_name = "Casework: cases, interventions, letters, truancy rules"
