from __future__ import annotations

import datetime as dt

from django.urls import reverse

from attend.attendance.choices import Category
from attend.attendance.models import AttendanceEvent
from attend.attendance.queries import student_year
from attend.audit.models import AccessLog
from attend.test import BaseTestCase


class StudentProfileTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # Mon 2025-09-01 … 4 weeks: 20 school days.
        cls.make_calendar(cls.lincoln, dt.date(2025, 9, 1), 28)
        cls.ada.enrollments.update(entry_date=dt.date(2025, 9, 1))
        cls._event(dt.date(2025, 9, 3), Category.UNEXCUSED)
        cls._event(dt.date(2025, 9, 4), Category.EXCUSED)
        cls._event(dt.date(2025, 9, 5), Category.PARTIAL, duration="0.5")
        cls._event(dt.date(2025, 9, 8), Category.TARDY)
        cls._event(dt.date(2025, 9, 9), Category.TARDY)
        cls._event(dt.date(2025, 9, 9), Category.UNEXCUSED)
        cls._event(dt.date(2025, 9, 6), Category.UNEXCUSED)  # a Saturday: ignored

    @classmethod
    def _event(cls, day: dt.date, category: Category, duration: str | None = None) -> None:
        AttendanceEvent.objects.create(
            student=cls.ada,
            school=cls.lincoln,
            event_date=day,
            category=category,
            duration=duration,
        )

    def test_it_counts_the_year_by_the_rules(self) -> None:
        days, summary = student_year(self.ada, 2026, as_of=dt.date(2025, 9, 26))
        self.assertEqual(summary.enrolled_days, 20)
        self.assertEqual(float(summary.absent_days), 3.5)  # 1 + 1 + 0.5 + 1 (Tue 9th, worst wins)
        self.assertEqual(summary.tardy_days, 2)
        by_date = {d.date: d for d in days}
        self.assertEqual(by_date[dt.date(2025, 9, 6)].status, "non_school")
        self.assertEqual(by_date[dt.date(2025, 9, 9)].status, "unexcused")
        self.assertTrue(by_date[dt.date(2025, 9, 9)].tardy)
        self.assertEqual(by_date[dt.date(2025, 9, 29)].status, "non_school")  # no calendar row

    def test_it_shows_the_calendar_and_logs_the_view(self) -> None:
        self.login(self.olivia)
        url = reverse("roster:student", args=[self.ada.student_unique_id])
        response = self.client.get(url, {"purpose": "weekly review"})
        self.assertContains(response, 'data-testid="attendance-calendar"')
        self.assertContains(response, 'class="day unexcused tardy"')
        log = AccessLog.objects.get()
        self.assertEqual(
            (log.user, log.student, log.purpose), (self.olivia, self.ada, "weekly review")
        )

    def test_it_does_not_log_a_refused_view(self) -> None:
        self.login(self.otto)
        response = self.client.get(reverse("roster:student", args=[self.ada.student_unique_id]))
        self.assertEqual(response.status_code, 404)
        self.assertFalse(AccessLog.objects.exists())

    def test_it_lists_students_in_a_fixed_number_of_queries(self) -> None:
        self.login(self.dana)
        self.client.get(reverse("roster:students"))  # warm the session
        with self.assertNumQueries(7):
            self.client.get(reverse("roster:students"))
