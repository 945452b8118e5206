"""Ending login tokens: on credential changes, and expired ones on login.

A password change (detected by :mod:`django_stepup.receivers` whenever the
user row is saved with a new password hash) or the removal of an active factor
deletes the user's login tokens. API tokens are not touched: they carry no
password-derived authority and are governed by their flags and policies.

Host projects that change credentials in ways Django does not see (an external
directory, raw SQL, ``QuerySet.update(password=...)``) call
:func:`revoke_login_tokens` themselves. A view that changes the password with
a login token and should keep that token wraps the save in
:func:`keep_token`.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

from . import signals

_kept_token_id = ContextVar("django_stepup_kept_token_id", default=None)


def revoke_login_tokens(user, *, keep=None, reason, request=None):
    """Delete every login token of ``user`` except ``keep``; return the deleted ids.

    Sends :data:`~django_stepup.signals.tokens_revoked` when anything was deleted.
    """
    from .models import Token

    keep_id = keep.pk if keep is not None else _kept_token_id.get()
    tokens = Token.objects.login_tokens().filter(user=user)
    if keep_id is not None:
        tokens = tokens.exclude(pk=keep_id)
    ids = list(tokens.values_list("pk", flat=True))
    if ids:
        Token.objects.filter(pk__in=ids).delete()
        signals.tokens_revoked.send(
            sender=Token, user=user, tokens=ids, reason=reason, request=request
        )
    return ids


@contextmanager
def keep_token(token):
    """Spare ``token`` from revocations inside the block (e.g. the token changing the password)."""
    reset = _kept_token_id.set(token.pk)
    try:
        yield
    finally:
        _kept_token_id.reset(reset)


def purge_expired_login_tokens(user, now=None):
    """Delete the user's expired login tokens (called on login, so they do not pile up)."""
    from .models import Token

    now = now or timezone.now()
    candidates = (
        Token.objects.login_tokens()
        .filter(user=user)
        .only("id", "created", "last_used", "max_age", "max_unused_period")
    )
    expired = [token.pk for token in candidates if token.is_expired(now)]
    if expired:
        Token.objects.filter(pk__in=expired).delete()
    return expired
