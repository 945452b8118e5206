"""django_stepup.revocation: revoking login tokens and purging expired ones."""

from datetime import timedelta

from django.utils import timezone

from django_stepup.models import Token
from django_stepup.revocation import keep_token, purge_expired_login_tokens, revoke_login_tokens
from tests.factories import TokenFactory


def remaining(user):
    return set(Token.objects.filter(user=user).values_list("pk", flat=True))


def test_revokes_login_tokens_only(user):
    login = TokenFactory(user=user, login=True)
    promoted = TokenFactory(user=user, promoted=True)
    api = TokenFactory(user=user)
    other_users = TokenFactory(login=True)
    revoked = revoke_login_tokens(user, reason="test")
    assert set(revoked) == {login.pk, promoted.pk}
    assert remaining(user) == {api.pk}
    assert Token.objects.filter(pk=other_users.pk).exists()


def test_keep_spares_one_token(user):
    login = TokenFactory(user=user, login=True)
    current = TokenFactory(user=user, promoted=True)
    revoke_login_tokens(user, keep=current, reason="test")
    assert remaining(user) == {current.pk}
    assert not Token.objects.filter(pk=login.pk).exists()


def test_keep_token_context_spares_a_token_inside_the_block_only(user):
    current = TokenFactory(user=user, login=True)
    with keep_token(current):
        TokenFactory(user=user, login=True)
        revoke_login_tokens(user, reason="test")
        assert remaining(user) == {current.pk}
    revoke_login_tokens(user, reason="test")
    assert remaining(user) == set()


def test_nothing_to_revoke_returns_nothing(user):
    assert revoke_login_tokens(user, reason="test") == []


def test_purge_deletes_expired_login_tokens(user):
    now = timezone.now()
    old = now - timedelta(days=2)
    expired = TokenFactory(user=user, login=True, created=old, max_age=timedelta(days=1))
    idle = TokenFactory(user=user, promoted=True, last_used=old, max_unused_period=timedelta(1))
    fresh = TokenFactory(user=user, login=True, max_age=timedelta(days=1))
    unlimited = TokenFactory(user=user, login=True, created=old)
    api = TokenFactory(user=user, created=old, max_age=timedelta(days=1))
    assert set(purge_expired_login_tokens(user, now)) == {expired.pk, idle.pk}
    assert remaining(user) == {fresh.pk, unlimited.pk, api.pk}
