"""Issuing API tokens: the one write path the API and the admin share.

:func:`issue_token` creates a token within ``MAX_TOKENS_PER_USER`` (checked
under a lock on the user's row, so parallel requests cannot overshoot), gives an
``auto_policy`` token its restrictive default policies and sends
:data:`~django_stepup.signals.token_created` in the same transaction, so the
audit row commits with the token. Deleting tokens is
:func:`django_stepup.revocation.revoke_tokens`; writing policies is
:mod:`django_stepup.policy_store`.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from . import lifetimes, policy_store, signals
from .conf import stepup_settings
from .exceptions import Conflict

TOO_MANY_TOKENS = _("This account has reached the maximum number of tokens.")


def check_token_capacity(user):
    """Lock ``user``'s row; raise :class:`~django_stepup.exceptions.Conflict` (409) when the
    user already has ``MAX_TOKENS_PER_USER`` tokens.

    Call inside ``transaction.atomic``: the lock lasts until it ends, so a check in a
    form's validation still holds when the admin saves the token.
    """
    from .models import Token

    get_user_model()._default_manager.select_for_update().filter(pk=user.pk).first()
    if Token.objects.filter(user=user).count() >= stepup_settings.MAX_TOKENS_PER_USER:
        raise Conflict(TOO_MANY_TOKENS, code="limit_exceeded")


def issue_token(user, *, request=None, **fields):
    """Create an API token of ``user`` with ``fields``; return ``(token, secret)``.

    ``fields`` are ``Token`` fields (``name``, ``max_age``, ``max_unused_period``,
    ``allowed_subnets``, ``perms``, ``auto_policy``, ``created``). Raises ``Conflict``
    at the cap, and a ``ValidationError`` if the auto policy cannot be set up or a
    lifetime breaks the site's caps (:mod:`~django_stepup.lifetimes`; a missing capped
    field gets the cap); then nothing is written.
    """
    from .models import Token

    fields = lifetimes.apply_caps(fields)
    errors = lifetimes.lifetime_errors(fields)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        check_token_capacity(user)
        token, secret = Token.objects.create_token(user, mfa=None, **fields)
        if token.auto_policy:
            policy_store.ensure_restrictive_defaults(token)
        signals.token_created.send(sender=Token, user=user, token=token, request=request)
    return token, secret
