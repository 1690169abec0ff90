"""Settings, read from the environment only (see README's configuration table).

With nothing set, the shop runs for the demo: SQLite, a file cache, a
filesystem Celery broker and the sandboxes on their default ports.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_int, env_list, env_str
from core.money import parse_money

from .production_checks import INSECURE_SECRET_KEY, check_production_settings, wholly_sandboxed

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY and (DEBUG or env_str("DJANGO_ALLOW_INSECURE_KEY") == "1"):
    SECRET_KEY = INSECURE_SECRET_KEY  # refused (production_checks.py) unless DEBUG or a wholly sandboxed shop
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SHOP_NAME = env_str("SHOP_NAME", "Roam Easy eSIM")
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@example.com")

INSTALLED_APPS = [
    "core.apps.StaffAdminConfig",  # django.contrib.admin, for staff with 2FA only (core/staff_mfa.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "storefront",
    "core",
    "catalog",
    "payments",
    "esims",
    "checkout",
    "accounts",
    "giftcards",
    "discounts",
    "storecredit",
]

MIDDLEWARE = [
    # First: every line a request logs, its redirects included, carries its id (observability).
    "core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Headers every page carries, above the page cache: its memory hits never reach the middleware below it.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.security.PermissionsPolicyMiddleware",
    "core.security.ShopCSPMiddleware",
    # Above session and CSRF: it sees the cookies they set (and makes such responses private).
    "core.middleware.CachePolicyMiddleware",
    # Above the page cache: a first visit to / is sent to the browser's language before a cached
    # English home page could answer it (core/language.py).
    "core.language.FirstVisitMiddleware",
    # Where the visit came from (utm_*, ref, the referring site), kept in a cookie: below the cache
    # policy (the answer that sets it is private), above the page cache (a cached page gets it too).
    "core.attribution.AttributionMiddleware",
    # The visitor's currency (cookie or Accept-Language), active for the request: the page caches key on it.
    "catalog.middleware.CurrencyMiddleware",
    # Anonymous catalog pages from memory, before session, CSRF and auth do anything.
    "catalog.middleware.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language from its URL (after the session: a signed-in customer's saved language).
    "core.language.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "storefront.urls"
WSGI_APPLICATION = "storefront.wsgi.application"

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
                "core.context_processors.shop",
                "core.language.languages",
                "checkout.context_processors.cart_count",
            ],
        },
    },
]
# Plain-text emails (emails/*.txt) have an engine of their own that does not HTML-escape, asked
# first; it finds nothing else (core/mail.py). Same context processors: the admin checks the first.
TEMPLATES.insert(
    0,
    {
        "NAME": "plain_text_emails",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": TEMPLATES[0]["DIRS"],
        "OPTIONS": {
            "autoescape": False,
            "loaders": [("django.template.loaders.cached.Loader", ["core.mail.PlainTextEmailLoader"])],
            "context_processors": TEMPLATES[0]["OPTIONS"]["context_processors"],
        },
    },
)

# SQLite only for the one-command demo; PostgreSQL everywhere else.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (site, worker) share the demo database.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
CACHE_REDIS_URL = env_str("CACHE_REDIS_URL", REDIS_URL)
if CACHE_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedClientRedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "shop"),
        }
    }
else:
    # A file cache is shared by the demo's site and worker processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Exchange tables; kombu's default is `control/` in the working directory.
        "control_folder": str(_broker_dir / "control"),
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # An unacknowledged task (its worker died) comes back after this long.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
        # A worker killed while sweeping leaves this lock behind for this long.
        "unacked_mutex_expire": env_int("CELERY_UNACKED_MUTEX_EXPIRE", 300),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connections after every task unless told how many tasks
# to reuse them for: a new PostgreSQL connection (a server process) per task. Workers keep them as
# web processes do instead, DB_CONN_MAX_AGE and the health checks deciding (storefront/celery.py).
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat on every machine: with Redis, RedBeat keeps the schedule there and one beat at a time sends,
# the one holding a lock it renews at each tick; the others wait and take over once it lapses.
# Without Redis (make demo's filesystem broker), Celery's own file scheduler: one beat only.
BEAT_LOCK_TIMEOUT_SECONDS = env_int("BEAT_LOCK_TIMEOUT_SECONDS", 60)
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    # The holder renews the lock, and a waiting beat tries to take it, five times per timeout.
    CELERY_BEAT_MAX_LOOP_INTERVAL = max(1, BEAT_LOCK_TIMEOUT_SECONDS // 5)
    # RedBeat's settings under its own names (storefront/celery.py passes them on): the beats
    # that feed one queue share one schedule and lock (each test process has a queue of its own).
    REDBEAT = {
        "redbeat_redis_url": CELERY_BROKER_URL,
        "redbeat_redis_options": {},  # not the broker's transport options
        "redbeat_key_prefix": f"{CELERY_TASK_DEFAULT_QUEUE}:beat:",
        "redbeat_lock_timeout": BEAT_LOCK_TIMEOUT_SECONDS,
    }

# --- Celery beat: every periodic task, in one schedule (seconds; task names are the apps') -------
CATALOG_SYNC_INTERVAL_SECONDS = env_int("CATALOG_SYNC_INTERVAL_SECONDS", 3600)
CELERY_BEAT_SCHEDULE = {
    "sync-catalog": {
        "task": "catalog.sync_catalog",
        "schedule": CATALOG_SYNC_INTERVAL_SECONDS,
        "options": {"expires": CATALOG_SYNC_INTERVAL_SECONDS},
    },
    "reconcile-orders": {
        "task": "checkout.reconcile_orders",
        "schedule": env_int("RECONCILE_INTERVAL_SECONDS", 120),
    },
    "sync-upstream-refunds": {
        "task": "checkout.sync_upstream_refunds",
        "schedule": env_int("UPSTREAM_REFUND_SYNC_SECONDS", 3600),
    },
    "check-partner-balance": {
        "task": "esims.check_partner_balance",
        "schedule": env_int("ROAMIFY_BALANCE_CHECK_SECONDS", 1800),
    },
    "giftcards-send-due": {
        "task": "giftcards.send_due",
        "schedule": env_int("GIFTCARD_SEND_INTERVAL_SECONDS", 300),
    },
    "refresh-exchange-rates": {
        "task": "catalog.refresh_exchange_rates",
        "schedule": env_int("EXCHANGE_RATE_REFRESH_SECONDS", 1800),
    },
    "giftcards-expire": {"task": "giftcards.expire_cards", "schedule": 24 * 3600},
    "giftcards-revoke-refunds": {"task": "giftcards.retry_revoke_refunds", "schedule": 600},
    "send-abandoned-cart-emails": {
        "task": "checkout.send_abandoned_cart_emails",
        "schedule": env_int("ABANDONED_CART_INTERVAL_SECONDS", 600),
    },
    "storecredit-expire": {"task": "storecredit.expire_credit", "schedule": 24 * 3600},
    "settle-referrals": {
        "task": "checkout.settle_referrals",
        "schedule": env_int("REFERRAL_SETTLE_INTERVAL_SECONDS", 3600),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
# Sign-in by a code emailed to the customer is the main way in (issue 21): sign-up asks for the
# email alone (accounts.forms.SignupForm), a password is optional (set later in settings). A code
# asked for an email with no account makes one (accounts.forms.RequestCodeForm), so a guest's
# first sign-in is one code. "password1" (optional) stays listed: without it allauth drops the
# password from the sign-in form, and those who set one could not use it.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1"]
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 15 * 60  # an email can take minutes to arrive on a phone abroad
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 5  # per code; code requests are limited in ACCOUNT_RATE_LIMITS
ACCOUNT_FORMS = {
    "request_login_code": "accounts.forms.RequestCodeForm",
    "signup": "accounts.forms.SignupForm",
}
# The user model keeps Django's username column (filled by allauth from the email), but no page,
# message or email shows it: the customer is their email.
ACCOUNT_USER_DISPLAY = "accounts.adapter.user_display"
# Mandatory: with unique emails, it is what lets sign-up hide whether an email already has an
# account (allauth then emails the owner instead of saying so on the page).
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True  # one address at a time; a change is verified before it replaces the old
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SHOP_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:esim_list"
# A URL name, not "/": reversed in the page's language, so signing out of /es/ lands on /es/.
LOGOUT_REDIRECT_URL = "catalog:home"

LANGUAGE_CODE = "en"
# The shop's languages (issue 20). English URLs carry no prefix; every other language's do (/es/…).
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("it", "Italiano"),
    ("pt-br", "Português (Brasil)"),
    ("ja", "日本語"),
    ("ar", "العربية"),
]
LANGUAGES_BIDI = ["ar"]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Paths outside the language-prefixed URLs that still show people words: they follow the browser
# (a saved language, the language cookie, then Accept-Language), not the shop's default. Staff only.
BROWSER_LANGUAGE_PATH_PREFIXES = ["/admin/", "/outbox/"]
# The switcher's choice and the first visit's guess, a year; readable by nginx (the edge cache
# key of / depends on whether it is set: deploy/nginx/nginx.conf.template).
LANGUAGE_COOKIE_NAME = "django_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")  # the admin shows every time in it, named
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes and nginx serves /static/ from (deploy/nginx/).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Mail: SMTP when EMAIL_HOST is set; otherwise every message is kept in the
# database outbox, which staff can read at /outbox/ when DEBUG is on.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    # Well under EMAIL_CLAIM_SECONDS: a send still hanging when the claim runs out could go twice.
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "core.mail.OutboxBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{SHOP_NAME} <shop@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A worker sending an email holds a claim in the cache this long, so no other worker sends it too;
# a worker killed mid-send delays that email by as much. It must outlast one send.
EMAIL_CLAIM_SECONDS = env_int("EMAIL_CLAIM_SECONDS", 120)

# Upstream eSIM wholesaler.
ROAMIFY_BASE_URL = env_str("ROAMIFY_BASE_URL", "http://127.0.0.1:8100")
ROAMIFY_API_TOKEN = env_str("ROAMIFY_API_TOKEN", "sandbox-roamify-token")
ROAMIFY_WEBHOOK_SECRET = env_str("ROAMIFY_WEBHOOK_SECRET", "")
ROAMIFY_INSTANT_ORDER_TIMEOUT = float(env_str("ROAMIFY_INSTANT_ORDER_TIMEOUT", "75"))
ROAMIFY_TIMEOUT = float(env_str("ROAMIFY_TIMEOUT", "30"))  # every other call
ROAMIFY_RETRY_BACKOFF = float(env_str("ROAMIFY_RETRY_BACKOFF", "0.5"))

# Stripe. STRIPE_API_BASE is only set for the sandbox.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "sk_test_sandbox")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "pk_test_sandbox")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_sandbox")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")

# Payment providers, by class (payments/providers/): Stripe Checkout for cards, the shop's gift cards.
PAYMENT_PROVIDERS = [
    "payments.providers.stripe.StripeCheckoutProvider",
    "giftcards.provider.GiftCardProvider",
    "storecredit.provider.StoreCreditProvider",
]

# Shop money: integer minor units. Prices are set in the base currency; visitors may see and pay
# in the currencies offered (those of SHOP_CURRENCIES that Roamify supports, catalog/currency.py).
SHOP_CURRENCY = env_str("SHOP_CURRENCY", "USD").upper()
SHOP_CURRENCIES = [
    c.strip().upper() for c in env_str("SHOP_CURRENCIES", "USD,EUR,GBP,AUD,CAD,JPY").split(",") if c.strip()
]
# A rate older than this is not sold at: sales in that currency stop until a refresh succeeds.
EXCHANGE_RATE_MAX_AGE_SECONDS = env_int("EXCHANGE_RATE_MAX_AGE_SECONDS", 6 * 3600)

# --- Production credentials (storefront/production_checks.py) ----------------------------------
# With DEBUG off the shop is production: start-up stops with one ImproperlyConfigured naming every
# credential above that is missing or keeps a value published in this repository.
# ALLOW_SANDBOX_SECRETS relaxes that for a shop wired wholly to the sandboxes (SANDBOXED).
SANDBOXED = wholly_sandboxed(globals())
if not DEBUG:
    check_production_settings(globals())

# --- Security: the proxy, HTTPS, cookies, headers, staff accounts ---------------------------------
# `manage.py check --deploy` is clean with DEBUG off.

# Behind a proxy, the header it puts the visitor's address in (nginx: X-Real-IP; its last entry
# counts); empty: REMOTE_ADDR. core.security.client_ip reads it for every rate limit of the shop
# and for /metrics' METRICS_ALLOWED_NETWORKS.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")

# HTTPS. A wholly sandboxed shop (tests, benchmarks, the compose sandbox profile) serves plain
# HTTP on loopback, so it does not redirect to HTTPS unless told to.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not SANDBOXED)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds every subdomain to HTTPS for years and is hard to undo: the owner opts
        # in with SECURE_HSTS_PRELOAD=1; until then check --deploy's reminder (W021) is silenced.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
# The load balancer's and Prometheus' plain-HTTP probes are not sent to HTTPS (with
# SECURE_SSL_REDIRECT on): the two paths say nothing private to an anonymous visitor.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# Cookies: the session's out of scripts' reach; in production the session's and CSRF's sent
# over HTTPS only.
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    LANGUAGE_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)

# Headers every response carries.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env_str("SECURE_REFERRER_POLICY", "strict-origin-when-cross-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Browser features no page of the shop uses (core.security.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()"
)
# Content-Security-Policy (django-csp). No inline script or style anywhere: pages use static
# files and classes, so the policy is the same for every response and cached pages keep it.
# QR codes are data: images. core.security.ShopCSPMiddleware adds Stripe Checkout's origin to
# form-action (paying is a form whose answer redirects there): STRIPE_CHECKOUT_ORIGIN, else the
# sandbox's STRIPE_API_BASE, else https://checkout.stripe.com.
STRIPE_CHECKOUT_ORIGIN = env_str("STRIPE_CHECKOUT_ORIGIN", "")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# Staff accounts: two factors for the admin (allauth.mfa; core/staff_mfa.py).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]  # WebAuthn would need a JS ceremony and HTTPS everywhere
MFA_TOTP_ISSUER = SHOP_NAME
# allauth's rate limits, per visitor address (accounts.adapter: core.security.client_ip, so behind
# nginx the visitor's, not nginx's) and per account ("key": the email typed). Failed logins are
# spelled out because the admin's sign-in goes through them too (core/staff_mfa.py): 5 wrong
# passwords per account per 5 min, 10/min per address. A password reset email: 20/min per address,
# and 3 an hour, 10 a day per account (allauth's own 5/min per account alone is 7,200 a day).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/300s/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,3/h/key,10/d/key",
    # A sign-in code by email: as a password reset (each one is an email to someone's inbox), plus
    # allauth's 3 a minute per address. Wrong codes: LOGIN_BY_CODE_MAX_ATTEMPTS per code.
    "request_login_code": "20/m/ip,3/m/key,6/h/key,20/d/key",
}

# --- Observability: logs (core/logs.py) ---------------------------------------------------------
# One JSON object per line in every process (web, worker, beat), with the request id; "plain"
# is a readable console for the demo. URL secrets are redacted either way.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# One access line per request from Django (`shop.access`: method, path, status, duration, request
# id), so that gunicorn's own access log can stay off.
LOG_REQUESTS = env_bool("LOG_REQUESTS", True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "plain": {"()": "core.logs.PlainFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Django's own handlers (runserver's request lines, mails to admins) give way to ours.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
# Python's warnings (a deprecation, Celery's "running as root") become log lines too.
logging.captureWarnings(True)

# --- Observability: Sentry and metrics ------------------------------------------------------------
# Sentry is optional: with no DSN sentry_sdk is never imported. No personal data is sent, and URL
# secrets are redacted from events (core/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    from core.sentry import init as _init_sentry

    _init_sentry(
        SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", ""),
        release=env_str("SENTRY_RELEASE", ""),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )
# /metrics (core/metrics/views.py) answers staff, a request with `Authorization: Bearer
# <METRICS_TOKEN>`, and clients in METRICS_ALLOWED_NETWORKS (CIDRs; behind a proxy the address
# is read from CLIENT_IP_HEADER). Nobody else: 404. Empty by default: behind nginx every request
# comes from the proxy's address, which a default like 127.0.0.1 or 10.0.0.0/8 would let through.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# The figures read from PostgreSQL are kept this long in the shared cache (0: read at every
# scrape): about 0.1 s of queries at 100,000 orders, once for every instance and scraper.
METRICS_DB_CACHE_SECONDS = env_int("METRICS_DB_CACHE_SECONDS", 15)
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", [])
try:
    import ipaddress as _ipaddress

    for _cidr in METRICS_ALLOWED_NETWORKS:
        _ipaddress.ip_network(_cidr, strict=False)
except ValueError as _exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {_exc}") from None
# prometheus_client turns multiprocess mode on when PROMETHEUS_MULTIPROC_DIR merely exists: an
# empty one (a compose file passing it through) means off, and a named one must exist.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
else:
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

# Retail pricing (cents). A price ending of 99 makes every price x.99.
PRICING_MARKUP_PERCENT = env_str("PRICING_MARKUP_PERCENT", "35")
PRICING_MIN_MARGIN_CENTS = env_int("PRICING_MIN_MARGIN_CENTS", 100)
PRICING_ENDING_CENTS = env_int("PRICING_ENDING_CENTS", 99)
# A sync that would raise a price by more than this keeps the old one until staff approve.
PRICE_RISE_REVIEW_PERCENT = env_str("PRICE_RISE_REVIEW_PERCENT", "20")

# Catalog sync.
CATALOG_SYNC_PAGE_SIZE = env_int("CATALOG_SYNC_PAGE_SIZE", 50)
CATALOG_SYNC_CONCURRENCY = env_int("CATALOG_SYNC_CONCURRENCY", 4)
CATALOG_SYNC_MAX_PAGES = env_int("CATALOG_SYNC_MAX_PAGES", 2000)
CATALOG_PAGE_CACHE_SECONDS = env_int("CATALOG_PAGE_CACHE_SECONDS", 600)
# HTTP caching of anonymous catalog pages (see catalog/cache.py): browsers keep a page this long,
# shared caches (nginx, a CDN) this long, then serve it stale this long while they revalidate.
CATALOG_BROWSER_MAX_AGE_SECONDS = env_int("CATALOG_BROWSER_MAX_AGE_SECONDS", 60)
CATALOG_EDGE_MAX_AGE_SECONDS = env_int("CATALOG_EDGE_MAX_AGE_SECONDS", 60)
CATALOG_STALE_WHILE_REVALIDATE_SECONDS = env_int("CATALOG_STALE_WHILE_REVALIDATE_SECONDS", 30)
# Each process keeps pages in memory too, up to this size, and reads the catalog version from
# the cache at most once per CATALOG_VERSION_CHECK_SECONDS (a sync reaches it that much later).
CATALOG_PAGE_MEMORY_BYTES = env_int("CATALOG_PAGE_MEMORY_MB", 32) * 1024 * 1024
CATALOG_VERSION_CHECK_SECONDS = float(env_str("CATALOG_VERSION_CHECK_SECONDS", "1"))
# Attribution (core/attribution.py): a Referer from these sites (or under them) is no referring
# site, such as the payment page sending the customer back.
ATTRIBUTION_IGNORED_REFERRERS = ("stripe.com",)

# Pages that show secrets (orders, eSIMs and activation codes, the account, cart, checkout):
# never stored by any cache (core/middleware.py).
NO_STORE_PATH_PREFIXES = [
    "/account/",
    "/accounts/",
    "/cart/",
    "/checkout/",
    "/orders/",
    "/esim/install/",
    "/esim/top-up/",
    "/gift-cards/",
    "/offers/",  # the unsubscribe page (its token in the path)
    "/admin/",
]
# The same pages in every other language (/es/cart/...): the language prefix is not a way around it.
NO_STORE_PATH_PREFIXES += [
    f"/{code}{prefix}" for code, _ in LANGUAGES if code != LANGUAGE_CODE for prefix in NO_STORE_PATH_PREFIXES
]

# Cart limits.
CART_MAX_QUANTITY = env_int("CART_MAX_QUANTITY", 10)
CART_MAX_LINES = env_int("CART_MAX_LINES", 10)


# Checkout and fulfilment.
CHECKOUT_SESSION_MINUTES = env_int("CHECKOUT_SESSION_MINUTES", 60)
FULFILMENT_MAX_RETRIES = env_int("FULFILMENT_MAX_RETRIES", 8)
FULFILMENT_RETRY_BASE_SECONDS = env_int("FULFILMENT_RETRY_BASE_SECONDS", 5)
FULFILMENT_LEASE_SECONDS = env_int("FULFILMENT_LEASE_SECONDS", 180)
AUTO_REFUND_FAILED_FULFILMENT = env_bool("AUTO_REFUND_FAILED_FULFILMENT", False)
RECONCILE_AFTER_SECONDS = env_int("RECONCILE_AFTER_SECONDS", 300)
# The traveller's account: usage from upstream, top-ups, links, alerts.
ESIM_USAGE_FRESH_SECONDS = env_int("ESIM_USAGE_FRESH_SECONDS", 300)
ESIM_UPSTREAM_FRESH_SECONDS = env_int("ESIM_UPSTREAM_FRESH_SECONDS", 300)  # history, top-ups
ESIM_UPSTREAM_KEEP_SECONDS = env_int("ESIM_UPSTREAM_KEEP_SECONDS", 7 * 86400)  # served stale meanwhile
ESIM_REFRESH_MIN_SECONDS = env_int("ESIM_REFRESH_MIN_SECONDS", 60)
ESIM_TOPUP_CHECK_SECONDS = env_int("ESIM_TOPUP_CHECK_SECONDS", 60)
ESIM_LOW_DATA_THRESHOLDS = sorted(int(t) for t in env_list("ESIM_LOW_DATA_THRESHOLDS", ["80", "100"]))
ESIM_TOPUP_LINK_DAYS = env_int("ESIM_TOPUP_LINK_DAYS", 7)

# --- Marketing emails (checkout/services/marketing.py): only to addresses that ticked "offers" ---
# The "you left something in your cart" email: once per order whose checkout started at least the
# delay ago and at most the max age ago and was never paid; at most one per address per gap.
ABANDONED_CART_DELAY_MINUTES = env_int("ABANDONED_CART_DELAY_MINUTES", 60)
ABANDONED_CART_MAX_AGE_HOURS = env_int("ABANDONED_CART_MAX_AGE_HOURS", 48)
ABANDONED_CART_MIN_GAP_HOURS = env_int("ABANDONED_CART_MIN_GAP_HOURS", 24)
ABANDONED_CART_LINK_DAYS = env_int("ABANDONED_CART_LINK_DAYS", 14)
# An unsubscribe link keeps working this long after its email (well beyond the 30 days the law asks).
MARKETING_UNSUBSCRIBE_LINK_DAYS = env_int("MARKETING_UNSUBSCRIBE_LINK_DAYS", 365)
ESIM_SHARE_LINK_HOURS = env_int("ESIM_SHARE_LINK_HOURS", 72)
# The partner balance is low (a banner, an email) below this amount, or when it pays for fewer than
# ROAMIFY_LOW_BALANCE_DAYS of the wholesale cost delivered a day over the last 7 days.
ROAMIFY_LOW_BALANCE_CENTS = parse_money(env_str("ROAMIFY_LOW_BALANCE_USD", "100.00"))
ROAMIFY_LOW_BALANCE_DAYS = env_int("ROAMIFY_LOW_BALANCE_DAYS", 3)
# Where staff alerts go: an order that needs action, a low partner balance.
ALERT_EMAILS = env_list("ALERT_EMAILS", [SUPPORT_EMAIL])
SHOP_ADDRESS = env_str("SHOP_ADDRESS", "")
SHOP_TAX_ID = env_str("SHOP_TAX_ID", "")
SHOP_TAX_NAME = env_str("SHOP_TAX_NAME", "")
SHOP_TAX_PERCENT = env_str("SHOP_TAX_PERCENT", "")  # prices include it; receipts show the share

# Gift cards (all amounts in cents). Like digitalDenominations and
# digitalFaceValueLimits {lower, upper, minorUnit} of the gift card API this follows.
GIFTCARD_DENOMINATIONS_CENTS = [
    int(v) for v in env_list("GIFTCARD_DENOMINATIONS_CENTS", ["1500", "2500", "5000", "10000"])
]
GIFTCARD_CUSTOM_MIN_CENTS = env_int("GIFTCARD_CUSTOM_MIN_CENTS", 1000)
GIFTCARD_CUSTOM_MAX_CENTS = env_int("GIFTCARD_CUSTOM_MAX_CENTS", 50000)
GIFTCARD_CUSTOM_STEP_CENTS = env_int("GIFTCARD_CUSTOM_STEP_CENTS", 100)
# Days a bought card stays valid (0: no expiry).
GIFTCARD_VALID_DAYS = env_int("GIFTCARD_VALID_DAYS", 1825)
# Key of the codes' HMAC; empty: derived from SECRET_KEY (then rotating SECRET_KEY voids every code).
GIFTCARD_CODE_KEY = env_str("GIFTCARD_CODE_KEY", "")
GIFTCARD_MAX_PER_ORDER = env_int("GIFTCARD_MAX_PER_ORDER", 5)
# Wrong codes (redemption and balance checks) allowed per IP and per account in a window.
GIFTCARD_GUESS_LIMIT = env_int("GIFTCARD_GUESS_LIMIT", 10)
GIFTCARD_GUESS_WINDOW_SECONDS = env_int("GIFTCARD_GUESS_WINDOW_SECONDS", 3600)

# Discount codes (discounts app): wrong codes allowed per IP and per account in a window, and the
# percent off a friend's first order gets through a customer's referral code.
DISCOUNT_GUESS_LIMIT = env_int("DISCOUNT_GUESS_LIMIT", 10)
DISCOUNT_GUESS_WINDOW_SECONDS = env_int("DISCOUNT_GUESS_WINDOW_SECONDS", 3600)
REFERRAL_FRIEND_DISCOUNT_PERCENT = env_int("REFERRAL_FRIEND_DISCOUNT_PERCENT", 10)
# The one-time code that confirms a revoke, and who sends it (a class; an SMS sender can be plugged in).
GIFTCARD_OTP_SENDER = env_str("GIFTCARD_OTP_SENDER", "giftcards.otp.EmailOtpSender")
GIFTCARD_OTP_MINUTES = env_int("GIFTCARD_OTP_MINUTES", 10)
GIFTCARD_OTP_TRIES = env_int("GIFTCARD_OTP_TRIES", 3)
GIFTCARD_OTP_LOCK_MINUTES = env_int("GIFTCARD_OTP_LOCK_MINUTES", 30)
# Revoke codes sent in a window: per card, per address they go to, per visitor (client IP).
GIFTCARD_OTP_SEND_WINDOW_SECONDS = env_int("GIFTCARD_OTP_SEND_WINDOW_SECONDS", 3600)
GIFTCARD_OTP_SENDS_PER_CARD = env_int("GIFTCARD_OTP_SENDS_PER_CARD", 5)
GIFTCARD_OTP_SENDS_PER_EMAIL = env_int("GIFTCARD_OTP_SENDS_PER_EMAIL", 10)
GIFTCARD_OTP_SENDS_PER_IP = env_int("GIFTCARD_OTP_SENDS_PER_IP", 20)
# Store credit (base currency): days a grant stays spendable; a referral's reward and the most a
# referrer earns in a calendar month; the refund window a friend's order must pass first.
STORE_CREDIT_EXPIRY_DAYS = env_int("STORE_CREDIT_EXPIRY_DAYS", 365)
REFERRAL_REWARD_CENTS = env_int("REFERRAL_REWARD_CENTS", 500)
REFERRAL_MONTHLY_CAP = env_int("REFERRAL_MONTHLY_CAP", 5)
REFUND_WINDOW_DAYS = env_int("REFUND_WINDOW_DAYS", 30)
# How long after a friend's order is paid its referral is settled: the refund window (the demo
# shortens it; REFERRAL_SETTLE_INTERVAL_SECONDS in the beat schedule is how often it looks).
REFERRAL_REWARD_AFTER_SECONDS = env_int("REFERRAL_REWARD_AFTER_SECONDS", REFUND_WINDOW_DAYS * 86400)
# Admin: the owner's dashboard and the partner balance.
ADMIN_DASHBOARD_CACHE_SECONDS = env_int("ADMIN_DASHBOARD_CACHE_SECONDS", 60)
ABANDONED_AFTER_MINUTES = env_int("ABANDONED_AFTER_MINUTES", 60)  # unpaid orders then leave the order list
# Times in admin say their zone ("14:05 UTC"): the zone is added to Django's default formats.
FORMAT_MODULE_PATH = ["storefront.formats"]
