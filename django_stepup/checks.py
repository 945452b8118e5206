"""System checks for the ``STEPUP`` settings. Every message has a stable id, one per condition.

Internal: may change without notice.
"""

import re
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.utils.module_loading import import_string

from .conf import DEFAULTS, stepup_settings
from .throttling import parse_rate
from .tokens import PREFIX_PATTERN

E001_UNKNOWN_KEY = "django_stepup.E001"
E002_WRONG_TYPE = "django_stepup.E002"
E003_BAD_FAILURE_LIMIT = "django_stepup.E003"
E004_BAD_PREFIX = "django_stepup.E004"
E005_BAD_PERMISSION_NAME = "django_stepup.E005"
E006_NO_TIMEZONE = "django_stepup.E006"
E007_NOT_A_DICT = "django_stepup.E007"
E008_BAD_RATE = "django_stepup.E008"
E009_UNKNOWN_CACHE = "django_stepup.E009"
E010_COUNT_BELOW_ONE = "django_stepup.E010"
E011_DURATION_NOT_POSITIVE = "django_stepup.E011"
E012_IDLE_LIMIT_OUTLIVES_MAX_AGE = "django_stepup.E012"
E013_LAST_USED_INTERVAL_TOO_LONG = "django_stepup.E013"
E014_TOTP_NOT_INSTALLED = "django_stepup.E014"
E015_SCOPE_NOT_IMPORTABLE = "django_stepup.E015"
E016_NOT_A_SCOPE = "django_stepup.E016"
E017_SCOPE_NAME_MISMATCH = "django_stepup.E017"
W001_LOCAL_THROTTLE_CACHE = "django_stepup.W001"
E020_NO_AUTHENTICATION_CLASS = "django_stepup.E020"
E021_UNIMPORTABLE_AUTHENTICATION_CLASS = "django_stepup.E021"
E022_NOT_A_STEPUP_AUTHENTICATION = "django_stepup.E022"
E023_BAD_AUTHENTICATION_KEYWORD = "django_stepup.E023"
E030_WEBAUTHN_NO_ORIGINS = "django_stepup.E030"
E031_WEBAUTHN_BAD_ORIGIN = "django_stepup.E031"
E032_WEBAUTHN_ORIGIN_OUTSIDE_RP_ID = "django_stepup.E032"
E033_WEBAUTHN_BAD_USER_VERIFICATION = "django_stepup.E033"
E034_WEBAUTHN_BAD_RP_ID = "django_stepup.E034"
USER_VERIFICATION_VALUES = ("required", "preferred", "discouraged")

EXPECTED_TYPES = {
    key: (list, tuple) if isinstance(default, list) else type(default)
    for key, default in DEFAULTS.items()
    if default is not None  # optional settings check their own types
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
    return (
        errors + _check_values() + _check_policy_scopes() + _check_environment() + _check_webauthn()
    )


def _check_webauthn():
    """Combinations that can never verify a WebAuthn response."""
    errors = []
    uv = stepup_settings.WEBAUTHN_USER_VERIFICATION
    if uv not in USER_VERIFICATION_VALUES:
        errors.append(
            Error(
                f"STEPUP['WEBAUTHN_USER_VERIFICATION'] is {uv!r}; give one of "
                f"{', '.join(USER_VERIFICATION_VALUES)}.",
                id=E033_WEBAUTHN_BAD_USER_VERIFICATION,
            )
        )
    rp_id = stepup_settings.WEBAUTHN_RP_ID
    if not rp_id:
        return errors
    if rp_id != rp_id.lower() or not re.fullmatch(r"[a-z0-9.-]+", rp_id) or ".." in rp_id:
        return [
            *errors,
            Error(
                f"STEPUP['WEBAUTHN_RP_ID'] is {rp_id!r}: give a lower-case domain, "
                "no scheme, port or path.",
                id=E034_WEBAUTHN_BAD_RP_ID,
            ),
        ]
    origins = stepup_settings.WEBAUTHN_ORIGINS
    if not origins:
        errors.append(
            Error(
                "STEPUP['WEBAUTHN_RP_ID'] is set but STEPUP['WEBAUTHN_ORIGINS'] is empty: "
                "no WebAuthn response could be accepted.",
                id=E030_WEBAUTHN_NO_ORIGINS,
            )
        )
    for origin in origins:
        parts = urlsplit(origin) if isinstance(origin, str) else None
        if (
            parts is None
            or parts.scheme not in ("https", "http")
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username is not None
        ):
            errors.append(
                Error(
                    f"STEPUP['WEBAUTHN_ORIGINS'] has {origin!r}, which is no origin "
                    "(scheme://host[:port]).",
                    id=E031_WEBAUTHN_BAD_ORIGIN,
                )
            )
            continue
        host = parts.hostname
        if host != rp_id and not host.endswith("." + rp_id):
            errors.append(
                Error(
                    f"STEPUP['WEBAUTHN_ORIGINS'] has {origin!r}, whose host is neither "
                    f"the RP ID {rp_id!r} nor below it: browsers refuse such a ceremony.",
                    id=E032_WEBAUTHN_ORIGIN_OUTSIDE_RP_ID,
                )
            )
    return errors


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
                id=E003_BAD_FAILURE_LIMIT,
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
            errors.append(Error(f"STEPUP[{key!r}] must be at least 1.", id=E010_COUNT_BELOW_ONE))
    durations = {
        key: getattr(stepup_settings, key)
        for key, default in DEFAULTS.items()
        if isinstance(default, timedelta)
    }
    for key, value in durations.items():
        if value <= timedelta(0):
            errors.append(
                Error(
                    f"STEPUP[{key!r}] must be a positive duration.", id=E011_DURATION_NOT_POSITIVE
                )
            )
    if durations["LOGIN_TOKEN_MAX_UNUSED_PERIOD"] > durations["LOGIN_TOKEN_MAX_AGE"]:
        errors.append(
            Error(
                "STEPUP['LOGIN_TOKEN_MAX_UNUSED_PERIOD'] is longer than "
                "STEPUP['LOGIN_TOKEN_MAX_AGE'], so it never takes effect.",
                id=E012_IDLE_LIMIT_OUTLIVES_MAX_AGE,
            )
        )
    if durations["LAST_USED_INTERVAL"] >= durations["LOGIN_TOKEN_MAX_UNUSED_PERIOD"]:
        errors.append(
            Error(
                "STEPUP['LAST_USED_INTERVAL'] must be shorter than "
                "STEPUP['LOGIN_TOKEN_MAX_UNUSED_PERIOD'], or tokens in use would expire as idle.",
                id=E013_LAST_USED_INTERVAL_TOO_LONG,
            )
        )
    return errors


def _check_policy_scopes():
    from .policies import PolicyScope

    errors = []
    for name, declaration in stepup_settings.POLICY_SCOPES.items():
        key = f"STEPUP['POLICY_SCOPES'][{name!r}]"
        scope = declaration
        if isinstance(declaration, str):
            try:
                scope = import_string(declaration)
            except Exception as error:  # any failure of the import is the finding
                errors.append(
                    Error(
                        f"{key} {declaration!r} cannot be imported: "
                        f"{type(error).__name__}: {error}",
                        id=E015_SCOPE_NOT_IMPORTABLE,
                    )
                )
                continue
        if not isinstance(scope, PolicyScope):
            errors.append(
                Error(
                    f"{key} must be a PolicyScope or its dotted path, not {type(scope).__name__}.",
                    id=E016_NOT_A_SCOPE,
                )
            )
        elif scope.name != name:
            errors.append(
                Error(
                    f"{key} declares a scope named {scope.name!r}.",
                    hint="The key of POLICY_SCOPES must be the scope's name.",
                    id=E017_SCOPE_NAME_MISMATCH,
                )
            )
    return errors


def _check_environment():
    errors: list[CheckMessage] = []
    if not apps.is_installed("django_otp.plugins.otp_totp"):
        errors.append(
            Error(
                "django-stepup needs 'django_otp.plugins.otp_totp' in INSTALLED_APPS: "
                "its TOTP factors are django-otp TOTP devices.",
                hint="Add 'django_otp' and 'django_otp.plugins.otp_totp' before 'django_stepup'.",
                id=E014_TOTP_NOT_INSTALLED,
            )
        )
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
