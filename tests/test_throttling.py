"""django_stepup.throttling: fixed-window counters in the configured cache."""

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.core.cache import caches
from django.test import RequestFactory, override_settings

from django_stepup import throttling


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("10/min", (10, 60)), ("5/s", (5, 1)), ("3/hour", (3, 3600)), ("1/day", (1, 86400))],
)
def test_parse_rate(rate, expected):
    assert throttling.parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["abc", "10", "10/", "10/week", "-1/min", "1.5/min"])
def test_parse_rate_rejects_nonsense(rate):
    with pytest.raises(ValueError, match="Invalid rate"):
        throttling.parse_rate(rate)


@time_machine.travel(datetime(2030, 1, 1, 0, 0, 20, tzinfo=timezone.utc), tick=False)
def test_counts_up_to_the_limit_then_says_how_long_to_wait():
    assert [throttling.hit("scope", "a", "3/min") for _ in range(3)] == [0, 0, 0]
    assert throttling.hit("scope", "a", "3/min") == 40
    assert throttling.hit("scope", "b", "3/min") == 0
    assert throttling.hit("other", "a", "3/min") == 0


def test_a_new_window_starts_afresh():
    with time_machine.travel(datetime(2030, 1, 1, 0, 0, 59, tzinfo=timezone.utc), tick=False) as t:
        throttling.hit("scope", "a", "1/min")
        assert throttling.hit("scope", "a", "1/min") == 1
        t.shift(timedelta(seconds=1))
        assert throttling.hit("scope", "a", "1/min") == 0


@override_settings(
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "d"},
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"},
    },
    STEPUP={"THROTTLE_CACHE": "throttle"},
)
def test_counters_live_in_the_configured_cache():
    caches["throttle"].clear()
    caches["default"].clear()
    throttling.hit("scope", "someone@example.com", "1/min")
    assert throttling.hit("scope", "someone@example.com", "1/min") > 0
    caches["default"].clear()
    assert throttling.hit("scope", "someone@example.com", "1/min") > 0
    caches["throttle"].clear()
    assert throttling.hit("scope", "someone@example.com", "1/min") == 0


@override_settings(STEPUP={"LOGIN_RATE_PER_ACCOUNT": "2/min", "LOGIN_RATE_PER_ADDRESS": "3/min"})
def test_login_wait_counts_account_and_address():
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    assert throttling.login_wait(request, "a@example.com") == 0
    assert throttling.login_wait(request, " A@Example.com") == 0
    assert throttling.login_wait(request, "a@example.com") > 0
    assert throttling.login_wait(request, "b@example.com") > 0
    elsewhere = RequestFactory().post("/", REMOTE_ADDR="192.0.2.2")
    assert throttling.login_wait(elsewhere, "c@example.com") == 0


@override_settings(STEPUP={"LOGIN_RATE_PER_ACCOUNT": "2/min", "LOGIN_RATE_PER_ADDRESS": "100/min"})
def test_login_wait_keys_on_the_normalised_identifier_of_any_user_model():
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    assert throttling.login_wait(request, "Alice") == 0
    assert throttling.login_wait(request, "\uff41lice ") == 0  # fullwidth a: NFKC folds it
    assert throttling.login_wait(request, "ALICE") > 0
    assert throttling.login_wait(request, "alicia") == 0
