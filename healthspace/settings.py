"""healthspace settings, read once from the environment.

Nothing set gives the embedded default: SQLite, files on local disk, Celery
tasks run in-process, in-memory channel layer and cache, e-mail to the
console. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
``HEALTHSPACE_ENV=production`` turns on the production checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from healthspace import local_secrets
from healthspace.env import env_bool, env_choice, env_int, env_key_ring, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HEALTHSPACE_VAR_DIR", str(BASE_DIR / "var")))

# The sample health documents the demo is built from (shared/corpus beside the checkout).
CORPUS_DIR = Path(env_str("HEALTHSPACE_CORPUS_DIR", str(BASE_DIR.parent / "shared" / "corpus")))

HEALTHSPACE_ENV = env_choice("HEALTHSPACE_ENV", "embedded", ("embedded", "production"))
PRODUCTION = HEALTHSPACE_ENV == "production"

# DEBUG pages show settings and tracebacks full of health data: on only while every
# allowed host is this machine's own (loopback). Asked for with a public host, refused.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1", "testserver")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else list(LOOPBACK_HOSTS))
PUBLIC_HOSTS = [host for host in ALLOWED_HOSTS if host not in LOOPBACK_HOSTS]
DEBUG = env_bool("DEBUG", not PRODUCTION and not PUBLIC_HOSTS)

# The embedded default's secret key is generated at first start into VAR_DIR/secrets
# (healthspace/local_secrets.py), never a value from the repository.
SECRET_KEY = env_str("SECRET_KEY", "")
EMBEDDED_SECRETS_DIR: Path | None = None  # set when generated secrets are in use (a start-up warning names it)

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when HEALTHSPACE_ENV=production.")
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least 32 characters when HEALTHSPACE_ENV=production."
        )
elif DEBUG and PUBLIC_HOSTS:
    raise ImproperlyConfigured(
        f"DEBUG must be off when ALLOWED_HOSTS names a host other than this machine ({', '.join(PUBLIC_HOSTS)}): "
        "debug pages show settings and health data to anyone who can reach them."
    )
if not SECRET_KEY:
    EMBEDDED_SECRETS_DIR = local_secrets.secrets_dir(VAR_DIR)
    SECRET_KEY = local_secrets.embedded_secret_key(VAR_DIR)

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_ID = 1
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "apps.accounts.admin_site.OperatorAdminConfig",  # the admin, only after the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API docs' script served from here, not a CDN
    "csp",
    "channels",
    "apps.accounts",
    "apps.accounts.oauth",
    "apps.access",
    "apps.records",
    "apps.intake",  # uploads and imports in: inspection, pipeline tasks, import_records
    "apps.clinical",
    "apps.consents",
    "apps.summaries",
    "apps.delegations",
    "apps.assistance",
    "apps.notifications",
    "healthspace.apps.HealthspaceConfig",  # start-up checks of unsafe settings (healthspace/checks.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "apps.access.middleware.AccessContextMiddleware",
    "apps.access.journal.KeepDenialsMiddleware",  # denials outlive a rolled-back transaction
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.accounts.middleware.SessionExpiryMiddleware",
    "apps.accounts.middleware.TwoFactorMiddleware",
    "apps.assistance.middleware.AccountActsReviewMiddleware",  # acts under a mandate, seen at next login
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "healthspace.urls"
WSGI_APPLICATION = "healthspace.wsgi.application"
ASGI_APPLICATION = "healthspace.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    # Under ASGI each request may run in another thread, and a persistent connection
    # (CONN_MAX_AGE > 0) stays open per thread: connections pile up until PostgreSQL refuses
    # new clients. psycopg 3's pool lends one to each request and takes it back after.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2, minimum=0),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=1),
            # A request waits this long for a connection, then gets a 503 (healthspace.views.server_error).
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
        }
        # A statement still running this long is cancelled by PostgreSQL: the work of a request the
        # client abandoned (or of a runaway query) is bounded. 0 turns the limit off.
        # JIT off: its compilation costs more than our short indexed queries (the summary's per-thing
        # lookups, over-estimated by the planner, paid 80-110 ms of JIT for an 8 ms query).
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"-c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT_MS', 30_000, minimum=0)} -c jit=off"
        )
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL when HEALTHSPACE_ENV=production.")
else:
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)  # the database and documents: the owner's only
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "healthspace.sqlite3"),
            # Several threads of the ASGI server share the file: wait for the
            # write lock instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker, channel layer ----------------------------
REDIS_URL = env_url("REDIS_URL", ("redis", "rediss"))
if PRODUCTION and not REDIS_URL:
    # Rate limits and lock-outs live in the cache: a per-process cache would give every
    # web node (and every restart) a fresh allowance of password and code guesses.
    raise ImproperlyConfigured(
        "REDIS_URL must be set when HEALTHSPACE_ENV=production: rate limits and lock-outs need the shared cache."
    )
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host(s) when HEALTHSPACE_ENV=production.")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", ("redis", "rediss", "amqp")) or REDIS_URL
# Without a broker, tasks run in-process: the embedded default needs no worker.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# A broker outage must not slow every upload down: give up publishing fast; the
# outbox flush and the stalled-documents job hand the work over again later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# Tasks are acknowledged late and idempotent: if the broker connection drops, stop
# them so they run again cleanly rather than finish unacknowledged.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BEAT_SCHEDULE = {
    "flush-outbox": {"task": "apps.notifications.tasks.flush_outbox", "schedule": 60.0},
    "resume-documents": {"task": "apps.records.tasks.resume_stalled_documents", "schedule": 120.0},
    "resume-summary-exports": {"task": "apps.summaries.tasks.resume_stalled_summary_exports", "schedule": 60.0},
    "daily-digests": {"task": "apps.notifications.tasks.send_daily_digests", "schedule": 24 * 3600.0},
    "purge-summary-exports": {"task": "apps.summaries.tasks.purge_old_summary_exports", "schedule": 24 * 3600.0},
    "clear-expired-tokens": {"task": "apps.accounts.oauth.tasks.clear_expired_tokens", "schedule": 24 * 3600.0},
    "journal-checkpoint": {"task": "apps.access.tasks.journal_checkpoint_task", "schedule": 3600.0},
    "journal-verify": {"task": "apps.access.tasks.journal_verify_task", "schedule": 3600.0, "kwargs": {"full": False}},
    "journal-verify-full": {"task": "apps.access.tasks.journal_verify_task", "schedule": 7 * 24 * 3600.0},
    # The journal's monthly partitions, three months ahead (PostgreSQL; apps/access/partitions.py).
    "journal-partitions": {"task": "apps.access.tasks.journal_partitions_task", "schedule": 24 * 3600.0},
}

# --- Authentication ----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
# E-mail, or the login identifier of an account opened at a support desk (printed
# on its activation letter). Open sign-up still asks for an e-mail only.
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "login_id"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_ADAPTER = "apps.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "apps.accounts.forms.PatientSignupForm", "login": "apps.accounts.forms.LoginForm"}
# Password guessing: 5 failures per e-mail within 5 minutes lock that e-mail
# out; a successful password reset lifts the lock.
# Every other way in uses the same limiter (allauth.core.ratelimit.consume, the shared cache)
# and the same client address (TRUSTED_PROXY_COUNT below): one rule, whatever the door.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/m/ip,5/300s/key",
    "confirm_email": "1/180s/key",
    "reset_password": "20/m/ip,5/m/key",
    # allauth's re-authentication page counts per user (it passes no key: "/key" made it a 500).
    "reauthenticate": "20/m/ip,10/300s/user",
    "otp": "20/m/ip",
    "activation": "20/10m/ip,5/10m/key",
    "access_code": "20/10m/ip,10/10m/key",
    "mandate_code": "20/10m/ip,5/10m/key",
    "oauth_token": "30/m/ip",
}
OTP_TOTP_ISSUER = "healthspace"
# django-otp's own growing delay is off: our lock-out (below) stops guessing
# and tells the person, where a silent delay only refuses good codes.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Behind a reverse proxy: how many proxies' X-Forwarded-For entries to trust, for the journal's
# address and every rate limit (allauth's own setting, so both agree). 0 = the connection's address.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
OTP_MAX_FAILURES = env_int("OTP_MAX_FAILURES", 5, minimum=1)
# A summary PDF is made for one download; after this many days it (and its row) is deleted.
SUMMARY_EXPORT_KEEP_DAYS = env_int("SUMMARY_EXPORT_KEEP_DAYS", 7, minimum=1)
# A medication that no document has re-confirmed for this many months is shown as "possibly no
# longer taken" (apps/clinical/status.py), never silently as current.
MEDICATION_RECONFIRM_MONTHS = env_int("MEDICATION_RECONFIRM_MONTHS", 12, minimum=1)
OTP_LOCKOUT_MINUTES = env_int("OTP_LOCKOUT_MINUTES", 15, minimum=1)

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60, minimum=60)
# An inactivity timeout, not a fixed one: activity pushes the expiry back at most once a minute
# (SessionExpiryMiddleware) rather than with a write and a commit on every request.
SESSION_SAVE_EVERY_REQUEST = False
# Sessions stay in the database (one primary-key read per request), not in Redis: with
# cached_db a Redis outage turns every request into an error (its cache write after a database
# read is not guarded), and a logout during a partition would come back with the stale copy.
# And an absolute one: however active, a session ends this long after login (apps/accounts/middleware.py).
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=300)
# Sensitive acts (e-mail change, turning 2FA off, a delegation, a mandate) ask the password again
# unless it was confirmed within this many seconds (allauth's reauthentication).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_METHODS = ("password",)
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("ACCOUNT_REAUTHENTICATION_TIMEOUT", 5 * 60, minimum=30)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "healthspace.views.csrf_failure"

# --- Access policy -------------------------------------------------------------
# The bases on which the one door opens, tried in order (apps/access/bases.py).
ACCESS_POLICY_BASES = [
    "apps.access.bases.Owner",
    "apps.access.bases.ParentOfDependent",
    "apps.delegations.bases.DelegationBasis",
    "apps.assistance.bases.MandateBasis",
    "apps.assistance.bases.StructureManagerBasis",
    "apps.access.bases.OperatorImport",
    "apps.access.professional.bases.CareRelationshipBasis",
    "apps.access.professional.bases.DesignatedDoctorBasis",
    "apps.access.professional.bases.AccessCodeBasis",
    "apps.access.professional.bases.BreakGlassBasis",
]
# Checked after a basis grants: the person's choices that override it. Each answers for one
# document and, as a filter, for lists (apps/access/restrictions.py): listed once, for both.
ACCESS_POLICY_RESTRICTIONS = [
    "apps.access.professional.bases.PersonsRestrictions",
    "apps.access.restrictions.ConfidentialFromParents",
    "apps.access.restrictions.MaskedFromProfessionals",
    "apps.access.restrictions.ProfessionMatrix",
]
# Told of each decision once it is journaled (apps/access/listeners.py): the policy sends nothing.
ACCESS_DECISION_LISTENERS = [
    "apps.notifications.listeners.TellOfUse",
    "apps.notifications.listeners.FirstProfessionalAccess",
    "apps.notifications.listeners.BreakGlass",
    "apps.notifications.listeners.AccessCodeUse",
]

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root

# --- Object storage -----------------------------------------------------------------
# With S3_BUCKET set, uploaded documents (already encrypted, apps/records/crypto.py)
# go to S3-compatible object storage instead of MEDIA_ROOT. Private objects, never
# overwritten, reached only through signed URLs.
S3_BUCKET = env_str("S3_BUCKET", "")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_url("S3_ENDPOINT_URL", ("http", "https")),
            "region_name": env_str("S3_REGION", "us-east-1"),
            "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
            "location": env_str("S3_PREFIX", "").strip("/"),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }

# --- Upload checks (apps/intake/inspection.py) -------------------------------------
# The largest document accepted, in bytes; above it an upload is refused ("too_large").
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
# Uploaded files up to this size stay in memory; larger ones are streamed to a
# temporary file (FILE_UPLOAD_TEMP_DIR, deleted after the request) instead of
# holding a worker's memory. 10 MB keeps typical documents, Synthea bundles of
# several MB included, off the disk: a temporary file is plaintext health data,
# so in production FILE_UPLOAD_TEMP_DIR belongs on an encrypted or tmpfs volume.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR", "") or None
# Request bodies other than uploaded files (a FHIR Bundle or CDA posted as the
# body of an API call): Django's 2.5 MB default would refuse a Synthea bundle,
# so a posted document gets the same limit as an uploaded file.
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
# clamd to scan uploads with (INSTREAM): "host:port" or a Unix socket path; empty = no scanning.
CLAMAV_ADDRESS = env_str("CLAMAV_ADDRESS", "")

# --- Document encryption at rest (apps/records/crypto.py) ------------------------
# Master keys wrap each document's own data key. DOCUMENT_MASTER_KEYS is
# "k2:base64key,k1:base64key": the first is active (wraps new content), the
# others only unwrap older content until it is rewrapped (rotation steps at the
# top of crypto.py). Without it, the embedded default generates a random key at
# first start into VAR_DIR/secrets/document_master_keys and reuses it (back it up
# with the database: without it the stored documents cannot be read); production
# refuses to start without real keys.
# Before this, the embedded default derived its key from a SECRET_KEY written in the
# repository (public): documents stored by such an older var/ no longer open. Delete
# var/ (or var/healthspace.sqlite3 and var/media) and `make run` seeds the demo afresh;
# to keep them, put the old derived key after the new one in DOCUMENT_MASTER_KEYS and
# run `manage.py rewrap_document_keys`.
_document_key_ring = env_key_ring("DOCUMENT_MASTER_KEYS")
if _document_key_ring is None:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "DOCUMENT_MASTER_KEYS must be set (id:base64key of 32 random bytes, first = active) "
            "when HEALTHSPACE_ENV=production."
        )
    EMBEDDED_SECRETS_DIR = local_secrets.secrets_dir(VAR_DIR)
    _generated_ring = str(EMBEDDED_SECRETS_DIR / local_secrets.DOCUMENT_KEYS_FILE)
    _document_key_ring = env_key_ring(
        _generated_ring, {_generated_ring: local_secrets.embedded_document_key_ring(VAR_DIR)}
    )
assert _document_key_ring is not None  # set in the environment, or the generated ring just read
DOCUMENT_MASTER_KEYS: dict[str, bytes] = _document_key_ring
DOCUMENT_ACTIVE_KEY_ID = next(iter(DOCUMENT_MASTER_KEYS))

# --- Access journal integrity (apps/access/journal_keys.py, checkpoints.py) -------------
# JOURNAL_KEYS: "k2:base64key,k1:base64key", HMAC keys the database never holds; the first
# authenticates new entries, the others still verify older ones (rotation). JOURNAL_SIGNING_KEY:
# base64 of the 32-byte Ed25519 seed that signs checkpoints. Generated into VAR_DIR/secrets
# by the embedded default; production refuses to start without them.
_journal_key_ring = env_key_ring("JOURNAL_KEYS")
JOURNAL_SIGNING_KEY = env_str("JOURNAL_SIGNING_KEY", "")
if PRODUCTION and (_journal_key_ring is None or not JOURNAL_SIGNING_KEY):
    raise ImproperlyConfigured(
        "JOURNAL_KEYS (id:base64key of 32 random bytes, first = active) and JOURNAL_SIGNING_KEY "
        "(base64 of a 32-byte Ed25519 seed) must be set when HEALTHSPACE_ENV=production."
    )
if _journal_key_ring is None:
    _generated_journal_ring = str(local_secrets.secrets_dir(VAR_DIR) / local_secrets.JOURNAL_KEYS_FILE)
    _journal_key_ring = env_key_ring(
        _generated_journal_ring, {_generated_journal_ring: local_secrets.embedded_journal_key_ring(VAR_DIR)}
    )
assert _journal_key_ring is not None  # set in the environment, or the generated ring just read
JOURNAL_KEYS: dict[str, bytes] = _journal_key_ring
JOURNAL_SIGNING_KEY = JOURNAL_SIGNING_KEY or local_secrets.embedded_journal_signing_key(VAR_DIR)
# The signed checkpoints go OUTSIDE the database: a storage alias of STORAGES (below).
JOURNAL_CHECKPOINT_STORAGE = "journal_checkpoints"
STORAGES[JOURNAL_CHECKPOINT_STORAGE] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": env_str("JOURNAL_CHECKPOINT_DIR", str(VAR_DIR / "journal-checkpoints"))},
}
if S3_BUCKET:
    STORAGES[JOURNAL_CHECKPOINT_STORAGE] = {
        "BACKEND": STORAGES["default"]["BACKEND"],
        "OPTIONS": {
            **STORAGES["default"]["OPTIONS"],
            "bucket_name": env_str("JOURNAL_CHECKPOINT_BUCKET", S3_BUCKET),
            "location": env_str("JOURNAL_CHECKPOINT_PREFIX", "journal-checkpoints").strip("/"),
        },
    }

# --- E-mail -------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "healthspace <no-reply@healthspace.localhost>")
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.api_permissions.IsVerifiedUser"],
    "DEFAULT_SCHEMA_CLASS": "healthspace.api_schema.ApiSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # One 404 body for every refusal of record data; bad input is a 400, never a 500.
    "EXCEPTION_HANDLER": "healthspace.api_errors.api_exception_handler",
    # DRF's throttles read the client address by the same rule as everything else.
    "NUM_PROXIES": ALLAUTH_TRUSTED_PROXY_COUNT,
}
# OAuth 2.0 (django-oauth-toolkit): the only way for an app or a script to use the API.
# Authorisation code + PKCE S256 only; tokens hashed at rest; short access tokens; refresh
# tokens rotate, and replaying a used one ends the whole sign-in (RFC 9700).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth.Application"
OAUTH2_PROVIDER = {
    "SCOPES": {"api": _("Use your health space for you: read and act as you can on the website")},
    "DEFAULT_SCOPES": ["api"],
    "OAUTH2_VALIDATOR_CLASS": "apps.accounts.oauth.validators.OAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OAUTH_ACCESS_TOKEN_SECONDS", 10 * 60, minimum=60),
    # A sign-in unused for this long ends (counted from its last access token's expiry).
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("OAUTH_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600, minimum=600),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    # "http" only for loopback callbacks of native apps (RFC 8252): oauth.Application checks it.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "REQUEST_APPROVAL_PROMPT": "force",
    # The issuer named in every authorisation answer (RFC 9207), never derived from a Host header.
    "OIDC_ISS_ENDPOINT": SITE_URL,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "healthspace API",
    "DESCRIPTION": "The personal health space: records, documents, access journal.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The API's tokens: OAuth 2.0 authorisation code with PKCE (S256), refresh with rotation.
    "OAUTH2_FLOWS": ["authorizationCode"],
    "OAUTH2_AUTHORIZATION_URL": "/o/authorize/",
    "OAUTH2_TOKEN_URL": "/o/token/",
    "OAUTH2_REFRESH_URL": "/o/token/",
    "OAUTH2_SCOPES": {"api": "Use the health space for the person: read and act as they can on the website"},
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "DocumentStatusEnum": "apps.records.models.DocumentStatus",
        "SummaryExportStatusEnum": "apps.summaries.models.ExportStatus",
    },
}

# --- Security -------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading binds the whole domain to HTTPS in browsers for good: the operator's choice.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]  # "not preloaded": a deliberate choice, see above

# Content-Security-Policy (django-csp 4): no inline script or style, nothing from another
# origin; a page that needs more says so with csp_update (e.g. the API docs, healthspace/urls.py).
_site = urlsplit(SITE_URL)
_websocket_origin = f"{'wss' if _site.scheme == 'https' else 'ws'}://{_site.netloc}"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "manifest-src": [SELF],
        # 'self' covers ws(s) of the same host in current browsers; the explicit origin helps older ones.
        "connect-src": [SELF, _websocket_origin],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))},
}
