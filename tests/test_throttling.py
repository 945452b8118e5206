"""django_stepup.throttling: sliding-window slots, known networks, failing closed."""

import socket
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.core.cache import caches
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from django_stepup import throttling
from django_stepup.models import Token
from tests.factories import PASSWORD, TokenFactory
from tests.utils import authenticated, in_parallel, login_field, login_name


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


#: Throttle state in this process's memory, whose expiry follows time-machine's clock
#: (Redis expires keys by its own clock).
LOCAL_THROTTLE = {
    "CACHES": {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "d"},
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"},
    },
}


def at(second):
    return datetime(2030, 1, 1, 0, 0, 0, tzinfo=timezone.utc) + timedelta(seconds=second)


@override_settings(**LOCAL_THROTTLE, STEPUP={"THROTTLE_CACHE": "throttle"})
def test_counts_up_to_the_limit_then_says_how_long_to_wait():
    caches["throttle"].clear()
    with time_machine.travel(at(20), tick=False) as traveller:
        assert [throttling.hit("scope", "a", "3/min") for _ in range(2)] == [0, 0]
        traveller.shift(15)
        assert throttling.hit("scope", "a", "3/min") == 0
        assert throttling.hit("scope", "a", "3/min") == 45  # the first slot frees at 1:20
        assert throttling.hit("scope", "b", "3/min") == 0
        assert throttling.hit("other", "a", "3/min") == 0


@override_settings(**LOCAL_THROTTLE, STEPUP={"THROTTLE_CACHE": "throttle"})
def test_a_burst_straddling_a_window_edge_gets_the_limit_only():
    """A fixed window admits 2 x 10 between 0:59 and 1:01; a sliding one admits 10."""
    caches["throttle"].clear()
    with time_machine.travel(at(59), tick=False) as traveller:
        before = [throttling.hit("scope", "a", "10/min") for _ in range(10)]
        traveller.shift(2)
        after = [throttling.hit("scope", "a", "10/min") for _ in range(10)]
    assert before == [0] * 10
    assert after == [58] * 10


@override_settings(**LOCAL_THROTTLE, STEPUP={"THROTTLE_CACHE": "throttle"})
def test_no_interval_of_the_period_admits_more_than_the_limit():
    """Attempts every 7 s for 10 min: every 60 s interval holds at most 3 admitted ones."""
    caches["throttle"].clear()
    admitted = []
    with time_machine.travel(at(0), tick=False) as traveller:
        for step in range(0, 600, 7):
            if throttling.hit("scope", "a", "3/min") == 0:
                admitted.append(step)
            traveller.shift(7)
    assert max(sum(start <= t < start + 60 for t in admitted) for start in range(600)) == 3
    assert len(admitted) >= 3 * 9  # and the budget comes back as the window slides


@override_settings(**LOCAL_THROTTLE, STEPUP={"THROTTLE_CACHE": "throttle"})
def test_a_slot_frees_exactly_one_period_after_it_was_taken():
    caches["throttle"].clear()
    with time_machine.travel(at(59), tick=False) as traveller:
        throttling.hit("scope", "a", "1/min")
        assert throttling.hit("scope", "a", "1/min") == 60
        traveller.shift(59)
        assert throttling.hit("scope", "a", "1/min") == 1
        traveller.shift(1)
        assert throttling.hit("scope", "a", "1/min") == 0


def test_parallel_attempts_in_the_configured_cache_pass_the_limit_exactly():
    """Threads race on the configured cache (Redis in the PostgreSQL run): ``add`` decides."""
    results = in_parallel(*[lambda: throttling.hit("race", "a", "10/min")] * 40)
    assert sum(wait == 0 for wait in results) == 10


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


LOGIN = "/auth/login/"
OWNER_HOME = "192.0.2.10"


def login(identifier, password=PASSWORD, address=OWNER_HOME):
    body = {login_field(): identifier, "password": password}
    return APIClient().post(LOGIN, body, format="json", REMOTE_ADDR=address)


def stranger(i):
    return f"203.0.{113 + i // 200}.{i % 200 + 1}"


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.77", "192.0.2.0/24"),
        ("2001:db8:1:2:3::4", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.77", "192.0.2.0/24"),
        ("", ""),
        ("not an address", ""),
    ],
)
def test_network_of(address, network):
    assert throttling.network_of(address) == network


@pytest.mark.django_db(transaction=True)  # the network is remembered once the login commits
class TestStrangersCannotLockTheOwnerOut:
    def test_failures_from_unknown_networks_leave_the_known_budget(self, user):
        name = login_name(user)
        assert login(name).status_code == 200  # the home network becomes known
        for i in range(9):  # the unknown budget: 10, the first login included
            assert login(name, "wrong", address=stranger(i)).status_code == 401
        assert login(name, "wrong", address=stranger(9)).status_code == 429
        assert login(name, address="192.0.2.99").status_code == 200  # same /24 as home
        assert login(name, address="198.51.100.1").status_code == 429  # a new network waits

    def test_failures_from_known_networks_still_count_against_the_account(self, user):
        name = login_name(user)
        assert login(name).status_code == 200
        for _ in range(10):
            assert login(name, "wrong").status_code == 401
        response = login(name)
        assert response.status_code == 429
        assert int(response["Retry-After"]) >= 1

    def test_without_a_success_every_network_is_unknown(self, user):
        name = login_name(user)
        for i in range(10):
            login(name, "wrong", address=stranger(i))
        assert login(name).status_code == 429

    def test_the_per_address_limit_stays(self, user):
        assert login(login_name(user)).status_code == 200
        for i in range(29):
            login(f"nobody{i}@example.com", "wrong")
        assert login(login_name(user)).status_code == 429

    @override_settings(STEPUP={"LOGIN_RATE_PER_ACCOUNT": "11/min"})
    def test_the_known_set_is_bounded_to_the_most_recent_networks(self, user):
        name = login_name(user)
        homes = [f"10.0.{i}.1" for i in range(throttling.KNOWN_NETWORKS + 1)]
        for home in homes:  # each from a new network: the unknown budget is spent
            assert login(name, address=home).status_code == 200
        assert login(name, address=homes[-1]).status_code == 200
        assert login(name, address=homes[1]).status_code == 200
        assert login(name, address=homes[0]).status_code == 429  # forgotten: the oldest


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_cache():
    return {
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "d",
            },
            "throttle": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            },
        }
    }


@pytest.mark.django_db
class TestUnreachableCache:
    def test_login_fails_closed_with_503_and_retry_after(self, user):
        with override_settings(**unreachable_cache(), STEPUP={"THROTTLE_CACHE": "throttle"}):
            response = login(login_name(user))
        assert response.status_code == 503
        assert response.json() == {"detail": "Login is temporarily unavailable. Try again later."}
        assert response["Retry-After"] == str(throttling.UNAVAILABLE_RETRY_AFTER)
        assert not Token.objects.exists()

    def test_a_wrong_password_fails_closed_too(self, user):
        with override_settings(**unreachable_cache(), STEPUP={"THROTTLE_CACHE": "throttle"}):
            assert login(login_name(user), "wrong").status_code == 503

    def test_fail_open_lets_logins_through(self, user):
        settings = {"THROTTLE_CACHE": "throttle", "THROTTLE_FAIL_OPEN": True}
        with override_settings(**unreachable_cache(), STEPUP=settings):
            assert login(login_name(user)).status_code == 200
            assert login(login_name(user), "wrong").status_code == 401

    def test_requests_with_a_token_need_no_cache(self, user):
        token = TokenFactory(user=user, login=True)
        with override_settings(**unreachable_cache(), STEPUP={"THROTTLE_CACHE": "throttle"}):
            response = authenticated(APIClient(), token.secret).get("/auth/account/")
        assert response.status_code == 200
