from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from django_stepup import tokens
from django_stepup.models import MFAState, Token, mfa_enabled
from tests.factories import TokenFactory, UserFactory


def test_create_token_returns_secret_once_and_stores_digest(user):
    token, secret = Token.objects.create_token(user, name="ci")
    assert tokens.parse_secret(secret) == secret
    stored = Token.objects.get(pk=token.pk)
    assert stored.digest == tokens.digest(secret)
    assert secret not in {str(getattr(stored, f.attname)) for f in Token._meta.fields}
    assert not hasattr(stored, "secret")


def test_defaults_make_an_api_token(user):
    token, _ = Token.objects.create_token(user)
    assert token.mfa is None
    assert token.kind == "api"
    assert token.perms == []
    assert token.allowed_subnets == ["0.0.0.0/0", "::/0"]
    assert token.max_age is None and token.max_unused_period is None


def test_str_and_repr_hold_no_secret(token):
    assert token.secret not in str(token) and token.secret not in repr(token)
    assert token.digest not in str(token) and token.digest not in repr(token)


@pytest.mark.parametrize(
    ("fields", "kind"), [({}, "api"), ({"login": True}, "login"), ({"promoted": True}, "promoted")]
)
def test_kind(db, fields, kind):
    assert TokenFactory(**fields).kind == kind


def test_login_tokens_hold_every_flag_api_tokens_only_theirs(db):
    assert TokenFactory(login=True).has_permission("manage_tokens")
    api = TokenFactory(perms=["create_domain"])
    assert api.has_permission("create_domain")
    assert not api.has_permission("manage_tokens")


def test_expires_at_is_the_earlier_limit(db):
    now = timezone.now()
    token = TokenFactory(
        created=now, max_age=timedelta(days=7), max_unused_period=timedelta(hours=1)
    )
    assert token.expires_at == now + timedelta(hours=1)
    token.last_used = now + timedelta(days=6, hours=23, minutes=30)
    assert token.expires_at == now + timedelta(days=7)
    assert TokenFactory().expires_at is None


def test_is_valid(db):
    now = timezone.now()
    assert TokenFactory().is_valid
    assert not TokenFactory(created=now - timedelta(hours=2), max_age=timedelta(hours=1)).is_valid
    inactive = TokenFactory(user=UserFactory(is_active=False))
    assert not inactive.is_valid


def test_querysets_split_login_and_api_tokens(db):
    api, login, promoted = TokenFactory(), TokenFactory(login=True), TokenFactory(promoted=True)
    assert set(Token.objects.api_tokens()) == {api}
    assert set(Token.objects.login_tokens()) == {login, promoted}


def test_mfa_enabled_reads_the_state_row(user):
    assert mfa_enabled(user) is False
    MFAState.objects.filter(user=user).update(enabled=True)
    user.refresh_from_db()
    assert mfa_enabled(user) is True


@pytest.mark.parametrize(
    "fields",
    [
        {"max_age": timedelta(seconds=-1)},
        {"max_unused_period": timedelta(seconds=-1)},
        {"mfa": False, "mfa_at": timezone.now()},
        {"mfa": None, "mfa_at": timezone.now()},
    ],
)
def test_database_constraints(user, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Token.objects.create(user=user, digest="x" * 64, **fields)


def test_digest_is_unique(user):
    Token.objects.create(user=user, digest="d" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        Token.objects.create(user=user, digest="d" * 64)


def test_deleting_the_user_deletes_tokens_and_state(user):
    TokenFactory(user=user)
    MFAState.objects.create(user=user, enabled=True)
    user.delete()
    assert not Token.objects.exists()
    assert not MFAState.objects.exists()


def test_expired_queryset_agrees_with_is_expired(db):
    now = timezone.now()
    hour = timedelta(hours=1)
    cases = [
        {},
        {"max_age": hour},
        {"created": now - 2 * hour, "max_age": hour},
        {"created": now - hour, "max_age": hour},
        {"created": now - 2 * hour, "max_unused_period": hour},
        {"created": now - 2 * hour, "max_unused_period": hour, "last_used": now - hour / 2},
        {"created": now - 3 * hour, "max_unused_period": hour, "last_used": now - 2 * hour},
        {"created": now - 2 * hour, "max_age": 3 * hour, "max_unused_period": hour},
    ]
    created = [TokenFactory(**fields) for fields in cases]
    expired = {t.pk for t in created if t.is_expired(now)}
    assert expired == {t.pk for t in Token.objects.expired(now)}
    assert {t.pk for t in created} - expired == {t.pk for t in Token.objects.unexpired(now)}
