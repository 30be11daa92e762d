"""Skillmap settings: one module, driven by the environment.

The embedded default (no DATABASE_URL, no REDIS_URL) runs on SQLite and Celery's
filesystem broker under ``VAR_DIR``; production sets the two URLs. No code branches
on the mode beyond the connection strings chosen here.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from csp.constants import NONCE, NONE, SELF
from kombu import Exchange, Queue

# The skill model's matrices are small: OpenBLAS threads only contend with the web and
# worker processes on a busy machine (measured: calibration 10x slower). Set before numpy
# is first imported (apps load after settings); an explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from config.env import (
    ConfigError,
    env,
    read_broker_url,
    read_database_url,
    read_env_file,
    read_networks,
    read_path,
    read_positive_int,
    read_rate,
    read_redis_url,
)

# Lets typed generics such as ModelForm[User] work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
# Before any setting is read: a local .env fills in what the environment does not set.
read_env_file(BASE_DIR)
VAR_DIR = read_path("VAR_DIR", BASE_DIR / "var")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError("SECRET_KEY is not set (required when DEBUG is off)")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG=true"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Ours before allauth and drf-spectacular, so our templates override theirs.
    "accounts",
    "quizzes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "allauth.usersessions",
]

MIDDLEWARE = [
    # First: every later log line carries the request id; the latency covers everything.
    "config.logs.RequestIdMiddleware",
    "quizzes.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and the database: an overloaded server refuses cheaply, with 503 and
    # Retry-After (config/shedding.py).
    "config.shedding.LoadSheddingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# The item form of a code challenge posts several fields per test and per solution: its
# largest (100 tests, every language's solutions) stays within this; Django's default,
# 1,000, would refuse a large bank challenge.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 4000

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": read_database_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'skillmap.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Server, worker and beat share one file: WAL lets readers run beside a writer,
    # IMMEDIATE takes the write lock at BEGIN (no lock upgrade deadlocks), and the
    # busy timeout makes a writer wait instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
    }
    # Worker subprocesses started by the tests must see the test database: a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# Connections outlive a request or a task (a grading worker would otherwise reconnect, and on
# SQLite re-run the PRAGMAs above, for every submission); checked before each reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared by every process: allauth rate limits, sandbox health) ------------
REDIS_URL = read_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="skillmap"),
        }
    }
    # Sessions are rows (they outlive a restart of Redis) read through the cache: a request
    # reads its session from Redis instead of running a query.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: each user's permissions from the shared cache (accounts/backends.py). It
    # authenticates nobody; the backends after it find the permissions on the user object.
    "accounts.backends.CachedPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Load shedding under gunicorn (config/shedding.py): when the connections waiting to be
# accepted would wait longer than this (milliseconds), requests other than submits get 503
# with Retry-After: WEB_SHED_RETRY_AFTER seconds plus that wait (0: never shed).
WEB_SHED_WAIT_MS = env.int("WEB_SHED_WAIT_MS", default=200)
WEB_SHED_RETRY_AFTER = env.int("WEB_SHED_RETRY_AFTER", default=3)
if WEB_SHED_WAIT_MS < 0 or WEB_SHED_RETRY_AFTER < 1:
    raise ConfigError("WEB_SHED_WAIT_MS must be 0 or more and WEB_SHED_RETRY_AFTER 1 or more")
# How long a user's permission set may stay in the cache; every change through the ORM
# forgets it at once (accounts/backends.py).
PERMISSION_CACHE_SECONDS = env.int("PERMISSION_CACHE_SECONDS", default=600)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# Failed logins: 5 per 5 minutes per (client IP, email address) (the key is made in
# accounts.adapters), so a stranger cannot lock the owner out from elsewhere; and 20 per
# minute per client IP, which stops guessing from one address but not a school behind one
# NAT (successful logins do not count).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Skillmap] "
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str("TRUSTED_CLIENT_IP_HEADER", default="") or None
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Skillmap"
# Instructors and admins must set up two-factor authentication when this is on.
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=False)


def _social_providers() -> dict[str, dict[str, object]]:
    """Providers are enabled by their environment variables alone."""
    providers: dict[str, dict[str, object]] = {}
    if env.str("GITHUB_CLIENT_ID", default=""):
        providers["github"] = {
            "APPS": [
                {"client_id": env.str("GITHUB_CLIENT_ID"), "secret": env.str("GITHUB_SECRET")}
            ],
            "SCOPE": ["user:email"],
            "VERIFIED_EMAIL": True,
        }
    if env.str("GOOGLE_CLIENT_ID", default=""):
        providers["google"] = {
            "APPS": [
                {"client_id": env.str("GOOGLE_CLIENT_ID"), "secret": env.str("GOOGLE_SECRET")}
            ],
            "SCOPE": ["profile", "email"],
            "VERIFIED_EMAIL": True,
        }
    if env.str("OIDC_CLIENT_ID", default=""):
        providers["openid_connect"] = {
            "APPS": [
                {
                    "provider_id": env.str("OIDC_PROVIDER_ID", default="sso"),
                    "name": env.str("OIDC_NAME", default="Single sign-on"),
                    "client_id": env.str("OIDC_CLIENT_ID"),
                    "secret": env.str("OIDC_SECRET"),
                    "settings": {
                        "server_url": env.str("OIDC_SERVER_URL"),
                        "token_auth_method": env.str(
                            "OIDC_TOKEN_AUTH_METHOD", default="client_secret_basic"
                        ),
                    },
                }
            ],
            # allauth's VERIFIED_EMAIL would mark every address verified, even those the
            # provider reports as unverified; instead the provider's own email_verified
            # claim is believed only when the operator trusts it (accounts.adapters).
            "VERIFIED_EMAIL": False,
            "TRUST_EMAIL_VERIFIED": env.bool("OIDC_TRUST_EMAIL_VERIFIED", default=False),
        }
    return providers


SOCIALACCOUNT_PROVIDERS = _social_providers()

# --- Email ----------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Skillmap <noreply@skillmap.local>")

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = read_path("STATIC_ROOT", VAR_DIR / "static")
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

# --- Security -------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # The code editor injects its stylesheet with the page's nonce.
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF, "https:"] if not DEBUG else [SELF, "https:", "http:"],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
    }
}

# --- REST API -------------------------------------------------------------------------
# The largest API request body (JSON): the largest answer is 64 KiB of code, which JSON
# escaping can grow several times. Larger bodies are refused with a 413 before parsing.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=512 * 1024)
# The largest question-bank file an instructor may import (YAML, Moodle XML or GIFT).
BANK_IMPORT_MAX_BYTES = env.int("BANK_IMPORT_MAX_BYTES", default=2 * 1024 * 1024)
REST_FRAMEWORK = {
    # A personal token (accounts/tokens.py) first: a request without credentials gets a
    # 401 with WWW-Authenticate. Session requests keep DRF's CSRF check; token requests
    # need none (a browser never sends the Authorization header by itself).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON bounded in size and depth (quizzes/parsers.py). Forms stay readable (a CSRF
    # token may come in one), but no API input reads JSON out of a form field.
    "DEFAULT_PARSER_CLASSES": [
        "quizzes.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "quizzes.renderers.PrintableJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.authentication.TokenScopePermission",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.api.ApiPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # Rate limits per account and per kind of request (quizzes/throttles.py), counted in
    # the shared cache. Runs and code submissions are expensive; saves are cheap.
    "DEFAULT_THROTTLE_CLASSES": [
        "quizzes.throttles.ApiReadThrottle",
        "quizzes.throttles.ApiWriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "run_examples": read_rate("RUN_EXAMPLES_RATE", "10/min"),
        "challenge_starts": read_rate("CHALLENGE_START_RATE", "20/hour"),
        "answer_saves": read_rate("API_ANSWER_SAVE_RATE", "600/min"),
        "api_reads": read_rate("API_READ_RATE", "600/min"),
        "api_writes": read_rate("API_WRITE_RATE", "120/min"),
        "bank_imports": read_rate("API_BANK_IMPORT_RATE", "30/hour"),
    },
    "EXCEPTION_HANDLER": "quizzes.problems.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Skillmap API",
    "DESCRIPTION": (
        "Quizzes, coding challenges and skill dashboards for backend engineers. "
        "Authenticate with a personal API token (`Authorization: Bearer skm_…`, created on "
        "your profile page) or the browser session (with its CSRF token). Every 4xx answer "
        "is RFC 9457 problem details (`application/problem+json`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Separate request and response components, so read-only fields never look writable.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AttemptStatusEnum": "quizzes.models.AttemptStatus",
        "SubmissionStatusEnum": "quizzes.models.SubmissionStatus",
        "ItemStatusEnum": "quizzes.models.ItemStatus",
        "QuizStatusEnum": "quizzes.models.QuizStatus",
        "TokenScopeEnum": "accounts.models.TokenScope",
        "QuizKindEnum": "quizzes.models.QuizKind",
        "SubmissionKindEnum": "quizzes.models.SubmissionKind",
        "EventKindEnum": "quizzes.models.EventKind",
        "ItemTypeEnum": "quizzes.api_schema.ITEM_TYPE_CHOICES",
    },
    "PREPROCESSING_HOOKS": ["config.api.v1_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.add_problem_responses",
        "config.api.add_links",
        "quizzes.api_schema.answers_closed",
    ],
    # Swagger UI and ReDoc assets from the sidecar package: served by us, allowed by the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------------------
CELERY_DIR = VAR_DIR / "celery"
# The broker: CELERY_BROKER_URL (Redis or RabbitMQ), else REDIS_URL, else the embedded
# folder. README "Brokers" and docs/architecture.md weigh Redis against RabbitMQ.
BROKER_URL = read_broker_url("CELERY_BROKER_URL") or REDIS_URL
if BROKER_URL and BROKER_URL.startswith(("amqp", "pyamqp")):
    CELERY_BROKER_URL = BROKER_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # A send returns only once RabbitMQ has taken the message (publisher confirms),
        # so "sent" means stored by the broker. An unacknowledged message goes back to the
        # queue as soon as its consumer's connection drops: no visibility timeout to wait.
        "confirm_publish": True,
    }
elif BROKER_URL:
    CELERY_BROKER_URL = BROKER_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest grading run, so an unacked message is not redelivered early.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
else:
    # kombu's filesystem transport, made safe against half-written and unreadable message
    # files (config/fsbroker.py); bench/broker.py compares it with the alternatives.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "config.fsbroker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "control_folder": str(CELERY_DIR / "control"),
        "claim_folder": str(CELERY_DIR / "claimed"),
        "corrupt_folder": str(CELERY_DIR / "corrupt"),
        "store_processed": False,
        # The filesystem transport sleeps this long whenever it has nothing to fetch,
        # including while every pool slot is busy: kombu's 1 s default caps a worker at
        # one task per slot per second.
        "polling_interval": env.float("FILESYSTEM_BROKER_POLLING_INTERVAL", default=0.05),
    }
    # Broadcasts on a folder are files for every worker that ever ran, read by none once it
    # is gone; nothing here uses remote control. Workers on this broker also run with
    # --without-mingle --without-gossip (deploy/supervise.py).
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (
    Queue("default", Exchange("default"), routing_key="default"),
    Queue("grading", Exchange("grading"), routing_key="grading"),
)
CELERY_TASK_ROUTES = {"skillmap.grading.*": {"queue": "grading", "routing_key": "grading"}}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after each task, so a
# worker would reconnect twice per submission, unless this is set (then it closes them
# every N tasks). config/celery.py closes them as Django does after a request instead: when
# CONN_MAX_AGE has passed or the connection is broken.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DIR / "beat-schedule")
CELERY_TIMEZONE = TIME_ZONE
# Worker liveness: each worker writes a heartbeat row this often.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=10.0)
WORKER_STALE_AFTER_SECONDS = env.float("WORKER_STALE_AFTER_SECONDS", default=60.0)
# Grading must never starve the web: each Celery worker lowers its CPU priority to this
# niceness when it starts (config/celery.py), and its pool and sandboxes inherit it.
WORKER_NICE = env.int("WORKER_NICE", default=10)
if not 0 <= WORKER_NICE <= 19:
    raise ConfigError(f"WORKER_NICE must be from 0 to 19, got {WORKER_NICE}")
# Grading pipeline (see quizzes/pipeline/grading.py). Seconds, so tests can shrink them.
# The lease must outlive the slowest grading (a system check compares them): the task's
# soft limit stops the run first, the hard limit kills it, and only then may another worker
# take the row over.
GRADING_LEASE_SECONDS = env.float("GRADING_LEASE_SECONDS", default=180.0)
GRADING_TASK_SOFT_TIME_LIMIT = env.float("GRADING_TASK_SOFT_TIME_LIMIT", default=150.0)
GRADING_TASK_TIME_LIMIT = env.float("GRADING_TASK_TIME_LIMIT", default=165.0)
GRADING_REQUEUE_AFTER_SECONDS = env.float("GRADING_REQUEUE_AFTER_SECONDS", default=300.0)
GRADING_MAX_ATTEMPTS = env.int("GRADING_MAX_ATTEMPTS", default=3)
GRADING_SWEEP_SECONDS = env.float("GRADING_SWEEP_SECONDS", default=30.0)
# A learner's submissions beyond this many queued or running wait, stored, for earlier ones.
GRADING_MAX_IN_FLIGHT_PER_LEARNER = read_positive_int("GRADING_MAX_IN_FLIGHT_PER_LEARNER", 3)
SANDBOX_HEALTH_CACHE_SECONDS = env.float("SANDBOX_HEALTH_CACHE_SECONDS", default=30.0)
# Saves up to this long after the deadline are accepted (network latency, clock skew).
ATTEMPT_GRACE_SECONDS = env.float("ATTEMPT_GRACE_SECONDS", default=30.0)
AUTOSUBMIT_SWEEP_SECONDS = env.float("AUTOSUBMIT_SWEEP_SECONDS", default=15.0)
# --- Skill model (quizzes.skill; README "How Skillmap measures skill") -------------------
# An item is calibrated from learners' responses once it has this many.
SKILL_MIN_RESPONSES = read_positive_int("SKILL_MIN_RESPONSES", 200)
# An answer this many days old weighs half as much as one given today.
SKILL_HALF_LIFE_DAYS = env.float("SKILL_HALF_LIFE_DAYS", default=180.0)
# Assumed correlation of a learner's abilities between stages (the prior's).
SKILL_STAGE_CORRELATION = env.float("SKILL_STAGE_CORRELATION", default=0.6)
# How far a topic's ability may stray from its stage's (the prior SD around the stage).
SKILL_TOPIC_SD = env.float("SKILL_TOPIC_SD", default=0.5)
# Percentiles are shown once at least this many learners have an estimate for the stage.
SKILL_PERCENTILE_MIN_LEARNERS = read_positive_int("SKILL_PERCENTILE_MIN_LEARNERS", 30)
SKILL_CALIBRATION_SECONDS = env.float("SKILL_CALIBRATION_SECONDS", default=3600.0)
SKILL_REFRESH_SECONDS = env.float("SKILL_REFRESH_SECONDS", default=300.0)
# A grade marks its learner's estimates out of date; the drain task that recomputes them
# is sent at most twice per this many seconds per process (0: once per grade).
SKILL_DRAIN_COALESCE_SECONDS = env.float("SKILL_DRAIN_COALESCE_SECONDS", default=1.0)
if SKILL_DRAIN_COALESCE_SECONDS < 0:
    raise ConfigError("SKILL_DRAIN_COALESCE_SECONDS must be 0 or more")
# The adaptive placement stops at this many items, or once every stage's SE is below the target.
PLACEMENT_MAX_ITEMS = read_positive_int("PLACEMENT_MAX_ITEMS", 40)
PLACEMENT_SE_TARGET = env.float("PLACEMENT_SE_TARGET", default=0.45)

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "health-ping": {
        "task": "skillmap.health.ping",
        "schedule": timedelta(seconds=env.float("HEALTH_PING_SECONDS", default=30.0)),
    },
    "sweep-submissions": {
        "task": "skillmap.maintenance.sweep_submissions",
        "schedule": timedelta(seconds=GRADING_SWEEP_SECONDS),
    },
    "autosubmit-attempts": {
        "task": "skillmap.maintenance.autosubmit_attempts",
        "schedule": timedelta(seconds=AUTOSUBMIT_SWEEP_SECONDS),
    },
    "skill-calibrate": {
        "task": "skillmap.skill.calibrate",
        "schedule": timedelta(seconds=SKILL_CALIBRATION_SECONDS),
    },
    "skill-refresh": {
        "task": "skillmap.skill.refresh",
        "schedule": timedelta(seconds=SKILL_REFRESH_SECONDS),
    },
}

# --- Metrics (quizzes/metrics.py; README "Operations") -----------------------------------
# /metrics answers clients in these networks, or anyone sending
# "Authorization: Bearer <METRICS_TOKEN>"; everyone else gets a 403.
METRICS_ALLOWED_NETWORKS = read_networks("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# A Celery worker serves its own metrics on this port (0: it serves none), on this address.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDRESS = env.str("WORKER_METRICS_ADDRESS", default="127.0.0.1")

# --- Logging --------------------------------------------------------------------------
# JSON lines by default, each with the request id of the request (or, in a worker, of the
# request whose task it runs): config/logs.py.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ConfigError(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "config.logs.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

for _folder in (
    CELERY_DIR / "queue",
    CELERY_DIR / "processed",
    CELERY_DIR / "control",
    CELERY_DIR / "claimed",
    CELERY_DIR / "corrupt",
    STATIC_ROOT,
):
    _folder.mkdir(parents=True, exist_ok=True)
