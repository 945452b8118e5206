"""Settings of the example project, from the environment.

DATABASE_URL (default: SQLite file beside this project), CACHE_URL (default: local
memory; redis://... when several workers must share throttles), DJANGO_DEBUG
(default on, for the demo), DJANGO_SECRET_KEY (required when debug is off),
DNSAPI_MINIMUM_TTL (default 3600) and DNSAPI_NAMESERVERS (comma-separated absolute names).

On PostgreSQL, connections persist: DJANGO_CONN_MAX_AGE seconds (default 600), checked
before reuse, or DJANGO_DB_POOL=1 for psycopg's connection pool (Django >= 5.1; then
DJANGO_DB_POOL_MAX_SIZE, default 4, per worker). DJANGO_LOG_LEVEL (default WARNING) is
the level of django_stepup's and the example's records; they and Django's server errors
go to stderr. STEPUP_THROTTLE_FAIL_OPEN=1 lets logins through when the cache is away.
EXAMPLE_DRF_TOKEN_TWIN=1 adds a read behind DRF's TokenAuthentication and its twin behind
django-stepup (api/v1/twin/), for make deploy-check.
"""

from datetime import timedelta
from pathlib import Path

import django
import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="demo-only-insecure-secret-key")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_stepup",
    "accounts",
    "dnsapi",
]
# The same read behind DRF's TokenAuthentication, for make deploy-check's comparison.
DRF_TOKEN_TWIN = env.bool("EXAMPLE_DRF_TOKEN_TWIN", default=False)
if DRF_TOKEN_TWIN:
    INSTALLED_APPS.append("rest_framework.authtoken")

MIDDLEWARE = [
    "dnsapi.middleware.MergeSlashesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if env.str("STEPUP_TEST_DB_NAME", default="") and not IS_SQLITE:
    # The test database's name, so parallel test runs on one server don't collide.
    DATABASES["default"]["TEST"] = {"NAME": env.str("STEPUP_TEST_DB_NAME")}
if IS_SQLITE:
    # Parallel writers queue for the write lock (up to 20 s) from the start of their
    # transaction, instead of failing with "database is locked" when a read lock held by a
    # deferred transaction can't be upgraded.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
if not IS_SQLITE:
    if env.bool("DJANGO_DB_POOL", default=False):
        # The pool keeps connections; Django wants CONN_MAX_AGE 0 with it.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env.int("DJANGO_DB_POOL_MAX_SIZE", default=4),
        }
    else:
        # A new PostgreSQL connection per request dominates request time under load.
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
        # A connection that died (a database restart) is replaced, not reused.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND_PATH = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
else:
    EMAIL_BACKEND = EMAIL_BACKEND_PATH
DEFAULT_FROM_EMAIL = "stepup-demo@localhost"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["django_stepup.authentication.StepUpTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "django_stepup.permissions.MFARequiredIfEnabled",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["django_stepup.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "dnsapi.exceptions.exception_handler",
    # drf-spectacular, with the errors each view can answer (django_stepup.contrib.spectacular).
    "DEFAULT_SCHEMA_CLASS": "django_stepup.contrib.spectacular.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "django-stepup example: a deSEC-like DNS API",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    # The interactive page's assets come from drf-spectacular-sidecar: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The DNS API (dnsapi): deSEC's minimum TTL of new domains, and their apex NS records.
DNSAPI_MINIMUM_TTL = env.int("DNSAPI_MINIMUM_TTL", default=3600)
DNSAPI_NAMESERVERS = env.list(
    "DNSAPI_NAMESERVERS", default=["ns1.example.net.", "ns2.example.org."]
)

STEPUP = {
    "TOKEN_PERMISSIONS": ["create_domain", "delete_domain"],
    "TOTP_ISSUER": "django-stepup demo",
    "POLICY_SCOPES": {"rrsets": "dnsapi.policies.rrsets"},
    "THROTTLE_CACHE": "default",
    "THROTTLE_FAIL_OPEN": env.bool("STEPUP_THROTTLE_FAIL_OPEN", default=False),
    # WebAuthn: the browser binds every assertion to one of these origins (API.md).
    "WEBAUTHN_RP_ID": env.str("WEBAUTHN_RP_ID", default="localhost"),
    "WEBAUTHN_RP_NAME": "django-stepup demo",
    "WEBAUTHN_ORIGINS": env.list("WEBAUTHN_ORIGINS", default=["http://localhost:8000"]),
}

LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"}
    },
    # StreamHandler writes to stderr: server errors reach the process manager's log.
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.request": {"handlers": ["stderr"], "level": "ERROR"},
        "django_stepup": {"handlers": ["stderr"], "level": LOG_LEVEL},
        "example_project": {"handlers": ["stderr"], "level": LOG_LEVEL},
    },
}

# Every 500 is logged with its traceback (django.request) to stderr, whatever DEBUG says;
# it still propagates to Django's own "django" logger, which mails ADMINS with DEBUG off.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}

if not DEBUG:
    # API tokens unused for a year expire (an omitted max_unused_period gets this cap).
    STEPUP["API_TOKEN_MAX_UNUSED_PERIOD"] = timedelta(days=365)
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
