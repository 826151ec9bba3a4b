"""msp-ops settings: one module, every value from the environment (12-factor).

With nothing set, the *embedded default* applies: SQLite and a filesystem Celery broker in
``MSP_OPS_DATA_DIR`` (``./data``), so a fresh clone runs without any server. Every variable
is listed in ``.env.example`` and in the README's configuration reference.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ

from msp_ops.lib.envparse import (
    env_admins,
    env_bool,
    env_database,
    env_int,
    env_list,
    env_log_level,
    env_rate,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DATA_DIR = Path(env("MSP_OPS_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)  # the generated secret key, beat's schedule file ...


def _embedded_secret_key() -> str:
    """A random key kept in the data directory, so sessions survive restarts."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default=None) or _embedded_secret_key()
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

# Behind TLS (production), everything goes over HTTPS; the embedded default is plain HTTP.
HTTPS = env_bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=HTTPS)
# Turning preload off is a deliberate choice, not something check --deploy should nag about.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD or not HTTPS else ["security.W021"]
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "msp_ops.orgs.sessions"  # the db engine, its read a statement (every page)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "msp_ops.orgs",
    "audits",
    "delegation",
    "kpis",
]

MIDDLEWARE = [
    "msp_ops.orgs.health.HealthCheckMiddleware",  # first: answers probes on any host, over HTTP
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "msp_ops.orgs.middleware.CurrentOrganizationMiddleware",
]

ROOT_URLCONF = "msp_ops.urls"
WSGI_APPLICATION = "msp_ops.wsgi.application"

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
                "msp_ops.orgs.context_processors.current_organization",
            ],
            # {% url %} and |date that remember their answers (a tenth of the dashboard's time).
            "builtins": ["msp_ops.lib.remembered_tags", "msp_ops.lib.ticket_tags"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env_database(
        "DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}", parse=environ.Env.db_url_config
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # SQLite builds the covering index of time entries without its extra columns (they only
    # spare PostgreSQL the table's pages); nothing to warn about.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "models.W040"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, its health check asking the socket rather than the server.
        DATABASES["default"]["ENGINE"] = "msp_ops.lib.postgresql"
# Hot statements (the API token's lookup, the rollup's upsert) are prepared once per database
# connection (msp_ops.lib.prepared); off behind a pooler in transaction mode.
PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalization -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# The server's zone; every organization's weeks and days use the organization's own zone.
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Serve straight from the source folders when nobody ran collectstatic (tests, dev).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", default=DEBUG)
if WHITENOISE_USE_FINDERS:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- Email ----------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env_int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="msp-ops@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who gets Django's mail of each server error (500) when DEBUG is off: "Ops <ops@example.com>, ...".
ADMINS = env_admins("ADMINS")

# --- Celery ---------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport. It really delivers messages between
# separate processes (web, worker, beat) through a folder, with no server to install.
REDIS_URL = env("REDIS_URL", default="")
EMBEDDED_BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (EMBEDDED_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(EMBEDDED_BROKER_DIR / "queue"),
        "data_folder_out": str(EMBEDDED_BROKER_DIR / "queue"),
        "processed_folder": str(EMBEDDED_BROKER_DIR / "processed"),
        # The exchange table; kombu's default is ./control in the working directory.
        "control_folder": str(EMBEDDED_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request must never wait on a broker that is down (SPEC 3): fail fast, the nightly
# rollup catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")  # beat cannot make the folder
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Proves beat -> broker -> worker works (a line in the worker log each hour). The nightly
    # KPI rollup of every organization joins this schedule with the KPI work.
    "heartbeat": {"task": "msp_ops.orgs.tasks.heartbeat", "schedule": 3600.0},
}

# --- Cache ----------------------------------------------------------------------------
# Shared by every web process through Redis in production (API throttling counters); the
# embedded default keeps a per-process memory cache. Short timeouts: a request never hangs
# on a Redis that is down (the throttle then lets requests through).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "msp-ops",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["msp_ops.orgs.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["msp_ops.api.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["msp_ops.api.renderers.OrjsonRenderer"],  # DRF's JSON, by orjson
    "DEFAULT_PARSER_CLASSES": ["msp_ops.api.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "msp_ops.api.negotiation.ContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "msp_ops.api.pagination.ApiCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["msp_ops.api.throttling.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "msp_ops.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "msp_ops.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Hours and other Decimals are JSON numbers (SPEC 4), not strings.
    "COERCE_DECIMAL_TO_STRING": False,
    # The client address of a request without a token (its throttle counter): REMOTE_ADDR, or
    # behind the proxy the address it appends to X-Forwarded-For, never one the client wrote.
    "NUM_PROXIES": 1 if BEHIND_PROXY else 0,
    "DEFAULT_THROTTLE_RATES": {
        # Per token; generous: a script pushing a year of history needs ~30 batch requests.
        "api_token": env_rate("API_THROTTLE_RATE", default="6000/min"),
    },
}
API_MAX_BATCH = 1000
API_MAX_PAGE_SIZE = 1000
# Largest request body the API accepts (a full batch of 1000 entries fits comfortably).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "msp-ops API",
    "DESCRIPTION": (
        "Push and read time entries; start 7-day time audits and read their reports. "
        "Authenticate with `Authorization: Token <key>`; see docs/api.md for batches, errors, "
        "pagination and throttling."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are public (they hold no data); every /api/v1/ call needs a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "msp_ops.api.schema.add_error_components",
    ],
    "ENUM_NAME_OVERRIDES": {
        "HandlingEnum": "audits.models.Handling",
        "SourceEnum": "audits.models.Source",
        "TagEnum": "audits.models.Tag",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_log_level("LOG_LEVEL", default="INFO")},
}
