from django_stepup.models import Token
from django_stepup.serializers import TokenSerializer
from tests.factories import TokenFactory
from tests.utils import TOKEN_FIELDS


def test_token_object_has_exactly_the_documented_fields(db):
    data = TokenSerializer(TokenFactory()).data
    assert set(data) == TOKEN_FIELDS


def test_secret_only_when_given_in_context(user):
    token, secret = Token.objects.create_token(user)
    assert TokenSerializer(token, context={"secret": secret}).data["token"] == secret
    assert "token" not in TokenSerializer(token).data


def test_flags_of_api_and_login_tokens(db):
    api = TokenSerializer(TokenFactory(perms=["create_domain"])).data
    assert (api["perm_manage_tokens"], api["perm_create_domain"], api["perm_delete_domain"]) == (
        False,
        True,
        False,
    )
    login = TokenSerializer(TokenFactory(login=True)).data
    assert (
        login["perm_manage_tokens"] and login["perm_create_domain"] and login["perm_delete_domain"]
    )


def test_owner_is_the_email_and_durations_are_drf_strings(user):
    from datetime import timedelta

    token = TokenFactory(user=user, max_age=timedelta(days=7), max_unused_period=timedelta(hours=1))
    data = TokenSerializer(token).data
    assert data["owner"] == user.email
    assert data["max_age"] == "7 00:00:00"
    assert data["max_unused_period"] == "01:00:00"
    assert data["mfa"] is None
