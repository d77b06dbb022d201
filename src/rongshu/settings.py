"""Django settings, read from the environment (docs/operations.md lists every variable)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent  # the checkout (src layout); used for node_modules


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


DEBUG = _env_bool("DEBUG", True)
DATA_DIR = Path(os.environ.get("RONGSHU_DATA_DIR", PROJECT_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEV_SECRET_KEY = "rongshu-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("RONGSHU_SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "RONGSHU_SECRET_KEY must be set to a secret value when DEBUG=0 "
        "(the development default is public)."
    )

ALLOWED_HOSTS = [h for h in os.environ.get("RONGSHU_ALLOWED_HOSTS", "").split(",") if h] or (
    ["*"] if DEBUG else ["localhost", "127.0.0.1"]
)
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("RONGSHU_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "rongshu.kernel",
    "rongshu.ledger",
    "rongshu.web",
    "rongshu.identity",
    "rongshu.payments",
    "rongshu.payments.clearing",
    "rongshu.accounts",
    "rongshu.assistant",
    "rongshu.lifepay",
    "rongshu.lending",
    "rongshu.customers",
    "rongshu.insight",
    "rongshu.simulation",
]

MIDDLEWARE = [
    "rongshu.kernel.observability.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rongshu.kernel.problem.ProblemJsonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "rongshu.web.security.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "rongshu.urls"
WSGI_APPLICATION = "rongshu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rongshu.web.context.shell",
            ],
        },
    },
]

# ------------------------------------------------------------------ database
SQLITE_PATH = DATA_DIR / "rongshu.sqlite3"
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}",
        # Persistent connections, checked before each request reuses one: a new PostgreSQL
        # connection per request cost more than the request (a backend to start, and the
        # prepared statements and plans of the hot paths made again; docs/decisions/0008)
        conn_max_age=int(os.environ.get("RONGSHU_DB_CONN_MAX_AGE", "300")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL with sensible pragmas; IMMEDIATE transactions so writers queue instead of failing
    # with "database is locked" on upgrade from a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=134217728;"
            "PRAGMA cache_size=-20000;"
        ),
    }
    # A file (not memory) so concurrency and live-server tests use real connections; one per
    # process so parallel test runs never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Request bodies larger than this are refused with 413 problem+json.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("RONGSHU_MAX_BODY_BYTES", str(1024 * 1024)))

# ------------------------------------------------------------------ i18n and time
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"  # display time zone; stored timestamps are aware UTC
BANK_TIME_ZONE = TIME_ZONE
LANGUAGE_COOKIE_NAME = "django_language"

# ------------------------------------------------------------------ static files
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns when it is missing
NODE_MODULES = PROJECT_DIR / "node_modules"
STATICFILES_DIRS: list[tuple[str, Path]] = [
    (prefix, NODE_MODULES / sub)
    for prefix, sub in [("vendor/htmx", Path("htmx.org/dist"))]
    if (NODE_MODULES / sub).is_dir()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# ------------------------------------------------------------------ security
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HSTS only when served over TLS in production (SecurityMiddleware sends it on HTTPS only).
SECURE_HSTS_SECONDS = 0 if DEBUG else 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if _env_bool("RONGSHU_BEHIND_TLS_PROXY", False) else None
)
# argon2id first (cost documented in rongshu/identity/hashers.py and docs/identity.md).
PASSWORD_HASHERS = [
    "rongshu.identity.hashers.RongshuArgon2Hasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "/signin/"

# ------------------------------------------------------------------ rongshu
# Field-encryption keys (Fernet, url-safe base64, 32 bytes); the first encrypts, all decrypt.
# Rotate by putting a new key first and running `rongshu pii rotate`.
DEV_FIELD_KEY = "cm9uZ3NodS1kZXZlbG9wbWVudC1maWVsZC1rZXkhISE="
FIELD_ENCRYPTION_KEYS = [k for k in os.environ.get("RONGSHU_FIELD_KEYS", "").split(",") if k] or [
    DEV_FIELD_KEY
]
if not DEBUG and FIELD_ENCRYPTION_KEYS == [DEV_FIELD_KEY]:
    raise ImproperlyConfigured("RONGSHU_FIELD_KEYS must be set when DEBUG=0.")
IDEMPOTENCY_RETENTION_HOURS = 24
IDEMPOTENCY_LEASE_SECONDS = 60
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("RONGSHU_OUTBOX_MAX_ATTEMPTS", "8"))
# Dispatch outbox events in-process right after commit (the embedded default). A deployment
# with a separate worker (`rongshu outbox dispatch --loop`) sets this to 0.
OUTBOX_DISPATCH_ON_COMMIT = _env_bool("RONGSHU_OUTBOX_DISPATCH_ON_COMMIT", True)
# `rongshu serve` runs a courier thread per web worker: external handlers (partner webhooks)
# leave the request thread, and retries come due every OUTBOX_COURIER_INTERVAL_S seconds.
OUTBOX_COURIER = _env_bool("RONGSHU_OUTBOX_COURIER", True)
OUTBOX_COURIER_INTERVAL_S = float(os.environ.get("RONGSHU_OUTBOX_COURIER_INTERVAL_S", "2"))

# SMS: the gateway adapter (dotted path) and the simulator's behaviour (rongshu.identity.sms).
RONGSHU_SMS_GATEWAY = os.environ.get(
    "RONGSHU_SMS_GATEWAY", "rongshu.identity.sms.SimulatedSmsGateway"
)
RONGSHU_SMS_SIMULATOR: dict[str, Any] = {
    "failure_rate": float(os.environ.get("RONGSHU_SMS_SIM_FAILURE_RATE", "0.02")),
}

# ------------------------------------------------------------------ logging
LOG_LEVEL = os.environ.get("RONGSHU_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "rongshu.kernel.observability.RequestIdFilter"}},
    "formatters": {"json": {"()": "rongshu.kernel.observability.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}
