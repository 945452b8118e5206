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

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction

from . import signals

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import QuerySet
    from django.http import HttpRequest

    from .models import Token

__all__ = ["keep_token", "purge_expired_login_tokens", "revoke_login_tokens", "revoke_tokens"]

_kept_token_id: ContextVar[UUID | None] = ContextVar("django_stepup_kept_token_id", default=None)


def revoke_tokens(
    tokens: QuerySet[Token],
    *,
    reason: str,
    request: HttpRequest | None = None,
    user: AbstractBaseUser | None = None,
) -> list[UUID]:
    """Delete ``tokens`` (a ``Token`` queryset); return the deleted ids.

    The one way tokens are deleted (API, logout, admin, credential changes): in one
    transaction it locks the token rows (``SELECT … FOR UPDATE``, so a concurrent
    policy write waits and then finds no token), deletes them with their policies and
    sends :data:`~django_stepup.signals.tokens_revoked` once per owner, so the audit
    row commits with the deletion. Pass ``user`` when every token is known to be that
    user's, which saves loading the owners.
    """
    from .models import Token

    with transaction.atomic():
        ids_by_owner: defaultdict[Any, list[UUID]] = defaultdict(list)
        locked = Token.objects.filter(pk__in=tokens.values("pk")).order_by("pk")
        for pk, owner_id in locked.select_for_update().values_list("pk", "user_id"):
            ids_by_owner[owner_id].append(pk)
        ids = [pk for owner_ids in ids_by_owner.values() for pk in owner_ids]
        if not ids:
            return ids
        Token.objects.filter(pk__in=ids).delete()
        owners: Mapping[Any, AbstractBaseUser]
        if user is not None:
            owners = {user.pk: user}
        else:
            owners = get_user_model()._default_manager.in_bulk(list(ids_by_owner))
        for owner_id, owner_ids in ids_by_owner.items():
            signals.tokens_revoked.send(
                sender=Token,
                user=owners[owner_id],
                tokens=owner_ids,
                reason=reason,
                request=request,
            )
    return ids


def revoke_login_tokens(
    user: AbstractBaseUser,
    *,
    keep: Token | None = None,
    reason: str,
    request: HttpRequest | None = None,
) -> list[UUID]:
    """Delete every login token of ``user`` except ``keep``; return the deleted ids."""
    from .models import Token

    keep_id = keep.pk if keep is not None else _kept_token_id.get()
    tokens = Token.objects.login_tokens().filter(user=user)
    if keep_id is not None:
        tokens = tokens.exclude(pk=keep_id)
    return revoke_tokens(tokens, reason=reason, request=request, user=user)


@contextmanager
def keep_token(token: Token) -> Iterator[None]:
    """Spare ``token`` from revocations inside the block (e.g. the token changing the password)."""
    reset = _kept_token_id.set(token.pk)
    try:
        yield
    finally:
        _kept_token_id.reset(reset)


def purge_expired_login_tokens(user: AbstractBaseUser, now: datetime | None = None) -> list[UUID]:
    """Delete the user's expired login tokens (called on login, so they do not pile up)."""
    from .models import Token

    expired = list(
        Token.objects.login_tokens().filter(user=user).expired(now).values_list("pk", flat=True)
    )
    if expired:
        Token.objects.filter(pk__in=expired).delete()
    return expired
