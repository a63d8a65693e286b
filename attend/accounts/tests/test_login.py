from __future__ import annotations

from typing import Any

from django.test import override_settings
from django.urls import reverse

from attend.accounts.middleware import SESSION_KEY
from attend.audit.models import ChangeLog
from attend.lib import totp
from attend.test import PASSWORD, BaseTestCase


class LoginTests(BaseTestCase):
    def _login(self, username: str, password: str = PASSWORD) -> Any:
        return self.client.post(
            reverse("accounts:login"), {"username": username, "password": password}
        )

    def test_it_signs_a_teacher_in_without_a_second_factor(self) -> None:
        response = self._login("terry")
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/").status_code, 200)

    def test_it_hashes_passwords_with_argon2(self) -> None:
        self.terry.refresh_from_db()
        self.assertTrue(self.terry.password.startswith("argon2"))

    def test_it_sends_an_officer_to_enrol_a_second_factor(self) -> None:
        self._login("olivia")
        response = self.client.get(reverse("roster:students"))
        self.assertRedirects(response, reverse("accounts:enrol"), fetch_redirect_response=False)
        page = self.client.get(reverse("accounts:enrol"))
        self.olivia.refresh_from_db()
        self.assertContains(page, self.olivia.totp_secret)
        code = totp.code_at(self.olivia.totp_secret)
        self.client.post(reverse("accounts:enrol"), {"code": code})
        self.assertTrue(self.client.session[SESSION_KEY])
        self.assertEqual(self.client.get(reverse("roster:students")).status_code, 200)

    def test_it_asks_an_enrolled_operator_for_a_code(self) -> None:
        self.opal.totp_secret = totp.new_secret()
        self.opal.totp_confirmed_at = self.opal.date_joined
        self.opal.save()
        self._login("opal")
        self.assertRedirects(
            self.client.get("/"), reverse("accounts:verify"), fetch_redirect_response=False
        )
        wrong = self.client.post(reverse("accounts:verify"), {"code": "000000"})
        self.assertContains(wrong, "not right")
        self.client.post(reverse("accounts:verify"), {"code": totp.code_at(self.opal.totp_secret)})
        self.assertEqual(self.client.get("/").status_code, 200)

    @override_settings(LOGIN_MAX_FAILURES=3)
    def test_it_locks_an_account_after_repeated_failures(self) -> None:
        for _ in range(3):
            response = self._login("terry", "wrong")
        self.assertContains(response, "locked", status_code=400)
        # Even the right password is refused while locked.
        self.assertContains(self._login("terry"), "locked", status_code=400)
        self.assertEqual(ChangeLog.objects.filter(action="user.login_failed").count(), 3)

    def test_it_does_not_say_whether_a_username_exists(self) -> None:
        unknown = self._login("nobody", "x")
        known = self._login("terry", "x")
        self.assertEqual(unknown.status_code, known.status_code)
        self.assertContains(unknown, "do not match", status_code=400)
