"""Lectern settings, read from plain environment variables.

Safe production defaults: DEBUG is off unless set, SECRET_KEY is required
outside DEBUG, and every integration stays off until its variables are set.
`.env.example` and the README document each variable.
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from core.env import env_bool, env_int, env_list, env_str
from core.pool import check_pooled_connection

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "Lectern"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.usersessions",
    "anymail",
    # Our apps, bottom layer first (the import contracts in pyproject.toml): each may
    # import only those listed before it, and their hooks are set up in this order.
    "core",
    "outbox",
    "privacy",
    "accounts",
    "onboarding",
    "support",
    "files",
    "courses",
    "storefront",
    "notifications",
    "messaging",
    "billing",
    "analytics",
    "live",
    "ai",
    "crm",
]

MIDDLEWARE = [
    # First, so its timing covers every other middleware; not loaded while metrics are off.
    "core.metrics.RequestMetricsMiddleware",
    "core.middleware.RequestIdMiddleware",
    "messaging.middleware.IdlePollMiddleware",
    "core.middleware.FormErrorStatusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "analytics.middleware.StorefrontAnalyticsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "privacy.middleware.PolicyAcceptanceMiddleware",
]

ROOT_URLCONF = "config.urls"
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
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "notifications.context_processors.unread",
                "messaging.context_processors.unread",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several people at once on the embedded default: a transaction that will
    # write takes the write lock when it begins (a deferred one fails with
    # "database is locked" when it finds another writer), readers don't wait for
    # writers (WAL), and a writer waits its turn for up to 20 s instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool replaces persistent connections; the two can't be combined.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    if env_bool("DATABASE_POOL", True):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 1),
            "max_size": env_int("DATABASE_POOL_MAX", 10),
            # Connections a restarted server closed are dropped before a request gets one.
            "check": check_pooled_connection,
        }
    # Parameters travel apart from the SQL, so psycopg prepares a statement the
    # connection keeps running (the storefront's facts query, session and user
    # lookups) and PostgreSQL stops planning it afresh on every request. A pooler
    # in transaction mode (PgBouncer) in front of PostgreSQL needs this off.
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, Celery -----------------------------------------------

REDIS_URL = env_str("REDIS_URL")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "lectern",
        }
    }
    SESSION_ENGINE = "accounts.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Each worker's own memory, for copies checked against the database on every use (the
# storefront's pages): a hit there saves the round trip to the shared cache.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "lectern-local",
    "TIMEOUT": 10,
    "OPTIONS": {"MAX_ENTRIES": 256},
}

SESSION_COOKIE_AGE = env_int("SESSION_DAYS", 14) * 24 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: pages carry the token in their forms and in htmx's
# headers, and cached pages fetch it from /csrf-token/. So script can't read it either.
CSRF_COOKIE_HTTPONLY = True

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
if REDIS_URL:
    # Only callers that ask (apply_async(ignore_result=False)) get a stored result.
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
# A task message taken by a worker that then died whole (killed, its machine lost) goes back
# on the queue after this many seconds; a worker whose pool process dies requeues it at once.
# It must outlast the longest task (an export may run up to an hour before it is taken for
# lost) and the longest countdown (ten minutes), or a message still being worked on, or held
# for later, is handed out a second time. Lost emails, webhook events and erasures are picked
# up again sooner by their periodic jobs.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 3600),
    # Look for such messages about once a minute (kombu's default is every 100 s).
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 6,
}

# --- Messaging --------------------------------------------------------------

MESSAGE_MAX_CHARS = env_int("MESSAGE_MAX_CHARS", 10_000)
MESSAGE_RATE_PER_MINUTE = env_int("MESSAGE_RATE_PER_MINUTE", 20)
MESSAGE_POLL_SECONDS = env_int("MESSAGE_POLL_SECONDS", 3)
# A message still unread after this long becomes a notification (and maybe an email).
MESSAGE_NOTIFY_DELAY_MINUTES = env_int("MESSAGE_NOTIFY_DELAY_MINUTES", 10)

# --- Courses: enrolment -----------------------------------------------------

# How long a visitor's registration holds a seat before they confirm their address.
GUEST_HOLD_HOURS = env_int("GUEST_HOLD_HOURS", 48)
# How long a seat is held for a payment in progress.
PAYMENT_HOLD_MINUTES = env_int("PAYMENT_HOLD_MINUTES", 30)
# How long a seat freed in a paid course is kept for the next student on the waitlist to pay.
WAITLIST_OFFER_HOURS = env_int("WAITLIST_OFFER_HOURS", 24)

# --- Payments (Stripe) ------------------------------------------------------
# Without a secret key payments are off: paid courses stay closed, everything else works.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
# Signing secrets of the two webhook endpoints: the platform's events, and connected accounts'.
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_CONNECT_WEBHOOK_SECRET = env_str("STRIPE_CONNECT_WEBHOOK_SECRET", "")
# Another Stripe-compatible API host (stripe-mock, a local stand-in); empty: Stripe itself.
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")
# Days a teacher over their plan's active-student limit has to upgrade or fall back under it
# before new paid enrolments pause.
PLAN_CAP_GRACE_DAYS = env_int("PLAN_CAP_GRACE_DAYS", 7)

# --- Live classes (LiveKit) ------------------------------------------------
# Without all three, "Live on Lectern" is off and sessions keep their external links.
LIVEKIT_URL = env_str("LIVEKIT_URL", "")
LIVEKIT_API_KEY = env_str("LIVEKIT_API_KEY", "")
LIVEKIT_API_SECRET = env_str("LIVEKIT_API_SECRET", "")
if LIVEKIT_API_SECRET and len(LIVEKIT_API_SECRET.encode()) < 32:
    raise ImproperlyConfigured("LIVEKIT_API_SECRET must be at least 32 bytes long.")
# Minutes after a session's end during which its room may still be joined.
LIVE_JOIN_GRACE_MINUTES = env_int("LIVE_JOIN_GRACE_MINUTES", 30)

# --- Course AI (any OpenAI-compatible endpoint) -----------------------------
# Without AI_BASE_URL and AI_MODEL the AI features are off. AI_API_KEY may stay empty for a
# local server that asks for none (Ollama, llama.cpp). Only these settings switch AI on: the
# SDK's own environment variables (OPENAI_API_KEY, OPENAI_BASE_URL) are never read.
AI_BASE_URL = env_str("AI_BASE_URL", "").rstrip("/")
AI_API_KEY = env_str("AI_API_KEY", "")
AI_MODEL = env_str("AI_MODEL", "")
if AI_BASE_URL and not AI_BASE_URL.endswith("/v1"):
    raise ImproperlyConfigured(
        "AI_BASE_URL must end in /v1, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1."
    )
# The longest one AI request may take, in seconds, from sending it to the last word of the answer.
AI_TIMEOUT_SECONDS = env_int("AI_TIMEOUT_SECONDS", 30)

# --- Fraud signals ----------------------------------------------------------
# Rules raise a signal on a teacher account for staff to review (admin → Fraud signals).
# High coupon use: of a teacher's last FRAUD_COUPON_RECENT_SALES paid enrolments within
# FRAUD_COUPON_WINDOW_DAYS (at least FRAUD_COUPON_MIN_SALES of them), FRAUD_COUPON_SHARE_PERCENT
# or more took FRAUD_COUPON_DISCOUNT_PERCENT or more off the price.
FRAUD_COUPON_WINDOW_DAYS = env_int("FRAUD_COUPON_WINDOW_DAYS", 30)
FRAUD_COUPON_RECENT_SALES = env_int("FRAUD_COUPON_RECENT_SALES", 20)
FRAUD_COUPON_MIN_SALES = env_int("FRAUD_COUPON_MIN_SALES", 10)
FRAUD_COUPON_SHARE_PERCENT = env_int("FRAUD_COUPON_SHARE_PERCENT", 80)
FRAUD_COUPON_DISCOUNT_PERCENT = env_int("FRAUD_COUPON_DISCOUNT_PERCENT", 80)
# Card testing: this many declined card attempts on one teacher's courses within an hour.
FRAUD_CARD_FAILURES_PER_HOUR = env_int("FRAUD_CARD_FAILURES_PER_HOUR", 10)
# Refunds and disputes: more than FRAUD_REFUND_RATE_PERCENT of a teacher's paid sales of the
# last FRAUD_REFUND_WINDOW_DAYS refunded (even in part) or disputed, once they have at least
# FRAUD_REFUND_MIN_SALES of them.
FRAUD_REFUND_WINDOW_DAYS = env_int("FRAUD_REFUND_WINDOW_DAYS", 90)
FRAUD_REFUND_MIN_SALES = env_int("FRAUD_REFUND_MIN_SALES", 10)
FRAUD_REFUND_RATE_PERCENT = env_int("FRAUD_REFUND_RATE_PERCENT", 30)
# Checkouts a signed-in student, and an IP address, may start per hour (against card testing).
CHECKOUTS_PER_STUDENT_PER_HOUR = env_int("CHECKOUTS_PER_STUDENT_PER_HOUR", 10)
CHECKOUTS_PER_IP_PER_HOUR = env_int("CHECKOUTS_PER_IP_PER_HOUR", 50)

# --- Privacy: export and deletion -------------------------------------------

# How long a "Download my data" link works; the file is deleted after that.
PRIVACY_EXPORT_DAYS = env_int("PRIVACY_EXPORT_DAYS", 7)
# Days between "Delete my account" and the erasure, during which it can be cancelled.
ACCOUNT_DELETION_COOLING_OFF_DAYS = env_int("ACCOUNT_DELETION_COOLING_OFF_DAYS", 7)

# --- Auth and accounts ------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
SOCIALACCOUNT_FORMS = {"signup": "accounts.forms.SocialSignupForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Lectern: "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# Counters live in the cache and expire with their window.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "10/h/ip",
    "reset_password": "10/h/ip,3/h/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "confirm_email": "3/5m/key",
    "reauthenticate": "10/m/user",
}
SOCIALACCOUNT_AUTO_SIGNUP = False  # Google users still pick a role, confirm age, accept policies.
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
# allauth would write each session's "last seen" on every request; accounts'
# SessionActivityMiddleware does it at most every few minutes instead.
USERSESSIONS_TRACK_ACTIVITY = False

GOOGLE_CLIENT_ID = env_str("GOOGLE_CLIENT_ID")
GOOGLE_CLIENT_SECRET = env_str("GOOGLE_CLIENT_SECRET")
GOOGLE_SIGN_IN_ENABLED = bool(GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET)
SOCIALACCOUNT_PROVIDERS: dict = {
    "google": {
        "APPS": (
            [{"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET, "key": ""}]
            if GOOGLE_SIGN_IN_ENABLED
            else []
        ),
        "SCOPE": ["profile", "email"],
        "AUTH_PARAMS": {"access_type": "online"},
        "FETCH_USERINFO": True,
    }
}

# Sign-up policy.
COUNTRY_HEADER = env_str("COUNTRY_HEADER", "CF-IPCountry")
BLOCKED_SIGNUP_COUNTRIES = [
    c.upper()
    for c in env_list("BLOCKED_SIGNUP_COUNTRIES", ["CN", "RU", "VN", "KZ", "KP", "IR", "SY", "CU"])
]
DISPOSABLE_EMAIL_ALLOWLIST = [d.lower() for d in env_list("DISPOSABLE_EMAIL_ALLOWLIST")]

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Uploaded files ---------------------------------------------------------
# Uploads are never served from a public path (there is no MEDIA_URL route):
# the download view checks access, then streams from local disk or redirects
# to a short-lived signed URL on S3-compatible storage.

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
# One attendance sheet posts a field per student: room for classes of a few thousand.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
FILE_MAX_BYTES = env_int("FILE_MAX_MB", 25) * 1024 * 1024
FILE_URL_TTL_SECONDS = env_int("FILE_URL_TTL_SECONDS", 60)
# django-storages also reads these names directly, so unset means None, never "".
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME") or None
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID") or None
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY") or None
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or None
AWS_S3_ADDRESSING_STYLE = env_str("AWS_S3_ADDRESSING_STYLE", "virtual")
upload_storage: dict
if AWS_STORAGE_BUCKET_NAME:
    # Private objects, reachable only through presigned URLs that expire quickly.
    upload_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": AWS_S3_REGION_NAME,
            "signature_version": "s3v4",
            "addressing_style": AWS_S3_ADDRESSING_STYLE,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": FILE_URL_TTL_SECONDS,
        },
    }
else:
    upload_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
STORAGES = {
    "default": upload_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Recordings: LiveKit's egress writes them to this S3-compatible bucket, and Lectern serves
# them from it. Each setting falls back to the file storage's own (AWS_*); without a bucket,
# recording is not offered.
LIVE_RECORDINGS_BUCKET = env_str("LIVE_RECORDINGS_BUCKET") or AWS_STORAGE_BUCKET_NAME
LIVE_RECORDINGS_ACCESS_KEY = env_str("LIVE_RECORDINGS_ACCESS_KEY") or AWS_ACCESS_KEY_ID
LIVE_RECORDINGS_SECRET_KEY = env_str("LIVE_RECORDINGS_SECRET_KEY") or AWS_SECRET_ACCESS_KEY
LIVE_RECORDINGS_ENDPOINT_URL = env_str("LIVE_RECORDINGS_ENDPOINT_URL") or AWS_S3_ENDPOINT_URL
LIVE_RECORDINGS_REGION = env_str("LIVE_RECORDINGS_REGION") or AWS_S3_REGION_NAME
# Days a recording is kept after the session; 0 keeps it until the course or teacher goes.
LIVE_RECORDINGS_KEEP_DAYS = env_int("LIVE_RECORDINGS_KEEP_DAYS", 0)

# --- Email ------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Lectern <no-reply@lectern.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    "MAILGUN_API_KEY": env_str("MAILGUN_API_KEY"),
    "MAILGUN_SENDER_DOMAIN": env_str("MAILGUN_SENDER_DOMAIN"),
    "MAILGUN_API_URL": env_str("MAILGUN_API_URL", "https://api.mailgun.net/v3"),
}
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before an SMTP call gives up; well within the outbox's claim on an email.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
if ANYMAIL["MAILGUN_API_KEY"]:
    EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
elif EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Security ---------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies of our own in front of the app, each appending to X-Forwarded-For.
# 0 means the socket's address is the client's and the header is ignored: any
# client can write it. Rate limits (ours and allauth's) key on this address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # LiveKit's webhooks are signed over their body; in the compose stack they come
    # straight from the livekit service on the private network, without the proxy.
    # /metrics too: Prometheus scrapes it over the private network, token in hand.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$", r"^live/webhooks/livekit/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The preload directive only makes the domain eligible for the browsers' list;
    # submitting it stays a deliberate step for whoever owns the domain.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Forms may lead to Google's sign-in and to Stripe (Checkout, Connect onboarding, the
# Express dashboard, the Customer Portal), and to the Stripe-compatible server named in
# STRIPE_API_BASE.
_FORM_TARGETS = [
    "https://accounts.google.com",
    "https://billing.stripe.com",
    "https://checkout.stripe.com",
    "https://connect.stripe.com",
]
if STRIPE_API_BASE:
    _base = urlsplit(STRIPE_API_BASE)
    _FORM_TARGETS.append(f"{_base.scheme}://{_base.netloc}")

# The live class page talks to the LiveKit server: its signalling WebSocket, and the same
# host over HTTP(S), where the client asks why a connection failed.
_CONNECT_TO: list[str] = [CSP.SELF]
if LIVEKIT_URL and LIVEKIT_API_KEY and LIVEKIT_API_SECRET:
    _live = urlsplit(LIVEKIT_URL)
    _secure = _live.scheme in ("wss", "https")
    _CONNECT_TO += [
        f"{'wss' if _secure else 'ws'}://{_live.netloc}",
        f"{'https' if _secure else 'http'}://{_live.netloc}",
    ]

# No page loads anything from a third party: everything is served from our own origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": _CONNECT_TO,
    "form-action": [CSP.SELF, *_FORM_TARGETS],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- Logging and errors -----------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "text") else "json",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.server": {"level": "WARNING"}},
}

SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    # Only loaded (and its integrations hooked in) when error reporting is configured.
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
        send_default_pii=False,
    )

# --- Metrics (Prometheus) ---------------------------------------------------

# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; without a token it is off
# (404) and requests are not counted at all.
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be at least 24 characters long: "
        'python -c "import secrets; print(secrets.token_urlsafe(32))"'
    )

# --- Support requests -------------------------------------------------------

# "Contact us" and Help requests are emailed here (replies go back to the person who asked);
# staff answer them in the admin. Default: the address of DEFAULT_FROM_EMAIL.
SUPPORT_EMAIL = (
    env_str("SUPPORT_EMAIL") or DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">").strip()
)

# --- Onboarding survey ------------------------------------------------------

# A new account lands on the short welcome survey (skippable) right after signing up
# (allauth's sign-up login; a "next" address, e.g. a course page, still wins).
ACCOUNT_SIGNUP_REDIRECT_URL = "onboarding:welcome"

# --- Storefront analytics ---------------------------------------------------

# Without Redis, each web process keeps its counts in memory and writes them to the daily
# rows after a request, at most this often (seconds; 0: only the periodic job flushes).
ANALYTICS_LOCAL_FLUSH_SECONDS = env_int("ANALYTICS_LOCAL_FLUSH_SECONDS", 60)
