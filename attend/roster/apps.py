from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "attend.roster"
    label = "roster"
    verbose_name = "Roster: schools, calendars, students, households, enrollments"
