"""Writing token policies with their invariants, each write under a lock on the token row.

The invariants, per token and scope: the first policy is the default (every
dimension null); one policy per combination (a unique constraint on the
combination digest, so two parallel defaults cannot both land); the default
cannot be deleted or narrowed while other policies remain; ``auto_policy`` needs
a restrictive default. Violations are a 400 (a rule) or a 409 (a duplicate or a
cap), never a 500 and never half-written.

Internal: may change without notice.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError

from .conf import stepup_settings
from .exceptions import Conflict
from .policies import combination_digest, forget_policies, get_scopes

FIRST_MUST_BE_DEFAULT = _(
    "The first policy of a token must be the default policy (every dimension null)."
)
DEFAULT_MUST_STAY = _(
    "The default policy can't be removed or narrowed while the token has other policies."
)
DUPLICATE = _("This token already has a policy for this combination.")
API_TOKENS_ONLY = _(
    "Policies apply to API tokens; login tokens are governed by the account's second factor."
)
TOO_MANY = _("This token has reached the maximum number of policies.")
AUTO_POLICY_NEEDS_RESTRICTIVE_DEFAULT = _(
    "auto_policy needs a restrictive default policy (perm_write false)."
)


def lock_token(token):
    """Re-read ``token`` with ``SELECT … FOR UPDATE``; call inside ``transaction.atomic``.

    A token deleted meanwhile (a revocation holds its lock until it commits) is a 404.
    """
    from .models import Token

    try:
        return Token.objects.select_for_update().get(pk=token.pk)
    except Token.DoesNotExist:
        raise NotFound() from None


def _is_default(values):
    return all(value is None for value in values.values())


def _check_auto_policy(token, values, perm_write):
    if token.auto_policy and _is_default(values) and perm_write:
        raise ValidationError({"perm_write": [AUTO_POLICY_NEEDS_RESTRICTIVE_DEFAULT]})


def _save(policy, **kwargs):
    try:
        with transaction.atomic():
            policy.save(**kwargs)
    except IntegrityError:
        raise Conflict(DUPLICATE) from None


def create_policy(token, scope, values, *, perm_write=False, perm_read=True):
    from .models import TokenPolicy

    with transaction.atomic():
        locked = lock_token(token)
        if locked.mfa is not None:
            raise ValidationError({"non_field_errors": [API_TOKENS_ONLY]})
        existing = list(TokenPolicy.objects.filter(token=locked, scope=scope.name))
        if len(existing) >= stepup_settings.MAX_POLICIES_PER_TOKEN:
            raise Conflict(TOO_MANY, code="limit_exceeded")
        if not existing and not _is_default(values):
            raise ValidationError({"non_field_errors": [FIRST_MUST_BE_DEFAULT]})
        if any(policy.values == values for policy in existing):
            raise Conflict(DUPLICATE)
        _check_auto_policy(locked, values, perm_write)
        policy = TokenPolicy(
            token=locked,
            scope=scope.name,
            values=values,
            perm_read=perm_read,
            perm_write=perm_write,
        )
        _save(policy, force_insert=True)
    forget_policies(token)
    return policy


def update_policy(policy, scope, values, *, perm_write, perm_read):
    from .models import TokenPolicy

    with transaction.atomic():
        locked = lock_token(policy.token)
        others = TokenPolicy.objects.filter(token=locked, scope=scope.name).exclude(pk=policy.pk)
        has_others = others.exists()
        if policy.is_default and not _is_default(values):
            raise ValidationError(
                {"non_field_errors": [DEFAULT_MUST_STAY if has_others else FIRST_MUST_BE_DEFAULT]}
            )
        if has_others and others.filter(combination=combination_digest(values)).exists():
            raise Conflict(DUPLICATE)
        _check_auto_policy(locked, values, perm_write)
        policy.values = values
        policy.perm_write = perm_write
        policy.perm_read = perm_read
        _save(policy, update_fields=["values", "perm_write", "perm_read"])
    forget_policies(policy.token)
    return policy


def delete_policy(policy):
    from .models import TokenPolicy

    with transaction.atomic():
        locked = lock_token(policy.token)
        if (
            policy.is_default
            and TokenPolicy.objects.filter(token=locked, scope=policy.scope)
            .exclude(pk=policy.pk)
            .exists()
        ):
            raise ValidationError({"non_field_errors": [DEFAULT_MUST_STAY]})
        policy.delete()
    forget_policies(policy.token)


def ensure_restrictive_defaults(locked_token):
    """For ``auto_policy``: every declared scope gets a default with ``perm_write`` false.

    Call with the token row locked. An existing permissive default is a 400.
    """
    from .models import TokenPolicy

    for scope in get_scopes().values():
        values = scope.default_values
        default = TokenPolicy.objects.filter(
            token=locked_token, scope=scope.name, combination=combination_digest(values)
        ).first()
        if default is None:
            _save(TokenPolicy(token=locked_token, scope=scope.name, values=values))
        elif default.perm_write:
            raise ValidationError({"auto_policy": [AUTO_POLICY_NEEDS_RESTRICTIVE_DEFAULT]})
    forget_policies(locked_token)


def grant_auto_policy(token, scope, obj):
    """After ``token`` created ``obj`` (e.g. a domain): if the token has ``auto_policy``, give
    it a permissive policy fixing the dimensions ``obj`` determines, the rest null.

    ``obj`` is read through each :class:`~django_stepup.policies.ModelDimension` of the
    scope bound to ``type(obj)``. Returns the new policy, or None.
    """
    from .models import TokenPolicy

    if not token.auto_policy:
        return None
    values = scope.default_values
    for dimension in scope.dimensions:
        if getattr(dimension, "model", None) is type(obj):
            values[dimension.name] = dimension.value_of_target(obj)
    with transaction.atomic():
        locked = lock_token(token)
        ensure_restrictive_defaults(locked)
        policy, _created = TokenPolicy.objects.get_or_create(
            token=locked,
            scope=scope.name,
            combination=combination_digest(values),
            defaults={"values": values, "perm_write": True},
        )
    forget_policies(token)
    return policy
