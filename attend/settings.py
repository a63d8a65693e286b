"""Django settings for Attend, fed by environment variables through `attend.lib.env`.

Defaults are safe: DEBUG is off unless `attend demo` turned it on (ATTEND_DEMO=1), and a
production server refuses to start without SECRET_KEY and ALLOWED_HOSTS
(see `attend.lib.startup.ensure_production_ready`).
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from attend.lib.env import env_bool, env_int, env_list, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ATTEND_VAR_DIR", str(BASE_DIR / "var")))
DEMO = env_bool("ATTEND_DEMO")
TESTING = "pytest" in sys.modules or env_bool("ATTEND_TESTING")

DEBUG = env_bool("DEBUG", default=DEMO)


def _secret_key() -> str:
    configured = env_str("SECRET_KEY")
    if configured:
        return configured
    if DEMO:
        # The demo keeps one generated key under var/ so sessions survive a restart.
        path = VAR_DIR / "demo-secret-key"
        if not path.exists():
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(50))
        return path.read_text().strip()
    # Commands such as `migrate` may run without a key; `attend serve` refuses to (startup.py).
    return "unset-" + secrets.token_urlsafe(40)


SECRET_KEY = _secret_key()
SECRET_KEY_CONFIGURED = bool(env_str("SECRET_KEY")) or DEMO
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if (DEMO or TESTING) else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "channels",
    "attend.core",
    "attend.accounts",
    "attend.audit",
    "attend.jobs",
    "attend.roster",
    "attend.attendance",
    "attend.insights",
    "attend.cases",
    "attend.safety",
    "attend.devices",
    "attend.evidence",
    "attend.notify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "attend.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "attend.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "attend.accounts.context.role",
            ],
        },
    }
]
WSGI_APPLICATION = "attend.wsgi.application"
ASGI_APPLICATION = "attend.asgi.application"

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'attend.sqlite3'}")
DATABASES = {"default": parse_database_url(DATABASE_URL, base_dir=BASE_DIR).as_django()}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server read while the worker loops write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # Persistent connections, except under test where they would hold the test database open.
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if TESTING else env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")


def _redis_host(url: str) -> dict[str, object]:
    """A channel layer host without a client read timeout. The layer waits for messages with
    a blocking pop; redis-py 8 reads with a 5 s timeout by default, so every WebSocket consumer
    (the operators' console) would crash after 5 s without an event."""
    return {"address": url, "socket_timeout": None}


if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [_redis_host(REDIS_URL)]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_MAX_FAILURES = env_int("ATTEND_LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("ATTEND_LOGIN_LOCKOUT_SECONDS", 15 * 60)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("ATTEND_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_SECURE = not (DEBUG or DEMO or TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# --- safety, devices, notify, evidence ---
ATTEND_PUBLIC_URL = env_str("ATTEND_PUBLIC_URL", "")
SAFETY_VISIT_GRACE_SECONDS = env_int("ATTEND_VISIT_GRACE_SECONDS", 120)
SAFETY_REVIEW_SECONDS = env_int("ATTEND_ALARM_REVIEW_SECONDS", 900)
SAFETY_MAX_REVIEWS = env_int("ATTEND_ALARM_MAX_REVIEWS", 4)
ATTEND_EVIDENCE_STORAGE = env_str("ATTEND_EVIDENCE_STORAGE", "local")
ATTEND_EVIDENCE_DIR = Path(env_str("ATTEND_EVIDENCE_DIR", str(VAR_DIR / "evidence")))
ATTEND_EVIDENCE_RETENTION_DAYS = env_int("ATTEND_EVIDENCE_RETENTION_DAYS", 31)
ATTEND_EVIDENCE_S3 = {
    "bucket_name": env_str("ATTEND_EVIDENCE_S3_BUCKET", "attend-evidence"),
    "endpoint_url": env_str("ATTEND_EVIDENCE_S3_ENDPOINT") or None,
    "region_name": env_str("ATTEND_EVIDENCE_S3_REGION") or None,
    "access_key": env_str("ATTEND_EVIDENCE_S3_ACCESS_KEY") or None,
    "secret_key": env_str("ATTEND_EVIDENCE_S3_SECRET_KEY") or None,
    "default_acl": None,
    "file_overwrite": False,
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- insights risk ---
# Officers' capacity as a percent of enrolled students (the list size k), the label horizon in
# school days, and whether demographics may be model inputs (off: they feed only the audit).
ATTEND_RISK_SHARE = env_int("ATTEND_RISK_CAPACITY_PERCENT", 5) / 100
# When `attend worker` runs the nightly insights, truancy rules and risk scores (local time).
ATTEND_NIGHTLY_AT = env_str("ATTEND_NIGHTLY_AT", "02:00")
ATTEND_RISK_HORIZON = env_int("ATTEND_RISK_HORIZON_DAYS", 30)
ATTEND_RISK_DEMOGRAPHICS = env_bool("ATTEND_RISK_DEMOGRAPHICS", False)

# --- safety reliability (attend bench alarms) ---
# Under ASGI Django runs each request in a thread of its own, so persistent connections pile
# up until PostgreSQL answers "too many clients" (HTTP 500 for Red Alerts under load), while a
# fresh connection per request costs PostgreSQL a new backend process each time. The web server
# therefore borrows connections from a small pool (Django's psycopg pool; it requires
# CONN_MAX_AGE = 0). The single-threaded loops (safetyd, dc09) keep their one connection.
_ASGI_SERVER = "uvicorn" in sys.modules or sys.argv[1:2] == ["serve"]
_POOL_MAX = env_int("DATABASE_POOL_MAX", 16)  # 0: no pool, a new connection per request
if _ASGI_SERVER and "CONN_MAX_AGE" in DATABASES["default"]:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if _ASGI_SERVER and "CONN_MAX_AGE" in DATABASES["default"] and _POOL_MAX > 0:
    # With CONN_HEALTH_CHECKS (set above) Django has the pool check a connection before
    # lending it, so one broken by a database restart never reaches a request.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(env_int("DATABASE_POOL_MIN", 2), _POOL_MAX),
        "max_size": _POOL_MAX,
        "timeout": 10,
    }
# A console that falls behind must not lose alarm events: channels_redis silently drops group
# messages to a channel holding `capacity` (default 100) unread ones.
if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"] = {
        "hosts": [_redis_host(REDIS_URL)],
        "capacity": env_int("ATTEND_CHANNEL_CAPACITY", 10_000),
    }
