"""Site-wide caps on API tokens' lifetimes: the API, the admin, the system checks."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_stepup.lifetimes import check_api_token_lifetimes, check_caps
from django_stepup.models import Token
from django_stepup.token_store import issue_token
from tests.factories import TokenFactory, UserFactory
from tests.utils import authenticated

LIST = "/auth/tokens/"
CAPPED = {
    "API_TOKEN_MAX_AGE": timedelta(days=30),
    "API_TOKEN_MAX_UNUSED_PERIOD": timedelta(days=7),
}


def stepup(**extra):
    from django.conf import settings

    return override_settings(STEPUP={**settings.STEPUP, **extra})


@pytest.fixture
def capped():
    with stepup(**CAPPED):
        yield


@pytest.fixture
def owner_client(api_client, user):
    return authenticated(api_client, TokenFactory(user=user, login=True).secret)


@pytest.mark.django_db
class TestAPI:
    def test_omitted_lifetimes_get_the_caps(self, capped, owner_client):
        response = owner_client.post(LIST, {"name": "ci"}, format="json")
        assert response.status_code == 201
        assert response.json()["max_age"] == "30 00:00:00"
        assert response.json()["max_unused_period"] == "7 00:00:00"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("max_age", None),
            ("max_age", "31 00:00:00"),
            ("max_unused_period", None),
            ("max_unused_period", "8 00:00:00"),
        ],
    )
    def test_a_longer_or_absent_lifetime_is_400_naming_the_field(
        self, capped, owner_client, field, value
    ):
        before = Token.objects.count()
        response = owner_client.post(LIST, {"name": "ci", field: value}, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {field}
        assert "at most" in response.json()[field][0]
        assert Token.objects.count() == before

    def test_within_the_caps_is_accepted(self, capped, owner_client):
        body = {"max_age": "1 00:00:00", "max_unused_period": "1:00:00"}
        assert owner_client.post(LIST, body, format="json").status_code == 201

    def test_changing_an_api_token_beyond_a_cap_is_400(self, capped, owner_client, user):
        token = TokenFactory(user=user, max_age=timedelta(days=1))
        response = owner_client.patch(
            f"{LIST}{token.pk}/", {"max_age": "90 00:00:00"}, format="json"
        )
        assert response.status_code == 400 and set(response.json()) == {"max_age"}
        token.refresh_from_db()
        assert token.max_age == timedelta(days=1)
        # A change of other fields leaves an old lifetime alone.
        response = owner_client.patch(f"{LIST}{token.pk}/", {"name": "x"}, format="json")
        assert response.status_code == 200

    def test_an_api_token_with_a_lifetime_may_create_one_under_the_caps(self, capped, api_client):
        acting = TokenFactory(
            perms=["manage_tokens"],
            max_age=timedelta(days=60),
            max_unused_period=timedelta(days=10),
        )
        client = authenticated(api_client, acting.secret)
        response = client.post(LIST, {"name": "child"}, format="json")
        assert response.status_code == 201
        assert response.json()["max_age"] == "30 00:00:00"

    def test_no_caps_by_default(self, owner_client):
        response = owner_client.post(LIST, {"max_age": None}, format="json")
        assert response.status_code == 201
        assert response.json()["max_age"] is None

    def test_login_tokens_keep_their_own_lifetimes(self, capped, api_client, user):
        from tests.utils import login_body

        with stepup(**CAPPED, LOGIN_TOKEN_MAX_AGE=timedelta(days=60)):
            response = api_client.post("/auth/login/", login_body(user), format="json")
        assert response.status_code == 200
        assert response.json()["max_age"] == "60 00:00:00"


@pytest.mark.django_db
def test_issue_token_refuses_and_stores_nothing(capped, user):
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        issue_token(user, max_age=timedelta(days=365))
    assert set(raised.value.detail) == {"max_age"}
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_the_admin_refuses_a_lifetime_beyond_the_cap(client, capped):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    owner = UserFactory()
    data = {"user": owner.pk, "name": "k", "allowed_subnets": '["0.0.0.0/0"]'}
    response = client.post("/admin/django_stepup/token/add/", data)
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"max_age", "max_unused_period"}
    assert not Token.objects.filter(user=owner).exists()
    data |= {"max_age": "30 00:00:00", "max_unused_period": "1 00:00:00"}
    response = client.post("/admin/django_stepup/token/add/", data)
    assert Token.objects.filter(user=owner).get().max_age == timedelta(days=30)


class TestChecks:
    def test_deploy_warns_when_api_tokens_may_live_forever(self):
        assert [m.id for m in check_api_token_lifetimes()] == ["django_stepup.W040"]
        with stepup(API_TOKEN_MAX_UNUSED_PERIOD=timedelta(days=90)):
            assert check_api_token_lifetimes() == []

    @pytest.mark.parametrize("value", [timedelta(0), "30 days", 30])
    def test_a_bad_cap_is_an_error(self, value):
        with stepup(API_TOKEN_MAX_AGE=value):
            assert [m.id for m in check_caps()] == ["django_stepup.E040"]

    @pytest.mark.django_db
    def test_existing_tokens_above_a_new_cap_are_counted(self):
        TokenFactory(max_age=timedelta(days=365))
        TokenFactory(max_age=None)
        TokenFactory(max_age=timedelta(days=1))
        TokenFactory(login=True, max_age=None)
        with stepup(API_TOKEN_MAX_AGE=timedelta(days=30)):
            [warning] = check_caps(databases=["default"])
            assert check_caps() == []
        assert warning.id == "django_stepup.W041"
        assert warning.msg.startswith("2 existing API token(s)")

    @pytest.mark.django_db
    def test_check_command_with_a_database_shows_it(self, capsys):
        TokenFactory(max_unused_period=None)
        with stepup(API_TOKEN_MAX_UNUSED_PERIOD=timedelta(days=7)):
            call_command("check", "--database", "default")
        assert "django_stepup.W041" in capsys.readouterr().err
