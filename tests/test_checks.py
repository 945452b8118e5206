from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_stepup.checks import check_settings


def ids(settings_value, settings):
    settings.STEPUP = settings_value
    return [message.id for message in check_settings()]


def test_test_settings_pass(settings):
    settings.DEBUG = True
    assert check_settings() == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"TOKEN_PREFIXX": "stp"}, ["django_stepup.E001"]),
        ({"TOKEN_PREFIX": 3}, ["django_stepup.E002"]),
        ({"LAST_USED_INTERVAL": 60}, ["django_stepup.E002"]),
        ({"VERIFY_FAILURE_LIMIT": True}, ["django_stepup.E002"]),
        ({"TOKEN_PERMISSIONS": "create_domain"}, ["django_stepup.E002"]),
        ({"TOKEN_PREFIX": "Bad_Prefix"}, ["django_stepup.E004"]),
        ({"TOKEN_PERMISSIONS": ["Create-Domain"]}, ["django_stepup.E005"]),
        ({"VERIFY_FAILURE_LIMIT": 1000}, ["django_stepup.E003"]),
        ({"VERIFY_FAILURE_LIMIT": 0}, ["django_stepup.E003"]),
        ({"LOGIN_TOKEN_MAX_AGE": timedelta(0)}, ["django_stepup.E011", "django_stepup.E012"]),
        ({"LAST_USED_INTERVAL": timedelta(seconds=-1)}, ["django_stepup.E011"]),
        ({"LOGIN_TOKEN_MAX_UNUSED_PERIOD": timedelta(days=8)}, ["django_stepup.E012"]),
        ({"LAST_USED_INTERVAL": timedelta(hours=2)}, ["django_stepup.E013"]),
        ({"LOGIN_RATE_PER_ACCOUNT": "ten/min"}, ["django_stepup.E008"]),
        ({"LOGIN_RATE_PER_ADDRESS": "10/fortnight"}, ["django_stepup.E008"]),
        ({"MAX_TOKENS_PER_USER": 0}, ["django_stepup.E010"]),
        ({"MAX_FACTORS_PER_USER": -1}, ["django_stepup.E010"]),
        ({"POLICY_SCOPES": {"rrsets": "tests.testapp.policies.missing"}}, ["django_stepup.E015"]),
        ({"POLICY_SCOPES": {"rrsets": "tests.no_such_module.rrsets"}}, ["django_stepup.E015"]),
        ({"POLICY_SCOPES": {"rrsets": "django_stepup.conf.DEFAULTS"}}, ["django_stepup.E016"]),
        ({"POLICY_SCOPES": {"rrsets": 42}}, ["django_stepup.E016"]),
        ({"POLICY_SCOPES": {"records": "tests.testapp.policies.rrsets"}}, ["django_stepup.E017"]),
        ({"THROTTLE_CACHE": "missing"}, ["django_stepup.E009"]),
    ],
)
def test_bad_settings(value, expected, settings):
    settings.DEBUG = True
    assert ids(value, settings) == expected


def test_stepup_must_be_a_dict(settings):
    settings.STEPUP = ["TOKEN_PREFIX"]
    assert [m.id for m in check_settings()] == ["django_stepup.E007"]


def test_use_tz_is_required(settings):
    settings.DEBUG = True
    settings.USE_TZ = False
    assert [m.id for m in check_settings()] == ["django_stepup.E006"]


def test_local_throttle_cache_warns_in_production(settings):
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [m.id for m in check_settings()] == ["django_stepup.W001"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert check_settings() == []


def test_check_is_registered(settings, db):
    settings.STEPUP = {"UNKNOWN": 1}
    with pytest.raises(SystemCheckError, match="django_stepup.E001"):
        call_command("check")


def test_totp_plugin_must_be_installed():
    without = [
        app for app in django_settings.INSTALLED_APPS if app != "django_otp.plugins.otp_totp"
    ]
    with override_settings(INSTALLED_APPS=without):
        assert "django_stepup.E014" in [m.id for m in check_settings()]


def test_a_scope_that_fails_to_load_is_a_check_error_not_a_crash(settings, db):
    settings.STEPUP = {"POLICY_SCOPES": {"rrsets": "tests.no_such_module.rrsets"}}
    apps.get_app_config("django_stepup").ready()
    with pytest.raises(SystemCheckError, match="django_stepup.E015"):
        call_command("check")
