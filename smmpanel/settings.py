"""Settings, all from the environment.

DATABASE_URL   default: SQLite file var/smmpanel.sqlite3 (WAL, one writer at a time)
SECRET_KEY     default: generated once into var/secret_key (fine for the demo, set it in production)
DEBUG          default: off; "1"/"true" turns it on
ALLOWED_HOSTS  default: localhost,127.0.0.1,[::1]; comma-separated
PANEL_CURRENCY default: USD (the currency new customers hold their balance in)
SMMPANEL_VAR   default: ./var (where the SQLite file, the secret key and the demo key live)

REDIS_URL      unset: each process keeps its own cache (rate-limit counters included);
               set (redis://127.0.0.1:6379/0): one shared cache, limits count across processes
PROXY_HOPS     default: 0; behind N trusted reverse proxies, N (the client address is read
               from X-Forwarded-For, N entries from the right)

API v2 rate limits, COUNT/SECONDS ("0" turns one off); over a limit the API answers
{"error": "Too many requests"} (HTTP 200, with Retry-After):
API_RATE_PER_KEY      default: 6000/60 (one key's requests)
API_RATE_PER_ADDRESS  default: 12000/60 (one client address's requests, whatever the key)
API_RATE_BAD_KEYS     default: 30/60 (wrong keys from one address; then the address waits)

Customer accounts (the web pages):
SIGNUP_OPEN          default: on; "0" closes sign-up (the operator creates customers)
EMAIL_VERIFICATION   default: optional; "mandatory" requires a confirmed e-mail to log in, "none"
DEFAULT_FROM_EMAIL   default: smmpanel@localhost
EMAIL_HOST           unset: e-mails are printed on the console (the demo); set: sent by SMTP with
                     EMAIL_PORT (587), EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS (on)
LOGIN_FAILURE_LIMIT    default: 5 wrong passwords for one name from one address, then
LOGIN_LOCKOUT_MINUTES  default: 30 minutes locked out (the admin's login and the pages')
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext

from smmpanel.core.secret_files import read_or_create_secret

# Lets the admin classes name their model (ModelAdmin[Order]) for mypy --strict at runtime too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SMMPANEL_VAR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    return read_or_create_secret(VAR_DIR / "secret_key", lambda: secrets.token_urlsafe(50))


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

PANEL_CURRENCY = os.environ.get("PANEL_CURRENCY", "USD")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # django-bootstrap-static: Bootstrap's files under static/bootstrap/.
    "bootstrap",
    "smmpanel.core",
    "smmpanel.accounts",
    "smmpanel.catalog",
    "smmpanel.billing",
    "smmpanel.orders",
    "smmpanel.providers",
    "smmpanel.fulfillment",
    "smmpanel.support",
    "smmpanel.api_v2",
    "smmpanel.web",
    "smmpanel.ops",
    "smmpanel.simulator",
    "axes",
    # After the panel's apps, so that smmpanel/web's templates restyle allauth's pages.
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a customer's own language and time zone win over the browser's.
    "smmpanel.web.middleware.CustomerPreferences",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "smmpanel.urls"
WSGI_APPLICATION = "smmpanel.wsgi.application"
# /api/v2 and /api/v2/ are both routed explicitly: a redirected POST loses its body.
APPEND_SLASH = False

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
                "django.template.context_processors.i18n",
                "smmpanel.web.context.panel",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'smmpanel.sqlite3'}"
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # IMMEDIATE: every transaction takes the write lock when it begins, so writers
            # queue one at a time instead of failing to upgrade a read lock mid-way.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
        # Tests use a file too, not the in-memory default: WAL, the busy timeout and
        # several connections at once then behave as they do in production.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    else:
        # One test database per test run, so two runs on one server never collide.
        config["TEST"] = {"NAME": f"test_smmpanel_{os.getpid()}"}
    return config


DATABASES = {"default": _database()}

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "smmpanel",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))
API_RATE_PER_KEY = os.environ.get("API_RATE_PER_KEY", "6000/60")
API_RATE_PER_ADDRESS = os.environ.get("API_RATE_PER_ADDRESS", "12000/60")
API_RATE_BAD_KEYS = os.environ.get("API_RATE_BAD_KEYS", "30/60")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
#: The languages the pages are translated into (catalogs under smmpanel/locale, committed).
LANGUAGES = [("en", "English"), ("tr", "Türkçe")]
LOCALE_PATHS = [BASE_DIR / "smmpanel" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Customers log in on the pages (allauth); staff use the admin's own login page.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:order_new"
AUTHENTICATION_BACKENDS = [
    # First: refuses a login from a name and address locked out by failed attempts.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# django-axes: after LOGIN_FAILURE_LIMIT wrong passwords for one name from one address, that
# pair is locked out for LOGIN_LOCKOUT_MINUTES, right password or not (staff and customers).
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "smmpanel.core.ratelimit.login_username"
AXES_CLIENT_IP_CALLABLE = "smmpanel.core.ratelimit.client_address"
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False
SIGNUP_OPEN = _env_bool("SIGNUP_OPEN", default=True)
ACCOUNT_ADAPTER = "smmpanel.web.accounts.CustomerAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
# allauth's login, sign-up and reset rate limits are on by default (ACCOUNT_RATE_LIMITS).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = os.environ.get("PANEL_NAME", "smmpanel")
PANEL_NAME = MFA_TOTP_ISSUER

DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "smmpanel@localhost")
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # API keys ride in query strings (clients that use GET): no handler prints one.
    "filters": {"redact_keys": {"()": "smmpanel.core.redaction.RedactKeys"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_keys"],
        },
        # Django's own: the request lines `runserver` prints, query strings included.
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_keys"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # axes logs every failed login at INFO; the lockouts (WARNING) are what matter.
        "axes": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
