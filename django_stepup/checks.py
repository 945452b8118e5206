"""System checks for the ``STEPUP`` settings. Every message has a stable id.

Internal: may change without notice.
"""

import re
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string

from .conf import DEFAULTS, stepup_settings
from .throttling import parse_rate
from .tokens import PREFIX_PATTERN

E001_UNKNOWN_KEY = "django_stepup.E001"
E002_WRONG_TYPE = "django_stepup.E002"
E003_UNSAFE_COMBINATION = "django_stepup.E003"
E004_BAD_PREFIX = "django_stepup.E004"
E005_BAD_PERMISSION_NAME = "django_stepup.E005"
E006_NO_TIMEZONE = "django_stepup.E006"
E007_NOT_A_DICT = "django_stepup.E007"
E008_BAD_RATE = "django_stepup.E008"
E009_UNKNOWN_CACHE = "django_stepup.E009"
W001_LOCAL_THROTTLE_CACHE = "django_stepup.W001"
E020_NO_AUTHENTICATION_CLASS = "django_stepup.E020"
E021_UNIMPORTABLE_AUTHENTICATION_CLASS = "django_stepup.E021"
E022_NOT_A_STEPUP_AUTHENTICATION = "django_stepup.E022"
E023_BAD_AUTHENTICATION_KEYWORD = "django_stepup.E023"

EXPECTED_TYPES = {
    key: (list, tuple) if isinstance(default, list) else type(default)
    for key, default in DEFAULTS.items()
}
LOCAL_CACHE_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
MAX_VERIFY_FAILURE_LIMIT = 100
# An RFC 9110 auth-scheme: a token of visible characters without delimiters.
AUTH_SCHEME_PATTERN = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"


def _type_name(expected):
    if isinstance(expected, tuple):
        return " or ".join(kind.__name__ for kind in expected)
    return expected.__name__


def _has_type(value, expected):
    # bool is an int subclass; a flag is never a count.
    return isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)


def check_settings(app_configs=None, **kwargs):
    user_settings = getattr(settings, "STEPUP", None)
    if user_settings is None:
        user_settings = {}
    if not isinstance(user_settings, dict):
        return [Error("STEPUP must be a dict.", id=E007_NOT_A_DICT)]

    errors = []
    for key in sorted(set(user_settings) - set(DEFAULTS)):
        errors.append(
            Error(
                f"STEPUP has an unknown key {key!r}.",
                hint="See the settings reference for the keys django-stepup reads.",
                id=E001_UNKNOWN_KEY,
            )
        )
    wrong_types = set()
    for key, value in user_settings.items():
        expected = EXPECTED_TYPES.get(key)
        if expected is not None and not _has_type(value, expected):
            wrong_types.add(key)
            errors.append(
                Error(
                    f"STEPUP[{key!r}] must be of type {_type_name(expected)}, "
                    f"not {type(value).__name__}.",
                    id=E002_WRONG_TYPE,
                )
            )
    if wrong_types:
        return errors
    return errors + _check_values() + _check_environment()


def _check_values():
    errors = []
    prefix = stepup_settings.TOKEN_PREFIX
    if not re.fullmatch(PREFIX_PATTERN, prefix):
        errors.append(
            Error(
                f"STEPUP['TOKEN_PREFIX'] {prefix!r} must be 2-16 lower-case letters or digits, "
                "starting with a letter.",
                id=E004_BAD_PREFIX,
            )
        )
    for name in stepup_settings.TOKEN_PERMISSIONS:
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
            errors.append(
                Error(
                    f"STEPUP['TOKEN_PERMISSIONS'] has {name!r}: flags are lower-case identifiers.",
                    id=E005_BAD_PERMISSION_NAME,
                )
            )
    limit = stepup_settings.VERIFY_FAILURE_LIMIT
    if not 1 <= limit <= MAX_VERIFY_FAILURE_LIMIT:
        errors.append(
            Error(
                f"STEPUP['VERIFY_FAILURE_LIMIT'] is {limit}; it must be between 1 and "
                f"{MAX_VERIFY_FAILURE_LIMIT} (NIST SP 800-63B).",
                id=E003_UNSAFE_COMBINATION,
            )
        )
    for key in ("LOGIN_RATE_PER_ACCOUNT", "LOGIN_RATE_PER_ADDRESS"):
        try:
            parse_rate(getattr(stepup_settings, key))
        except ValueError as error:
            errors.append(Error(f"STEPUP[{key!r}]: {error}", id=E008_BAD_RATE))
    for key, default in DEFAULTS.items():
        if (
            key.startswith("MAX_")
            and isinstance(default, int)
            and getattr(stepup_settings, key) < 1
        ):
            errors.append(Error(f"STEPUP[{key!r}] must be at least 1.", id=E003_UNSAFE_COMBINATION))
    durations = {
        key: getattr(stepup_settings, key)
        for key, default in DEFAULTS.items()
        if isinstance(default, timedelta)
    }
    for key, value in durations.items():
        if value <= timedelta(0):
            errors.append(
                Error(f"STEPUP[{key!r}] must be a positive duration.", id=E003_UNSAFE_COMBINATION)
            )
    if durations["LOGIN_TOKEN_MAX_UNUSED_PERIOD"] > durations["LOGIN_TOKEN_MAX_AGE"]:
        errors.append(
            Error(
                "STEPUP['LOGIN_TOKEN_MAX_UNUSED_PERIOD'] is longer than "
                "STEPUP['LOGIN_TOKEN_MAX_AGE'], so it never takes effect.",
                id=E003_UNSAFE_COMBINATION,
            )
        )
    if durations["LAST_USED_INTERVAL"] >= durations["LOGIN_TOKEN_MAX_UNUSED_PERIOD"]:
        errors.append(
            Error(
                "STEPUP['LAST_USED_INTERVAL'] must be shorter than "
                "STEPUP['LOGIN_TOKEN_MAX_UNUSED_PERIOD'], or tokens in use would expire as idle.",
                id=E003_UNSAFE_COMBINATION,
            )
        )
    return errors


def _check_environment():
    errors: list[CheckMessage] = []
    if not settings.USE_TZ:
        errors.append(
            Error(
                "django-stepup needs USE_TZ = True: token expiry and TOTP windows are in UTC.",
                id=E006_NO_TIMEZONE,
            )
        )
    cache_alias = stepup_settings.THROTTLE_CACHE
    if cache_alias not in settings.CACHES:
        errors.append(
            Error(
                f"STEPUP['THROTTLE_CACHE'] names the cache {cache_alias!r}, which CACHES lacks.",
                id=E009_UNKNOWN_CACHE,
            )
        )
        return errors
    backend = settings.CACHES[cache_alias].get("BACKEND", "")
    if not settings.DEBUG and backend in LOCAL_CACHE_BACKENDS:
        errors.append(
            Warning(
                f"The throttle cache {cache_alias!r} uses {backend}, which each worker process "
                "keeps for itself: login throttles are not shared between workers.",
                hint="Point STEPUP['THROTTLE_CACHE'] at a shared cache such as Redis.",
                id=W001_LOCAL_THROTTLE_CACHE,
            )
        )
    return errors


W002_ADMIN_WITHOUT_SECOND_FACTOR = "django_stepup.W002"


def check_admin_second_factor(app_configs=None, **kwargs):
    """Deploy check: the default admin site asks for a second factor (django-otp's site or ours)."""
    from django.apps import apps

    if not apps.is_installed("django.contrib.admin"):
        return []
    from django.contrib import admin
    from django_otp.admin import OTPAdminSite

    # The project's urls.py is where admin.site usually gets its class; load it first.
    if getattr(settings, "ROOT_URLCONF", None):
        import_module(settings.ROOT_URLCONF)
    if isinstance(admin.site, OTPAdminSite):
        return []
    return [
        Warning(
            "The admin site opens with a password alone, and an admin session can create "
            "API tokens for any user: the second factor the API enforces is bypassed.",
            hint="In urls.py: admin.site.__class__ = django_stepup.admin_site.StepUpAdminSite "
            "(or django-otp's OTPAdminSite).",
            id=W002_ADMIN_WITHOUT_SECOND_FACTOR,
        )
    ]


def check_authentication_classes(app_configs=None, **kwargs):
    """``STEPUP["AUTHENTICATION_CLASSES"]``: importable step-up authentication classes."""
    user_settings = getattr(settings, "STEPUP", None) or {}
    if not isinstance(user_settings, dict):
        return []  # E007
    paths = user_settings.get("AUTHENTICATION_CLASSES", DEFAULTS["AUTHENTICATION_CLASSES"])
    if not isinstance(paths, (list, tuple)):
        return []  # E002
    if not paths:
        return [
            Error(
                "STEPUP['AUTHENTICATION_CLASSES'] is empty: the app's views could "
                "authenticate no one.",
                id=E020_NO_AUTHENTICATION_CLASS,
            )
        ]
    from .authentication import StepUpTokenAuthentication

    errors = []
    for path in paths:
        try:
            cls = import_string(path) if isinstance(path, str) else path
        except ImportError as error:
            errors.append(
                Error(
                    f"STEPUP['AUTHENTICATION_CLASSES'] names {path!r}, which cannot be "
                    f"imported: {error}",
                    id=E021_UNIMPORTABLE_AUTHENTICATION_CLASS,
                )
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, StepUpTokenAuthentication)):
            errors.append(
                Error(
                    f"STEPUP['AUTHENTICATION_CLASSES'] has {path!r}, which is not a "
                    "subclass of StepUpTokenAuthentication.",
                    hint="The app's views need step-up tokens as request.auth.",
                    id=E022_NOT_A_STEPUP_AUTHENTICATION,
                )
            )
            continue
        errors.extend(_check_keywords(path, cls))
    return errors


def _check_keywords(path, cls):
    keywords = cls.keywords if isinstance(cls.keywords, (list, tuple)) else ()
    if not all(isinstance(k, str) and re.fullmatch(AUTH_SCHEME_PATTERN, k) for k in keywords):
        message = f"{path!r} has keywords {cls.keywords!r}: each must be an HTTP auth scheme."
    elif not isinstance(cls.keyword, str) or cls.keyword.lower() not in {
        k.lower() for k in keywords
    }:
        message = f"{path!r} has keyword {cls.keyword!r}, which its keywords do not accept."
    else:
        return []
    return [Error(message, id=E023_BAD_AUTHENTICATION_KEYWORD)]
