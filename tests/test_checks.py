from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import admin
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django_otp.admin import OTPAdminSite

from django_stepup.admin_site import StepUpAdminSite
from django_stepup.authentication import StepUpTokenAuthentication
from django_stepup.checks import (
    check_admin_second_factor,
    check_authentication_classes,
    check_settings,
)


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


@pytest.fixture
def default_admin_site_class():
    """``set(cls)`` makes the default admin site a ``cls``, as a project's urls.py would."""
    original = admin.site.__class__

    def set_class(cls):
        admin.site.__class__ = cls

    yield set_class
    admin.site.__class__ = original


def deploy_check_ids():
    return [message.id for message in run_checks(include_deployment_checks=True)]


def test_a_password_only_admin_warns_under_deploy():
    assert [m.id for m in check_admin_second_factor()] == ["django_stepup.W002"]
    assert "django_stepup.W002" in deploy_check_ids()
    assert "django_stepup.W002" not in [message.id for message in run_checks()]


@pytest.mark.parametrize("site_class", [StepUpAdminSite, OTPAdminSite])
def test_an_admin_with_a_second_factor_does_not_warn(default_admin_site_class, site_class):
    default_admin_site_class(site_class)
    assert check_admin_second_factor() == []
    assert "django_stepup.W002" not in deploy_check_ids()


def test_no_warning_without_the_admin(settings):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if app != "django.contrib.admin"
    ]
    assert check_admin_second_factor() == []


def _check_ids(classes):
    with override_settings(STEPUP={"AUTHENTICATION_CLASSES": classes}):
        return [error.id for error in check_authentication_classes()]


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        ([], ["django_stepup.E020"]),
        (["tests.testapp.authentication.Missing"], ["django_stepup.E021"]),
        (["no_such_module.Authentication"], ["django_stepup.E021"]),
        (["tests.testapp.authentication.NotStepUp"], ["django_stepup.E022"]),
        (["rest_framework.authentication.TokenAuthentication"], ["django_stepup.E022"]),
        (["tests.testapp.authentication.BadKeywordAuthentication"], ["django_stepup.E023"]),
        (
            [
                "tests.testapp.authentication.BearerAuthentication",
                "tests.testapp.authentication.ApiKeyAuthentication",
            ],
            [],
        ),
    ],
)
def test_the_system_check_validates_the_classes(classes, expected):
    assert _check_ids(classes) == expected


def test_the_system_check_passes_the_default():
    with override_settings(STEPUP={}):
        assert check_authentication_classes() == []


def test_the_system_check_refuses_a_keyword_that_is_no_auth_scheme():
    class Spaced(StepUpTokenAuthentication):
        keyword = "My Token"

    assert _check_ids([Spaced]) == ["django_stepup.E023"]


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


WEBAUTHN = {"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": ["https://example.com"]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({}, []),
        ({"WEBAUTHN_RP_ID": ""}, []),
        ({"WEBAUTHN_ORIGINS": ["https://app.example.com"]}, []),
        ({"WEBAUTHN_ORIGINS": []}, ["django_stepup.E030"]),
        ({"WEBAUTHN_ORIGINS": ["example.com"]}, ["django_stepup.E031"]),
        ({"WEBAUTHN_ORIGINS": ["https://example.com/login"]}, ["django_stepup.E031"]),
        ({"WEBAUTHN_ORIGINS": ["ftp://example.com"]}, ["django_stepup.E031"]),
        ({"WEBAUTHN_ORIGINS": ["https://example.org"]}, ["django_stepup.E032"]),
        ({"WEBAUTHN_ORIGINS": ["https://notexample.com"]}, ["django_stepup.E032"]),
        ({"WEBAUTHN_ORIGINS": ["https://example.com.evil.net"]}, ["django_stepup.E032"]),
        ({"WEBAUTHN_USER_VERIFICATION": "always"}, ["django_stepup.E033"]),
        ({"WEBAUTHN_RP_ID": "https://example.com"}, ["django_stepup.E034"]),
        ({"WEBAUTHN_RP_ID": "Example.com"}, ["django_stepup.E034"]),
    ],
)
def test_webauthn_settings_that_can_never_work(value, expected, settings):
    settings.DEBUG = True  # no W001 for the local test cache
    assert ids({**WEBAUTHN, **value}, settings) == expected


def test_an_origin_on_a_subdomain_or_port_of_the_rp_id_passes(settings):
    settings.DEBUG = True
    origins = ["https://app.example.com", "https://example.com:8443"]
    assert ids({**WEBAUTHN, "WEBAUTHN_ORIGINS": origins}, settings) == []
