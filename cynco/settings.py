"""Settings, all from the environment (django-environ); the defaults make `make run` work bare.

Every variable is listed in README.md ("Configuration").
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from cynco.database import BASE_DIR, VAR_DIR, resolve_database_url, resolve_migration_url

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)  # optional, for local overrides


def _dev_secret_key() -> str:
    """A random key kept under var/ so sessions and signed links survive restarts in development."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The absolute URL customers reach this server at; used in checkout, portal and invoice links.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "cynco",
    "ledger",
    "gateways",
    "billing",
    "portal",
]

MIDDLEWARE = [
    # First: the request id, the request's log line and its latency cover everything below.
    "cynco.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "cynco.rate_limits.RateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "cynco.middleware.ApiVersionHeaderMiddleware",
]

ROOT_URLCONF = "cynco.urls"
WSGI_APPLICATION = "cynco.wsgi.application"

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
            ],
        },
    },
]

_PREFER_LOCAL_DB = env.bool("CYNCO_PREFER_LOCAL_DB", default=False)
DATABASES = {
    "default": {
        # The application's own least-privilege role (docs/deployment.md).
        **env.db_url_config(resolve_database_url(prefer_local=_PREFER_LOCAL_DB)),
        # Connections are reused between requests; health-checked so a restarted server heals.
        "CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "ATOMIC_REQUESTS": False,
    }
}
# One test database per checkout (test_<name>_<hash of this folder>), so two checkouts testing
# against one PostgreSQL server at the same time never drop each other's database.
DATABASES["default"]["TEST"] = {
    "NAME": "test_{}_{}".format(
        DATABASES["default"]["NAME"], hashlib.sha256(str(BASE_DIR).encode()).hexdigest()[:8]
    )
}
# The tables' owner, as whom `migrate` (and a test run's flush) connect to the same database:
# MIGRATION_DATABASE_URL (docs/deployment.md). None when it is the application's role itself.
DATABASE_OWNER = {
    key: value
    for key, value in env.db_url_config(resolve_migration_url(prefer_local=_PREFER_LOCAL_DB)).items()
    if key in ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
}
if DATABASE_OWNER.get("USER") == DATABASES["default"].get("USER"):
    DATABASE_OWNER = None
# Whom `migrate` grants row rights on the tables (the default connection's role).
DATABASE_APPLICATION_ROLE = DATABASES["default"].get("USER") or None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

# Per-key rate limits (cynco/rate_limits.py): requests per second, bursts of one second's worth.
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
RATE_LIMIT_USAGE_PER_SECOND = env.int("RATE_LIMIT_USAGE_PER_SECOND", default=1000)
RATE_LIMIT_API_PER_SECOND = env.int("RATE_LIMIT_API_PER_SECOND", default=100)
RATE_LIMIT_REDIS_URL = env.str("RATE_LIMIT_REDIS_URL", default="") or REDIS_URL

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve files straight from the apps in development and tests (no collectstatic needed).
WHITENOISE_USE_FINDERS = True

# Browsers call the API with publishable keys (the React provider). Keys travel in the
# Authorization header, never in cookies, so any origin may call; narrow it with CORS_ORIGINS.
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOWED_ORIGINS = env.list("CORS_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = not CORS_ALLOWED_ORIGINS
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = [
    "accept", "authorization", "content-type", "idempotency-key", "x-cyncobilling-version",
    "x-cyncopay-version",
]
CORS_EXPOSE_HEADERS = [
    "x-cyncobilling-version", "idempotent-replayed", "x-request-id", "retry-after",
    "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy",
]

APPEND_SLASH = False  # the client calls paths without a trailing slash; never redirect a POST

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["cynco.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["cynco.permissions.SecretKeyRequired"],
    "DEFAULT_PARSER_CLASSES": ["cynco.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "cynco.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "cynco.api.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cynco Billing API",
    "DESCRIPTION": (
        "Subscriptions, entitlements, invoicing and a double-entry ledger; the wire contract of "
        "the `@cynco/billing` client. Every answer is an envelope: `{success: true, data}` "
        "(lists add `pagination: {total, limit, offset}`) or `{success: false, error: {code, "
        "message, details: [{field, message}]}}`. Amounts are integers in minor units; usage "
        "amounts are numbers with at most 6 decimal places; times are ISO-8601 UTC. Send "
        "`Authorization: Bearer <key>`; every write takes an `Idempotency-Key` header. The "
        "optional `X-CyncoBilling-Version` header is accepted and echoed back."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Inputs and outputs are separate serializers, so components need no `Request` twin.
    "COMPONENT_SPLIT_REQUEST": False,
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    # One name per choice set used by more than one field (drf-spectacular would make one up).
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatus": "billing.models.Subscription.Status",
        "InvoiceStatus": "billing.models.Invoice.Status",
        "ActiveOrArchived": "billing.models.Coupon.Status",
        "CouponType": "billing.models.Coupon.Type",
        "RewardType": "billing.models.RewardProgram.RewardType",
        "PriceType": "billing.models.Price.Type",
        "FeatureType": "billing.models.Feature.Type",
        "ApiKeyType": "cynco.models.ApiKey.Type",
        "ApiKeyStatus": ["active", "revoked"],
        "WebhookEndpointStatus": "billing.models.WebhookEndpoint.Status",
        "SourceType": "ledger.models.SourceType",
        "ResetInterval": "billing.models.FeatureGrant.ResetInterval",
        "CheckoutCompletionStatus": ["completed", "failed", "requires_action"],
        "RequiredActionCode": ["payment_failed", "3ds_required"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cynco.api.openapi_parts.finish_document",
    ],
}

# Idempotency records are kept at least this long (API.md: at least 24 hours).
IDEMPOTENCY_RETENTION_HOURS = env.int("IDEMPOTENCY_RETENTION_HOURS", default=48)
# How long one customer's operation waits for another's before answering 429 CONCURRENT_REQUEST.
CUSTOMER_LOCK_WAIT_SECONDS = env.float("CUSTOMER_LOCK_WAIT_SECONDS", default=5.0)
# check and track answer their common case in one SQL statement (docs/entitlements.md,
# Performance); false sends every call through the full path.
USAGE_FAST_PATH = env.bool("USAGE_FAST_PATH", default=True)
# Tax charged on every invoice, in percent of what is left after discounts (0: no tax line).
INVOICE_TAX_RATE_PERCENT = env.float("INVOICE_TAX_RATE_PERCENT", default=0.0)
# How many subscriptions a period-end job handles per batch.
PERIOD_END_BATCH_SIZE = env.int("PERIOD_END_BATCH_SIZE", default=200)
# Hours after which an unfinished checkout (open or declined) is canceled and its coupon given back.
CHECKOUT_EXPIRY_HOURS = env.int("CHECKOUT_EXPIRY_HOURS", default=24)
# How long a request paying a checkout holds it against racing plan changes (409 CONFLICT);
# longer than any gateway call, short enough that a crashed request's claim soon stops counting.
CHARGE_CLAIM_SECONDS = env.int("CHARGE_CLAIM_SECONDS", default=120)

# Outgoing webhooks: seconds a merchant's endpoint has to answer, how many hours a failing
# delivery keeps being retried (at least 24, API.md), how many deliveries a worker claims at once.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_RETRY_HOURS = max(24, env.int("WEBHOOK_RETRY_HOURS", default=24))
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=50)
# Billing emails (docs/emails.md): the SMTP server as a URL (smtp+tls://user:pass@host:587 for
# STARTTLS, smtp+ssl://…:465 for implicit TLS; consolemail:// prints them, the default so that
# `make run` works with nothing set), the address they come from (the merchant's sender name
# is shown with it), seconds one SMTP conversation may take, attempts before giving up.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_FROM_ADDRESS = env.str("EMAIL_FROM_ADDRESS", default="billing@localhost")
DEFAULT_FROM_EMAIL = EMAIL_FROM_ADDRESS
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT_SECONDS", default=30.0)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=8)

# Which endpoints may resolve to private/loopback/reserved addresses: test | all | none
# (billing/webhook_addresses.py).
WEBHOOK_PRIVATE_ADDRESSES = env.str("WEBHOOK_PRIVATE_ADDRESSES", default="test")
if WEBHOOK_PRIVATE_ADDRESSES not in ("test", "all", "none"):
    raise ImproperlyConfigured("WEBHOOK_PRIVATE_ADDRESSES must be test, all or none")

# Celery: Redis when REDIS_URL is set, else a broker kept in files under var/ (no service needed).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {}
    if CELERY_BROKER_URL != "filesystem://"
    else {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# Logs (docs/operations.md): one JSON object per line on stderr (LOG_FORMAT=text for people),
# each with the request id of the request (or Celery task) it was written under; key material
# is scrubbed from every line (cynco.log_redaction).
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "cynco.log_format.JsonFormatter"},
        "text": {"()": "cynco.log_format.TextFormatter"},
    },
    "filters": {"request_context": {"()": "cynco.log_format.RequestContextFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["request_context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # 4xx answers are in the request lines already; Django would log each once more.
    "loggers": {"django.request": {"level": "ERROR"}},
}
# Celery workers log through the handler above instead of replacing it with their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# `/metrics` (docs/operations.md): who may read it (REMOTE_ADDR in one of these networks, and
# the bearer token when one is set), and the database figures read at each scrape.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS",
                                    default=["127.0.0.0/8", "::1/128"])
try:
    [ipaddress.ip_network(network, strict=False) for network in METRICS_ALLOWED_NETWORKS]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_FIGURE_SOURCES: list[str] = [
    "billing.selectors.backlog.backlog_figures",
    "gateways.backlog.pending_attempt_figures",
    "ledger.selectors.reconciliation_status.reconciliation_figures",
]

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)

# Per-merchant set-up owned by the apps, called by cynco.merchants.merchant_create for each
# environment inside its transaction (cynco imports no app; the apps register here).
MERCHANT_SETUP_HOOKS: list[str] = [
    "ledger.services.chart.create_chart",
]
# Demo data for `manage.py seed_demo` (what `make run` shows a newcomer), by app.
DEMO_SEEDERS: list[str] = [
    "billing.demo_catalog.seed_demo_catalog",
]
# Providers of the figures `reconcile_ledger` compares the books with (docs/accounting.md):
# dotted paths of functions `(scope) -> ledger.reconciliation.ExpectedFigures`: billing's.
LEDGER_RECONCILIATION_SOURCES: list[str] = ["billing.selectors.reconciliation.expected_figures"]
# Checks beyond the ledger's own: each gateway's clearing account against the gateway's records
# of payments and refunds, over the last GATEWAY_RECONCILIATION_DAYS days (docs/gateways.md).
LEDGER_RECONCILIATION_CHECKS: list[str] = ["billing.selectors.gateway_reconciliation.gateway_checks"]
GATEWAY_RECONCILIATION_DAYS = env.int("GATEWAY_RECONCILIATION_DAYS", default=35)

# Crash injection for the reliability tests (cynco/crash_points.py): the process kills itself
# at this phase boundary of a charge. Never set in production (manage.py check refuses it when
# live payments use a real gateway).
CRASH_POINT = env.str("CRASH_POINT", default="")

# Largest request body accepted (bytes); larger is 413 PAYLOAD_TOO_LARGE.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)

# Gateways (docs/gateways.md). Installed gateway classes by name; the server's default gateway
# per environment (an operator may assign a merchant+environment its own account in the admin).
GATEWAY_CLASSES = {
    "sandbox": "gateways.sandbox.gateway.SandboxGateway",
    "stripe": "gateways.stripe.gateway.StripeGateway",
    "chip": "gateways.chip.gateway.ChipGateway",
}
GATEWAY_DEFAULT_LIVE = env.str("GATEWAY_DEFAULT_LIVE", default="sandbox")
GATEWAY_DEFAULT_TEST = env.str("GATEWAY_DEFAULT_TEST", default="sandbox")
# Fernet keys for gateway secrets at rest (first encrypts, all decrypt); unset → derived from
# SECRET_KEY.
GATEWAY_ENCRYPTION_KEYS = env.list("GATEWAY_ENCRYPTION_KEYS", default=[])
# The server's own credentials per gateway (Stripe and CHIP add theirs here).
SANDBOX_WEBHOOK_SECRET = env.str("SANDBOX_WEBHOOK_SECRET", default="") or (
    "sandbox-" + hashlib.sha256(("sandbox:" + SECRET_KEY).encode()).hexdigest()[:32]
)
GATEWAY_DEFAULT_CREDENTIALS = {
    "sandbox": {"webhook_secret": SANDBOX_WEBHOOK_SECRET},
    "stripe": {
        "secret_key": env.str("STRIPE_SECRET_KEY", default=""),
        "webhook_secret": env.str("STRIPE_WEBHOOK_SECRET", default=""),
    },
    # CHIP: the API key, the brand, the company public key that verifies success callbacks
    # (PEM; fetched from GET /public_key/ when unset) and the public key of the webhook
    # registered in CHIP's portal (PEM; verifies webhook deliveries such as payment.refunded).
    "chip": {
        "secret_key": env.str("CHIP_API_KEY", default=""),
        "webhook_secret": env.str("CHIP_PUBLIC_KEY", default="").replace("\\n", "\n"),
        "options": {
            "brand_id": env.str("CHIP_BRAND_ID", default=""),
            "webhook_public_key": env.str("CHIP_WEBHOOK_PUBLIC_KEY", default="").replace(
                "\\n", "\n"),
        },
    },
}
# Stripe (docs/gateways.md): API base (tests point it at localstripe), our checkout page for
# an intent ({base}: PUBLIC_BASE_URL, {session_id}: the intent id), timeouts and retries.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com").rstrip("/")
STRIPE_CHECKOUT_URL = env.str(
    "STRIPE_CHECKOUT_URL", default="{base}/checkout/stripe/{session_id}"
)
# The publishable key Stripe.js uses on our checkout page (the card never reaches this server).
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# Where that page loads Stripe.js from (tests point it at localstripe's stand-in).
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=30.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# CHIP Collect (docs/gateways.md): API base and request timeout.
CHIP_API_BASE = env.str("CHIP_API_BASE", default="https://gate.chip-in.asia/api/v1").rstrip("/")
CHIP_TIMEOUT_SECONDS = env.float("CHIP_TIMEOUT_SECONDS", default=30.0)
# The hosted checkout page of a sandbox session ({base}: PUBLIC_BASE_URL).
SANDBOX_CHECKOUT_URL = env.str(
    "SANDBOX_CHECKOUT_URL", default="{base}/checkout/sandbox/{session_id}"
)
# Pending payment attempts untouched this long are asked about by the sweeper; attempts that
# never reached the gateway are sent then, unless older than GATEWAY_PENDING_MAX_AGE_HOURS
# (then canceled: too late to charge a customer for it).
GATEWAY_RECOVERY_AFTER_SECONDS = env.int("GATEWAY_RECOVERY_AFTER_SECONDS", default=120)
GATEWAY_PENDING_MAX_AGE_HOURS = env.int("GATEWAY_PENDING_MAX_AGE_HOURS", default=12)
# Called (dotted paths) when a payment attempt settles after its execute call returned (webhook,
# recovery), and with every processed incoming gateway event. Billing registers here.
PAYMENT_ATTEMPT_HANDLERS: list[str] = ["billing.services.payments.on_payment_settled"]
GATEWAY_EVENT_HANDLERS: list[str] = ["billing.services.checkouts.on_gateway_event"]
