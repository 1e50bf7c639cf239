"""Fidelis settings: everything comes from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ
import phonenumbers
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's .env (made by `make` from .env.example) fills in what the real environment
# leaves unset; ENV_FILE lets tests and deployments point elsewhere (or at /dev/null).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "modeltranslation",  # before admin, so translated fields get their admin widgets
    "backoffice.apps.FidelisAdminConfig",  # django.contrib.admin with the dashboard site (backoffice/site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "anymail",
    "import_export",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # staff recovery codes (backoffice/two_factor.py)
    "axes",  # staff password lockout (see AXES_* below)
    "django_prometheus",  # request and database metrics on /metrics (see METRICS_* below)
    "members",
    "rewards",
    "feedback",
    "campaigns",
    "coalition",
    "backoffice",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "core.middleware.NulByteMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the admin's second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page, which then passes
    # every middleware above on its way out (the CSP header included).
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# django-axes first: it refuses a locked-out user before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = env.str("ROOT_URLCONF", default="config.urls")
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "members.context_processors.brand",
            ],
            # core is no app (it has no models); its template filters are registered here.
            "libraries": {"formatting": "core.templatetags.formatting"},
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let runserver, the beat process and tests share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
# Behind PgBouncer in transaction mode (DATABASE_URL pointing at the pooler), a server-side cursor
# would outlive the transaction it was opened in: set this to true there. Nothing else on the hot
# path keeps session state (no advisory locks, no session SET, client-side parameter binding).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False)
# A streaming read replica (core/db.py): the dashboard, metrics, exports, segment counts and reports
# read from it while it lags less than REPLICA_MAX_LAG_SECONDS; everything else reads the primary.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
    # Tests read the primary's test database through the replica (it streams there).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=30.0)
REPLICA_LAG_CHECK_SECONDS = env.float("REPLICA_LAG_CHECK_SECONDS", default=5.0)
# The admin dashboard's preset periods are precomputed this often (backoffice.dashboard.summaries);
# a summary older than three times this is not shown: the page computes live instead.
DASHBOARD_SUMMARY_SECONDS = env.float("DASHBOARD_SUMMARY_SECONDS", default=300.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Degrades to "no cache" while Redis is down (core/cache.py), so the API keeps earning.
    CACHES = {
        "default": {
            "BACKEND": "core.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ro", _("Romanian")), ("it", _("Italian")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates day-first (config/formats/en): the programs are European, US order misleads.
FORMAT_MODULE_PATH = ["config.formats"]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# EMAIL_URL: smtp://, smtp+tls://, consolemail://, ... (django-environ), or anymail://<esp> for a
# provider's HTTP API through django-anymail (brevo, mailgun, postmark, sendgrid, amazon_ses, ...), with
# its key in ANYMAIL_API_KEY and, optionally, ANYMAIL_API_URL (another endpoint: a regional one, or the
# loopback sink of the tests and the bench).
_email_url = env.str("EMAIL_URL", default="consolemail://")
if _email_url.startswith("anymail://"):
    ANYMAIL_ESP = _email_url.removeprefix("anymail://").strip("/").lower()
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
    _esp = ANYMAIL_ESP.upper()
    ANYMAIL = {
        f"{_esp}_API_KEY": env.str("ANYMAIL_API_KEY", default=""),
        # Provider webhooks (bounces, complaints) authenticate with HTTP basic auth "user:password"...
        "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
    }
    if env.str("ANYMAIL_API_URL", default=""):
        ANYMAIL[f"{_esp}_API_URL"] = env.str("ANYMAIL_API_URL")
    # ... and those that sign their payloads (Mailgun, Postmark inbound, ...) with this key.
    if env.str("ANYMAIL_WEBHOOK_SIGNING_KEY", default=""):
        ANYMAIL[f"{_esp}_WEBHOOK_SIGNING_KEY"] = env.str("ANYMAIL_WEBHOOK_SIGNING_KEY")
else:
    vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Campaign emails per provider call when the provider takes a batch with per-recipient variables (Brevo);
# 1 sends one message at a time, as SMTP always does.
CAMPAIGN_EMAIL_BATCH = env.int("CAMPAIGN_EMAIL_BATCH", default=500)
# Seconds a claimed batch that was never recorded (worker lost) may be sent again under its idempotency
# key: keep it below the provider's key lifetime. Older ones are closed as failed, never sent twice.
CAMPAIGN_BATCH_RESEND_WITHIN = env.int("CAMPAIGN_BATCH_RESEND_WITHIN", default=600)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Fidelis <loyalty@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Operators", a) for a in env.list("ADMIN_EMAILS", default=[])]
# Extra addresses for reconciliation alerts, besides superusers and the "auditor" group.
RECONCILIATION_EMAILS = env.list("RECONCILIATION_EMAILS", default=[a for _, a in ADMINS])
# Partner settlement: closing a month carries corrections for the closed months this far back, and
# the nightly reconciliation checks them against the ledger (coalition).
SETTLEMENT_CORRECTION_MONTHS = env.int("SETTLEMENT_CORRECTION_MONTHS", default=12)
# Dotted path of the SMS sender; the console backend logs the message instead of sending it.
SMS_BACKEND = env.str("SMS_BACKEND", default="core.sms.ConsoleSmsBackend")
# SMS_BACKEND=core.sms.TwilioSmsBackend: the account, its auth token (also what Twilio signs status
# callbacks with), the sender (a number or a Messaging Service SID "MG..."), and where Twilio posts each
# message's status (default: this site's /campaigns/sms/status/). TWILIO_API_BASE: another endpoint.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="")
TWILIO_STATUS_CALLBACK_URL = env.str("TWILIO_STATUS_CALLBACK_URL", default=f"{SITE_URL}/campaigns/sms/status/")

LOGIN_URL = "members:signin"

# Signed links in emails: how long each stays valid (seconds). Survey links also end at the
# invitation's own expires_at (the survey's expiry_days), whichever comes first. Unsubscribe links
# must keep working long after the email was sent (CAN-SPAM asks for 30 days at least).
SURVEY_LINK_MAX_AGE = env.int("SURVEY_LINK_MAX_AGE", default=60 * 24 * 3600)
UNSUBSCRIBE_LINK_MAX_AGE = env.int("UNSUBSCRIBE_LINK_MAX_AGE", default=365 * 24 * 3600)
# Self-service rate limits per client address and 15 minutes (members.auth.within_limit). A shop
# that signs customers up on one tablet may need more. Behind a reverse proxy, name the header that
# carries the client address (META key, e.g. HTTP_X_REAL_IP); empty uses REMOTE_ADDR.
SIGNUP_ATTEMPTS_PER_WINDOW = env.int("SIGNUP_ATTEMPTS_PER_WINDOW", default=20)
SURVEY_SUBMISSIONS_PER_WINDOW = env.int("SURVEY_SUBMISSIONS_PER_WINDOW", default=30)
RATE_LIMIT_CLIENT_HEADER = env.str("RATE_LIMIT_CLIENT_HEADER", default="")

# Phone numbers are stored in E.164 (members/phones.py). A number typed without its country code is
# read in its program's default region (Program.default_region, set in admin); new programs start
# with this one. Empty: only international numbers (+40..., 0040...) are accepted.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="").upper()
if PHONE_DEFAULT_REGION and PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured("PHONE_DEFAULT_REGION must be a two-letter region code such as RO, or empty.")

# Staff two-factor (django-otp TOTP). Optional for staff; superusers must enrol a device before
# the admin lets them do anything, unless this is off (the default in DEBUG, so the demo login of
# `make run` keeps working).
OTP_REQUIRED_FOR_SUPERUSERS = env.bool("OTP_REQUIRED_FOR_SUPERUSERS", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Fidelis")
# Staff password lockout on the admin login (django-axes; member sign-in has its own limits in
# members.auth). AXES_FAILURE_LIMIT failed passwords lock out, for AXES_COOLOFF_MINUTES, each
# criterion of AXES_LOCKOUT_PARAMETERS on its own: by default the user name (whatever the address:
# a botnet guessing one account) and the client address (whatever the user: one address spraying
# many). "username+ip_address" would count the pair instead. A success clears the count. Staff
# see and reset lockouts in admin > Axes > Access attempts (superusers, program managers).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    for item in env.list("AXES_LOCKOUT_PARAMETERS", default=["username", "ip_address"])
]
AXES_RESET_ON_SUCCESS = True
# The same client address as the member-side limits (RATE_LIMIT_CLIENT_HEADER behind a proxy).
AXES_CLIENT_IP_CALLABLE = "members.auth.client_address"
# The lockout answer: a page in the admin's look (429), not a bare string.
AXES_LOCKOUT_CALLABLE = "backoffice.site.lockout_response"
# Masked in axes' log lines and in an access attempt's stored form data (the password always is).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
# Recovery codes (django-otp static tokens): how many a staff user gets at once.
OTP_RECOVERY_CODES = env.int("OTP_RECOVERY_CODES", default=10)
# Partner webhooks may not target loopback, private, link-local or other non-public addresses
# (SSRF). Development and tests post to local receivers, so the default follows DEBUG.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=DEBUG)

# --- Security (production values are the defaults when DEBUG is off) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): same-origin everything, no inline scripts anywhere (the
# member pages, the admin, Swagger UI from drf-spectacular-sidecar all load scripts from /static/).
# Inline style *attributes* are allowed (tier colours, chart bar widths, Django admin widgets):
# they cannot run code, and <style> elements stay blocked. `data:` images are the inline SVG
# icons of the admin and Swagger UI. Django's own debug error pages are exempt when DEBUG is on.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# --- Staff ---
# Largest manual points adjustment (up or down) a staff user without members.adjust_points_unlimited
# may make at once; a program's own "adjust limit" wins over it.
POINTS_ADJUST_LIMIT = env.int("POINTS_ADJUST_LIMIT", default=1000)
# The admin asks staff to confirm an adjustment above this (it shows the amount again)...
POINTS_ADJUST_CONFIRM_ABOVE = env.int("POINTS_ADJUST_CONFIRM_ABOVE", default=1000)
# ... and above this one (a program's own "adjust approval above" wins) a second staff member approves it.
POINTS_ADJUST_APPROVAL_ABOVE = env.int("POINTS_ADJUST_APPROVAL_ABOVE", default=10000)

# --- Wallet passes (README "Member card and wallet passes"); each is off while its first variable is empty ---
# Apple Wallet: the pass type id and team id from the Apple Developer account, the pass certificate
# and its private key (PEM files; or a .p12 as the certificate with no key), the key's password, and
# Apple's WWDR intermediate certificate (PEM or DER).
APPLE_WALLET_PASS_TYPE_ID = env.str("APPLE_WALLET_PASS_TYPE_ID", default="")
APPLE_WALLET_TEAM_ID = env.str("APPLE_WALLET_TEAM_ID", default="")
APPLE_WALLET_CERTIFICATE = env.str("APPLE_WALLET_CERTIFICATE", default="")
APPLE_WALLET_KEY = env.str("APPLE_WALLET_KEY", default="")
APPLE_WALLET_KEY_PASSWORD = env.str("APPLE_WALLET_KEY_PASSWORD", default="")
APPLE_WALLET_WWDR_CERTIFICATE = env.str("APPLE_WALLET_WWDR_CERTIFICATE", default="")
if APPLE_WALLET_PASS_TYPE_ID:
    _missing = [
        name
        for name in ("APPLE_WALLET_TEAM_ID", "APPLE_WALLET_CERTIFICATE", "APPLE_WALLET_WWDR_CERTIFICATE")
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(f"APPLE_WALLET_PASS_TYPE_ID is set, so set {', '.join(_missing)} too.")
# Google Wallet: the issuer id from the Google Pay & Wallet Console and the JSON key of a service
# account that the console lets issue passes.
GOOGLE_WALLET_ISSUER_ID = env.str("GOOGLE_WALLET_ISSUER_ID", default="")
GOOGLE_WALLET_SERVICE_ACCOUNT_FILE = env.str("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE", default="")
if GOOGLE_WALLET_ISSUER_ID and not GOOGLE_WALLET_SERVICE_ACCOUNT_FILE:
    raise ImproperlyConfigured("GOOGLE_WALLET_ISSUER_ID is set, so set GOOGLE_WALLET_SERVICE_ACCOUNT_FILE too.")

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"partner": env.str("API_THROTTLE_RATE", default="6000/min")},
    "UNAUTHENTICATED_USER": None,
}
# GET /api/v1/events shows an event this many seconds after it happened: event ids are given in insert
# order but committed in any order, and a feed reader must never move past an id still to commit.
API_EVENTS_SETTLE_SECONDS = env.int("API_EVENTS_SETTLE_SECONDS", default=5)
SPECTACULAR_SETTINGS = {
    "TITLE": "Fidelis partner API",
    "DESCRIPTION": "Award, reverse and redeem loyalty points; validate and consume vouchers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "members.partners.docs.partner_api_headers",  # ETag, If-None-Match/304, RateLimit-* on every operation
    ],
    "ENUM_NAME_OVERRIDES": {
        "MemberStatusEnum": "members.models.Member.Status",
        "PointsStatusEnum": ["pending", "available", "none"],
        "LedgerKindEnum": "members.models.LedgerEntry.Kind",
        "RewardKindEnum": "rewards.models.Reward.Kind",
        "HoldReasonEnum": "members.checks.HOLD_REASONS",
        "HoldReviewEnum": ["open", "rejected"],
        "ImportKindEnum": "members.models.ImportJob.Kind",
        "VoucherStatusEnum": "rewards.models.Voucher.Status",
    },
}

# --- Celery ---
# Without a broker (no REDIS_URL, no CELERY_BROKER_URL) tasks run eagerly in the calling process and
# `celery beat` (started by `make run`) executes the periodic tasks itself over an in-memory
# transport. With REDIS_URL, tasks go to Redis and a worker runs them. CELERY_BROKER_URL picks another
# broker (RabbitMQ: amqp://user:pass@host:5672/vhost); Redis, when set, stays the cache.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://localhost/"
BROKER_IS_AMQP = CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://"))
BROKER_CONFIGURED = not CELERY_BROKER_URL.startswith("memory://")
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not BROKER_CONFIGURED
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that is down must not stall a request: publishing gives up after ~1 s (a few quick
# retries, short socket timeouts) and the row waits for its periodic sweeper instead.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Redis redelivers a task whose worker died (SIGKILL, OOM, lost host) only after the visibility
# timeout. Kombu's default (1 h) would leave half a campaign unsent for an hour; it must stay above
# the longest task (CELERY_TASK_TIME_LIMIT, 15 min) or a running task would be handed out twice.
BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=20 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
}
if BROKER_IS_AMQP:
    # RabbitMQ acknowledges each publish (publisher confirms), so a task the broker did not take is
    # an error the caller sees, and the row waits for its sweeper. A dead worker's unacked task is
    # requeued at once (no visibility timeout).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True, "connect_timeout": 1}
# On RabbitMQ the queues are quorum queues (replicated, durable; Celery then turns off global QoS);
# Redis ignores the argument, so every process declares the queues the same way.
CELERY_WORKER_DETECT_QUORUM_QUEUES = True
# Queues by purpose, so a slow campaign or a dead webhook receiver never delays a member's email
# or an earn's events. One worker may take them all (`make run`), or one worker per queue
# (Procfile, deploy/). Tasks not listed in TASK_QUEUES go to "default".
CELERY_QUEUE_NAMES = ("default", "webhooks", "bulk", "reports", "maintenance")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [
    Queue(name, routing_key=name, queue_arguments={"x-queue-type": "quorum"}) for name in CELERY_QUEUE_NAMES
]
TASK_QUEUES = {
    "webhooks": ["members.partners.tasks.webhook_deliver", "members.partners.tasks.webhooks_retry_due"],
    "bulk": [
        "campaigns.tasks.campaign_fan_out",
        "campaigns.tasks.campaign_chunk",
        "campaigns.tasks.deliveries_send",
        "campaigns.tasks.deliveries_send_due",
        "campaigns.tasks.campaigns_run_due",
        "campaigns.tasks.journeys_daily",
        "feedback.tasks.invitations_send_due",
        "feedback.tasks.invitations_remind_due",
        "feedback.tasks.surveys_relationship_schedule",
        "feedback.tasks.survey_send_manual",
        "members.tasks.import_job_run",
    ],
    "reports": [
        "members.tasks.metric_snapshots_refresh",
        "members.tasks.reconciliation_run",
        "members.tasks.ledger_check",
        "members.tasks.loyalty_types_recompute",
        "coalition.tasks.settlements_close_due",
        "campaigns.tasks.campaign_results_refresh",
        "backoffice.tasks.dashboard_summaries_refresh",
    ],
    "maintenance": [
        "members.tasks.points_release_pending",
        "members.tasks.points_expire_due",
        "members.tasks.tiers_review",
        "members.tasks.subscriptions_expire",
        "members.tasks.points_expiry_notify",
        "members.tasks.birthdays_award",
        "members.partners.tasks.idempotency_purge",
        "members.tasks.partitions_maintain",
        "members.tasks.retention_apply",
        "rewards.tasks.vouchers_expire",
        "rewards.tasks.burn_holds_lapse",
        "rewards.tasks.surprises_anniversaries",
        "feedback.tasks.tickets_escalate_overdue",
        "feedback.tasks.ticket_emails_retry",
    ],
}
CELERY_TASK_ROUTES = {task: {"queue": queue} for queue, tasks in TASK_QUEUES.items() for task in tasks}
CELERY_TIMEZONE = TIME_ZONE
# A worker's lines carry the id of the request that enqueued the task (config/celery.py).
CELERY_WORKER_LOG_FORMAT = "[%(asctime)s: %(levelname)s/%(processName)s] [%(request_id)s] %(message)s"
CELERY_WORKER_TASK_LOG_FORMAT = (
    "[%(asctime)s: %(levelname)s/%(processName)s] %(task_name)s[%(task_id)s] [%(request_id)s] %(message)s"
)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Logging: one line per record on stdout, tagged with the request id; no personal data ---
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "json": one JSON object per line (time, level, logger, request_id, message) for log shippers.
LOG_FORMAT = env.str("LOG_FORMAT", default="line")
if LOG_FORMAT not in ("line", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be line or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.middleware.RequestIdFilter"},
        # Emails, phone numbers, signed tokens and API keys never reach a log line.
        "redact": {"()": "core.redaction.RedactFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.observability.json_formatter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id", "redact"],
            "formatter": LOG_FORMAT,
        },
        # Django's default error emails to ADMINS, with the same redaction (also of the traceback).
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "request_id", "redact"],
            "include_html": False,
            "reporter_class": "core.redaction.RedactingExceptionReporter",
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Replace Django's default handlers (console, django.server, mail_admins) with ours, so
        # every line, the dev server's request lines included, passes the redaction filter.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "django.request": {"level": "WARNING"},
        # In eager mode every task would log twice per request; keep those lines for real workers.
        "celery.app.trace": {"level": "INFO" if BROKER_CONFIGURED else "WARNING"},
        # django-axes: keep its failures and lockouts (WARNING), not a line per login and command.
        "axes": {"level": "WARNING"},
    },
}

# Periodic work. `celery beat` copies these into django-celery-beat's tables, where staff can
# change or pause them in admin. Each app adds its own jobs here.
CELERY_BEAT_SCHEDULE = {
    "events-sweep": {"task": "members.tasks.events_sweep", "schedule": 60.0},
    "points-release-pending": {"task": "members.tasks.points_release_pending", "schedule": 15 * 60.0},
    "points-expire-due": {"task": "members.tasks.points_expire_due", "schedule": 60 * 60.0},
    "tiers-review": {"task": "members.tasks.tiers_review", "schedule": 24 * 60 * 60.0},
    "subscriptions-expire": {"task": "members.tasks.subscriptions_expire", "schedule": 60 * 60.0},
    "rule-revisions-publish-due": {"task": "members.tasks.rule_revisions_publish_due", "schedule": 60.0},
    "webhooks-retry-due": {"task": "members.partners.tasks.webhooks_retry_due", "schedule": 60.0},
    "idempotency-purge": {"task": "members.partners.tasks.idempotency_purge", "schedule": 60 * 60.0},
    "points-expiry-notify": {"task": "members.tasks.points_expiry_notify", "schedule": 24 * 60 * 60.0},
    # Hourly: each member's birthday starts at their own local midnight (members.zones).
    "birthdays-award": {"task": "members.tasks.birthdays_award", "schedule": 60 * 60.0},
    "loyalty-types-recompute": {"task": "members.tasks.loyalty_types_recompute", "schedule": 24 * 60 * 60.0},
    "feedback-invitations-send": {"task": "feedback.tasks.invitations_send_due", "schedule": 5 * 60.0},
    "feedback-invitations-remind": {"task": "feedback.tasks.invitations_remind_due", "schedule": 60 * 60.0},
    "feedback-relationship-surveys": {
        "task": "feedback.tasks.surveys_relationship_schedule",
        "schedule": 24 * 60 * 60.0,
    },
    "feedback-tickets-escalate": {"task": "feedback.tasks.tickets_escalate_overdue", "schedule": 15 * 60.0},
    "feedback-ticket-emails-retry": {"task": "feedback.tasks.ticket_emails_retry", "schedule": 10 * 60.0},
    "rewards-burn-holds-lapse": {"task": "rewards.tasks.burn_holds_lapse", "schedule": 60.0},
    "rewards-vouchers-expire": {"task": "rewards.tasks.vouchers_expire", "schedule": 60 * 60.0},
    "rewards-surprises-anniversaries": {"task": "rewards.tasks.surprises_anniversaries", "schedule": 24 * 60 * 60.0},
    "campaigns-run-due": {"task": "campaigns.tasks.campaigns_run_due", "schedule": 60.0},
    "campaigns-deliveries-send-due": {"task": "campaigns.tasks.deliveries_send_due", "schedule": 5 * 60.0},
    "campaigns-journeys-daily": {"task": "campaigns.tasks.journeys_daily", "schedule": 24 * 60 * 60.0},
    "metric-snapshots-refresh": {"task": "members.tasks.metric_snapshots_refresh", "schedule": 24 * 60 * 60.0},
    # Partner settlement: last month's statements are closed (and frozen) in the small hours after it ends.
    "settlements-close-due": {"task": "coalition.tasks.settlements_close_due", "schedule": crontab(hour=2, minute=15)},
    # The admin dashboard reads these summaries (it says how fresh they are): campaign results while
    # their attribution window is open, and each preset period's page for every program.
    "campaign-results-refresh": {"task": "campaigns.tasks.campaign_results_refresh", "schedule": 10 * 60.0},
    "dashboard-summaries-refresh": {
        "task": "backoffice.tasks.dashboard_summaries_refresh",
        "schedule": DASHBOARD_SUMMARY_SECONDS,
    },
    # Nightly, when the ledger is quiet: ledger, voucher and stock checks; staff are emailed on a mismatch.
    "reconciliation-run": {"task": "members.tasks.reconciliation_run", "schedule": crontab(hour=3, minute=30)},
    # Monthly partitions (PostgreSQL) created ahead, and old months dropped per DATA_RETENTION_MONTHS.
    "partitions-maintain": {"task": "members.tasks.partitions_maintain", "schedule": crontab(hour=2, minute=10)},
    "retention-apply": {"task": "members.tasks.retention_apply", "schedule": crontab(hour=4, minute=10)},
}

# --- Partitions and retention (core.partitions, members.retention; README "Partitions and retention") ---
# Monthly partitions created ahead of the current month (the migration and the daily job).
PARTITION_MONTHS_AHEAD = env.int("PARTITION_MONTHS_AHEAD", default=3)
# Whole months kept before the current one, per table that may lose old rows. The ledger and the
# audit trail are never dropped; a month of events is kept while one of them is not dispatched, a
# month of campaign deliveries while one of them still waits to be sent.
DATA_RETENTION_MONTHS = {
    "members_event": env.int("RETENTION_EVENTS_MONTHS", default=3),
    "members_eventhandling": env.int("RETENTION_EVENTS_MONTHS", default=3),
    "members_webhookdelivery": env.int("RETENTION_WEBHOOK_DELIVERIES_MONTHS", default=3),
    "members_idempotencykey": env.int("RETENTION_IDEMPOTENCY_KEYS_MONTHS", default=1),
    "campaigns_delivery": env.int("RETENTION_CAMPAIGN_DELIVERIES_MONTHS", default=12),
}
# Where a month is copied as CSV (<table>_<YYYYMM>.csv) before it is dropped; empty: no copy.
RETENTION_ARCHIVE_DIR = env.str("RETENTION_ARCHIVE_DIR", default="")

# --- Operations: error tracking and metrics ---
# Sentry (optional): errors of requests and tasks, and beat check-ins; events pass the log redaction.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.observability import sentry_init

    sentry_init(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
# Prometheus scrapes /metrics from these networks only (request, database and queue gauges).
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
