from datetime import timedelta

import pytest
from django.test import override_settings

from django_stepup.conf import DEFAULTS, stepup_settings


def test_defaults_apply_without_a_stepup_setting(settings):
    del settings.STEPUP
    assert stepup_settings.TOKEN_PREFIX == "stp"
    assert timedelta(seconds=60) == stepup_settings.LAST_USED_INTERVAL
    assert timedelta(days=7) == stepup_settings.LOGIN_TOKEN_MAX_AGE
    assert timedelta(hours=1) == stepup_settings.LOGIN_TOKEN_MAX_UNUSED_PERIOD


def test_user_value_overrides_default_and_is_read_at_call_time():
    with override_settings(STEPUP={"TOKEN_PREFIX": "abc"}):
        assert stepup_settings.TOKEN_PREFIX == "abc"
    assert DEFAULTS["TOKEN_PREFIX"] == stepup_settings.TOKEN_PREFIX


def test_cache_is_cleared_in_place_on_setting_changed(settings):
    first = stepup_settings.RECOVERY_CODE_COUNT
    settings.STEPUP = {"RECOVERY_CODE_COUNT": first + 2}
    assert first + 2 == stepup_settings.RECOVERY_CODE_COUNT


def test_unrelated_setting_change_keeps_the_memo(settings):
    assert stepup_settings.TOKEN_PREFIX == "stp"
    stepup_settings.__dict__["TOKEN_PREFIX"] = "memo"
    settings.DEBUG = True
    assert stepup_settings.TOKEN_PREFIX == "memo"
    stepup_settings.reload()


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match="NOPE"):
        stepup_settings.NOPE


def test_token_permissions_start_with_the_builtin_flag(settings):
    settings.STEPUP = {"TOKEN_PERMISSIONS": ["create_domain", "manage_tokens"]}
    assert stepup_settings.token_permissions == ("manage_tokens", "create_domain")
