"""Framework-light helpers shared by every app (env settings, TOTP, school calendars)."""
