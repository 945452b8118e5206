"""Settings for ``bench_auth.py``: the smallest project that serves the measured views.

SQLite by default; ``DATABASE_URL`` selects another database, e.g. PostgreSQL.
``bench_auth.py`` runs on a throw-away test database created from this one
(in memory for SQLite) and drops it at the end.
"""

import environ

SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "benchmarks.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework.authtoken",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_stepup",
]

# Middleware-free: the benchmark measures authentication, not the middleware stack.
MIDDLEWARE = []

env = environ.Env()
DATABASES = {"default": env.db_url("DATABASE_URL", default="sqlite://:memory:")}
DATABASES["default"]["CONN_MAX_AGE"] = None

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
