"""Test settings: SQLite in memory by default, PostgreSQL when DATABASE_URL says so."""

import os

import django
import environ

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.urls"
# The live_server fixture (tests of real HTTP from other source addresses) serves static files.
STATIC_URL = "static/"
AUTH_USER_MODEL = "testapp.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_stepup",
    "tests.testapp",
    "drf_spectacular",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

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

env = environ.Env()
DATABASES = {"default": env.db_url("DATABASE_URL", default="sqlite://:memory:")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["django_stepup.authentication.StepUpTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["django_stepup.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "django_stepup.contrib.spectacular.AutoSchema",
}

SPECTACULAR_SETTINGS = {"TITLE": "django-stepup test app", "COMPONENT_SPLIT_REQUEST": True}

STEPUP = {
    "TOKEN_PERMISSIONS": ["create_domain", "delete_domain"],
    "POLICY_SCOPES": {
        "rrsets": "tests.testapp.policies.rrsets",
        "private_records": "tests.testapp.policies.private_records",
    },
    "WEBAUTHN_RP_ID": "example.com",
    "WEBAUTHN_ORIGINS": ["https://app.example.com"],
}

if os.environ.get("STEPUP_TEST_DB_NAME") and "TEST" not in DATABASES["default"]:
    DATABASES["default"]["TEST"] = {"NAME": os.environ["STEPUP_TEST_DB_NAME"]}
SILENCED_SYSTEM_CHECKS = ["django_stepup.W001"]
