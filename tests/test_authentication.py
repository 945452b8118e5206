from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_stepup.authentication import StepUpTokenAuthentication
from django_stepup.exceptions import StepUpRequired
from django_stepup.models import MFAState, Token
from tests.factories import TokenFactory
from tests.utils import KNOWN_NETWORKS, authenticated

URL = "/whoami/"
INVALID = {"detail": "Invalid token."}


def assert_invalid(response):
    assert response.status_code == 401
    assert response.json() == INVALID
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "BEARER"])
def test_accepts_token_and_bearer(api_client, token, scheme):
    response = authenticated(api_client, token.secret, scheme).get(URL)
    assert response.status_code == 200
    assert response.json() == {"email": token.user.email, "token": str(token.id)}


def test_no_header_is_a_401_challenge(api_client, db):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_well_formed_token(api_client, token):
    token.delete()
    assert_invalid(authenticated(api_client, token.secret).get(URL))


@pytest.mark.parametrize(
    "header",
    [
        "Token",
        "Token ",
        "Token a b",
        "Token " + "a" * 4096,
        "Token stp_" + "A" * 36,
        "Bearer not-a-token",
    ],
)
def test_malformed_header_costs_no_query(api_client, db, header, django_assert_num_queries):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    with django_assert_num_queries(0):
        response = api_client.get(URL)
    assert_invalid(response)


def test_non_ascii_header_is_invalid(api_client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get(
            URL, HTTP_AUTHORIZATION="Token stp_\u00e9\u00e9".encode().decode("latin-1")
        )
    assert_invalid(response)


def test_wrong_checksum_costs_no_query(api_client, token, django_assert_num_queries):
    last = token.secret[-1]
    wrong = token.secret[:-1] + ("A" if last != "A" else "B")
    with django_assert_num_queries(0):
        response = authenticated(api_client, wrong).get(URL)
    assert_invalid(response)


def test_query_string_token_is_ignored(api_client, token):
    response = api_client.get(URL, {"token": token.secret})
    assert response.status_code == 401


def test_authenticated_request_is_one_query(api_client, token, django_assert_num_queries):
    Token.objects.filter(pk=token.pk).update(last_used=timezone.now(), networks=KNOWN_NETWORKS)
    with django_assert_num_queries(1) as captured:
        response = authenticated(api_client, token.secret).get(URL)
    assert response.status_code == 200
    assert captured.captured_queries[0]["sql"].startswith("SELECT")


def test_mfa_state_is_joined_in_the_same_query(api_client, token, django_assert_num_queries):
    MFAState.objects.create(user=token.user, enabled=True)
    Token.objects.filter(pk=token.pk).update(last_used=timezone.now(), networks=KNOWN_NETWORKS)
    client = authenticated(api_client, token.secret)
    with django_assert_num_queries(1):
        response = client.get(URL)
        assert response.wsgi_request.user.stepup_mfa_state.enabled is True
    assert response.status_code == 200


def test_inactive_user_is_rejected(api_client, token):
    token.user.is_active = False
    token.user.save()
    assert_invalid(authenticated(api_client, token.secret).get(URL))


class TestExpiry:
    def test_max_age_edges(self, api_client, user):
        created = timezone.now()
        token = TokenFactory(user=user, created=created, max_age=timedelta(hours=1))
        client = authenticated(api_client, token.secret)
        with time_machine.travel(created + timedelta(hours=1) - timedelta(seconds=1)):
            assert client.get(URL).status_code == 200
        with time_machine.travel(created + timedelta(hours=1)):
            assert_invalid(client.get(URL))
        with time_machine.travel(created + timedelta(hours=1, seconds=1)):
            assert_invalid(client.get(URL))

    def test_max_unused_period_counts_from_created(self, api_client, user):
        created = timezone.now()
        token = TokenFactory(user=user, created=created, max_unused_period=timedelta(minutes=10))
        client = authenticated(api_client, token.secret)
        with time_machine.travel(created + timedelta(minutes=10, seconds=1)):
            assert_invalid(client.get(URL))

    def test_max_unused_period_counts_from_last_used(self, api_client, user):
        created = timezone.now()
        token = TokenFactory(user=user, created=created, max_unused_period=timedelta(minutes=10))
        client = authenticated(api_client, token.secret)
        moment = created
        for _ in range(3):  # each use inside the period keeps the token alive
            moment += timedelta(minutes=9, seconds=59)
            with time_machine.travel(moment):
                assert client.get(URL).status_code == 200
        token.refresh_from_db()
        assert token.last_used == moment
        with time_machine.travel(moment + timedelta(minutes=10, seconds=1)):
            assert_invalid(client.get(URL))

    def test_expired_request_does_not_touch_last_used(self, api_client, user):
        created = timezone.now()
        token = TokenFactory(user=user, created=created, max_age=timedelta(minutes=1))
        with time_machine.travel(created + timedelta(minutes=2)):
            assert_invalid(authenticated(api_client, token.secret).get(URL))
        token.refresh_from_db()
        assert token.last_used is None

    def test_no_limits_never_expire(self, api_client, user):
        token = TokenFactory(user=user, created=timezone.now() - timedelta(days=3650))
        assert authenticated(api_client, token.secret).get(URL).status_code == 200


class TestSubnets:
    @pytest.mark.parametrize(
        ("subnets", "remote_addr", "ok"),
        [
            (["192.0.2.0/24"], "192.0.2.10", True),
            (["192.0.2.0/24"], "198.51.100.1", False),
            (["2001:db8::/32"], "2001:db8::1", True),
            (["2001:db8::/32"], "2001:db9::1", False),
            (["192.0.2.0/24"], "::ffff:192.0.2.10", True),
            (["192.0.2.0/24"], "::ffff:198.51.100.1", False),
            (["::/0"], "::ffff:198.51.100.1", False),
            (["fe80::/10"], "fe80::1%eth0", True),
            ([], "192.0.2.10", False),
            (["0.0.0.0/0", "::/0"], "", False),
            (["0.0.0.0/0", "::/0"], "unknown", False),
            (["0.0.0.0/0", "::/0"], "unix:/run/gunicorn.sock", False),
        ],
    )
    def test_allowed_subnets(self, api_client, user, subnets, remote_addr, ok):
        token = TokenFactory(user=user, allowed_subnets=subnets)
        response = authenticated(api_client, token.secret).get(URL, REMOTE_ADDR=remote_addr)
        if ok:
            assert response.status_code == 200
        else:
            assert_invalid(response)
            token.refresh_from_db()
            assert token.last_used is None

    def test_forwarded_headers_are_not_trusted(self, api_client, user):
        token = TokenFactory(user=user, allowed_subnets=["192.0.2.0/24"])
        response = authenticated(api_client, token.secret).get(
            URL,
            REMOTE_ADDR="198.51.100.1",
            HTTP_X_FORWARDED_FOR="192.0.2.10",
            HTTP_X_REAL_IP="192.0.2.10",
            HTTP_FORWARDED="for=192.0.2.10",
        )
        assert_invalid(response)

    def test_missing_remote_addr_fails_closed(self, api_client, token):
        client = authenticated(api_client, token.secret)
        response = client.generic("GET", URL, REMOTE_ADDR=None)
        assert_invalid(response)


class TestLastUsed:
    def test_first_use_sets_last_used(self, api_client, token):
        authenticated(api_client, token.secret).get(URL)
        token.refresh_from_db()
        assert token.last_used is not None

    def test_second_request_inside_interval_writes_nothing(self, api_client, token):
        client = authenticated(api_client, token.secret)
        client.get(URL)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        assert [
            q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SELECT")
        ] == []

    def test_write_after_interval_is_one_conditional_update(self, api_client, token):
        start = timezone.now()
        client = authenticated(api_client, token.secret)
        with time_machine.travel(start):
            client.get(URL)
        with time_machine.travel(start + timedelta(seconds=61)):
            with CaptureQueriesContext(connection) as captured:
                client.get(URL)
        writes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
        assert len(writes) == 1
        assert "last_used" in writes[0]
        token.refresh_from_db()
        assert token.last_used == start + timedelta(seconds=61)

    def test_interval_is_a_setting(self, api_client, token, settings):
        settings.STEPUP = {"LAST_USED_INTERVAL": timedelta(seconds=5)}
        start = timezone.now()
        client = authenticated(api_client, token.secret)
        with time_machine.travel(start):
            client.get(URL)
        with time_machine.travel(start + timedelta(seconds=6)):
            client.get(URL)
        token.refresh_from_db()
        assert token.last_used == start + timedelta(seconds=6)

    def test_last_used_never_moves_backwards(self, api_client, token):
        later = timezone.now() + timedelta(hours=1)
        Token.objects.filter(pk=token.pk).update(last_used=later)
        authenticated(api_client, token.secret).get(URL)
        token.refresh_from_db()
        assert token.last_used == later


# --- Extension points: keyword, keywords, model, STEPUP["AUTHENTICATION_CLASSES"] ---

BEARER = {"AUTHENTICATION_CLASSES": ["tests.testapp.authentication.BearerAuthentication"]}
API_KEY = {"AUTHENTICATION_CLASSES": ["tests.testapp.authentication.ApiKeyAuthentication"]}
BEARER_CHALLENGE = (
    'Bearer error="insufficient_user_authentication", '
    'error_description="This action needs a login token promoted by a second factor."'
)


@pytest.fixture
def bearer():
    with override_settings(STEPUP=BEARER):
        yield


def test_the_default_class_accepts_token_and_bearer_and_challenges_with_token(api_client, db):
    token = TokenFactory(login=True)
    for scheme in ("Token", "bearer", "TOKEN"):
        assert (
            authenticated(api_client, token.secret, scheme).get("/auth/account/").status_code == 200
        )
    response = authenticated(api_client, token.secret, "Basic").get("/auth/account/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_default_model_is_the_apps_token():
    assert StepUpTokenAuthentication().get_model() is Token


@pytest.mark.usefixtures("bearer")
class TestAConfiguredSubclass:
    def test_the_apps_endpoints_accept_its_keyword_only(self, api_client, db):
        token = TokenFactory(login=True)
        response = authenticated(api_client, token.secret, "Bearer").get("/auth/account/")
        assert response.status_code == 200
        assert response.json()["email"] == token.user.email
        response = authenticated(api_client, token.secret, "Token").get("/auth/account/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"

    def test_the_token_endpoints_accept_it(self, api_client, db):
        token = TokenFactory(perms=["manage_tokens"])
        response = authenticated(api_client, token.secret, "Bearer").get("/auth/tokens/")
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == [str(token.id)]

    def test_an_invalid_token_is_challenged_with_its_keyword(self, api_client, db):
        response = authenticated(api_client, "stp_invalid", "Bearer").get("/auth/tokens/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"

    def test_the_step_up_challenge_names_its_keyword(self, api_client, factor):
        token = TokenFactory(user=factor.user, login=True)
        client = authenticated(api_client, token.secret, "Bearer")
        for response in (client.get("/auth/tokens/"), client.get("/guarded/mfa/")):
            assert response.status_code == 401
            assert response["WWW-Authenticate"] == BEARER_CHALLENGE

    def test_a_failed_login_is_challenged_with_its_keyword(self, api_client, user):
        body = {get_user_model().USERNAME_FIELD: user.email, "password": "wrong"}
        response = api_client.post("/auth/login/", body, format="json")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"

    def test_a_subclass_of_step_up_required_keeps_its_own_scheme(self):
        class Custom(StepUpRequired):
            scheme = "Custom"

        assert StepUpRequired().auth_header.startswith("Bearer error=")
        assert Custom().auth_header.startswith("Custom error=")


@override_settings(STEPUP=API_KEY)
def test_a_keywords_tuple_is_honoured(api_client, db):
    token = TokenFactory(login=True)
    for scheme in ("ApiKey", "x-token"):
        assert (
            authenticated(api_client, token.secret, scheme).get("/auth/account/").status_code == 200
        )
    response = authenticated(api_client, token.secret, "Token").get("/auth/account/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "ApiKey"


def test_the_setting_is_read_at_call_time(api_client, db):
    token = TokenFactory(login=True)
    assert authenticated(api_client, token.secret, "Token").get("/auth/account/").status_code == 200
    with override_settings(STEPUP=BEARER):
        assert (
            authenticated(api_client, token.secret, "Token").get("/auth/account/").status_code
            == 401
        )
    assert authenticated(api_client, token.secret, "Token").get("/auth/account/").status_code == 200
