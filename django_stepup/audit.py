"""The audit log: receivers of the public signals, connected in :meth:`StepUpConfig.ready`.

Every event gives exactly one log record on the ``django_stepup.audit`` logger
(``WARNING`` for failures, else ``INFO``), whatever the settings say, and one
:class:`~django_stepup.models.AuditEvent` row while :setting:`AUDIT_LOG` is on.
The record carries ``event``, ``user_id``, ``token_id``, ``ip_address``, ``outcome``
(``"failure"`` for the warning events, else ``"success"``) and ``details`` as ``extra``
fields for structured handlers; its message renders the
details with ``repr``, so a name holding a newline, a carriage return or an ANSI
escape stays escaped on one line. Neither the record nor the row ever holds a
secret, a code, a password, nor the email of a failed login that matched no user
(only a keyed hash of it).

The row is written in the caller's transaction: if a project wraps requests in
one (``ATOMIC_REQUESTS``) and the request fails, the row rolls back with it,
while the log record stays.

Internal: may change without notice.
"""

import logging

from django.contrib.auth import get_user_model
from django.utils.crypto import salted_hmac

from .conf import stepup_settings
from .models import AuditEvent
from .subnets import normalise_address

logger = logging.getLogger("django_stepup.audit")

Event = AuditEvent.Event
WARNING_EVENTS = frozenset({Event.LOGIN_FAILED, Event.STEP_UP_FAILED, Event.SIGN_COUNT_REGRESSED})
EMAIL_HMAC_SALT = "django_stepup.audit.login_failed"


def client_address(request):
    """The normalised ``REMOTE_ADDR`` of ``request`` as a string, or None."""
    if request is None:
        return None
    address = normalise_address(request.META.get("REMOTE_ADDR"))
    return None if address is None else str(address)


def email_hmac(identifier):
    """A keyed hash of a login identifier: attempts on one unknown account can be correlated."""
    return salted_hmac(EMAIL_HMAC_SALT, identifier.strip().lower(), algorithm="sha256").hexdigest()


def describe(details):
    """``details`` as ``key=value`` pairs, every value in ``repr`` form (escaped, one line)."""
    return " ".join(f"{key}={value!r}" for key, value in details.items())


def record(event, *, user=None, token_id=None, request=None, details=None):
    """Log ``event`` once and, if :setting:`AUDIT_LOG` is on, store it; return the row or None."""
    event = Event(event)
    details = dict(details or {})
    actor_id = _actor_id(request, user)
    if actor_id is not None:
        details["actor_id"] = actor_id
    user_id = None if user is None else user.pk
    token_id = None if token_id is None else str(token_id)
    ip_address = client_address(request)
    failed = event in WARNING_EVENTS
    logger.log(
        logging.WARNING if failed else logging.INFO,
        "%s user=%s token=%s ip=%s %s",
        event.value,
        user_id,
        token_id,
        ip_address,
        describe(details),
        extra={
            "event": event.value,
            "user_id": user_id,
            "token_id": token_id,
            "ip_address": ip_address,
            "outcome": "failure" if failed else "success",
            "details": details,
        },
    )
    if not stepup_settings.AUDIT_LOG:
        return None
    return AuditEvent.objects.create(
        event=event,
        user=user,
        token_id=token_id,
        ip_address=ip_address,
        details=details,
    )


def _actor_id(request, user):
    """The id of the authenticated user acting on someone else's account (the admin), or None."""
    actor = getattr(request, "user", None)
    if actor is None or not actor.is_authenticated:
        return None
    if user is not None and actor.pk == user.pk:
        return None
    return actor.pk


def _factor_details(factor):
    if factor is None:
        return {}
    return {"factor_id": factor.pk, "factor_name": factor.name}


def _user_by_login(identifier):
    user_model = get_user_model()
    try:
        return user_model._default_manager.get_by_natural_key(identifier)
    except user_model.DoesNotExist:
        return None


# -- receivers, one per signal -------------------------------------------------------------


def record_login_succeeded(sender, user, token, request=None, **kwargs):
    record(
        Event.LOGIN_SUCCEEDED,
        user=user,
        token_id=token.pk,
        request=request,
        details={"mfa": token.mfa, **({"mfa_method": token.mfa_method} if token.mfa else {})},
    )


def record_login_failed(sender, identifier, request=None, **kwargs):
    user = _user_by_login(identifier)
    details = {} if user is not None else {"email_hmac": email_hmac(identifier)}
    record(Event.LOGIN_FAILED, user=user, request=request, details=details)


def record_step_up_succeeded(sender, user, token, factor, request=None, method=None, **kwargs):
    details = _factor_details(factor) if factor is not None else {"recovery_code": True}
    if method is not None:
        details["method"] = method
    record(
        Event.STEP_UP_SUCCEEDED,
        user=user,
        token_id=None if token is None else token.pk,
        request=request,
        details=details,
    )


def record_step_up_failed(
    sender, user, token, factor, failure_count, request=None, method=None, **kwargs
):
    details = {**_factor_details(factor), "failure_count": failure_count}
    if method is not None:
        details["method"] = method
    record(
        Event.STEP_UP_FAILED,
        user=user,
        token_id=None if token is None else token.pk,
        request=request,
        details=details,
    )


def record_sign_count_regressed(
    sender, user, factor, sign_count, stored_sign_count, request=None, **kwargs
):
    record(
        Event.SIGN_COUNT_REGRESSED,
        user=user,
        request=request,
        details={
            **_factor_details(factor),
            "sign_count": sign_count,
            "stored_sign_count": stored_sign_count,
        },
    )


def record_factor_activated(sender, user, factor, request=None, **kwargs):
    record(Event.FACTOR_ACTIVATED, user=user, request=request, details=_factor_details(factor))


def record_factor_removed(sender, user, factor, mfa_enabled, request=None, **kwargs):
    record(
        Event.FACTOR_REMOVED,
        user=user,
        request=request,
        details={**_factor_details(factor), "mfa_enabled": mfa_enabled},
    )


def record_recovery_codes_generated(sender, user, count, request=None, **kwargs):
    record(Event.RECOVERY_CODES_GENERATED, user=user, request=request, details={"count": count})


def record_token_created(sender, user, token, request=None, **kwargs):
    record(
        Event.TOKEN_CREATED,
        user=user,
        token_id=token.pk,
        request=request,
        details={"token_name": token.name, "kind": token.kind, "perms": list(token.perms)},
    )


def record_tokens_revoked(sender, user, tokens, reason, request=None, **kwargs):
    ids = [str(token_id) for token_id in tokens]
    record(
        Event.TOKENS_REVOKED,
        user=user,
        token_id=ids[0] if len(ids) == 1 else None,
        request=request,
        details={"reason": reason, "count": len(ids), "tokens": ids},
    )


def record_token_changed(sender, user, token, fields, request=None, **kwargs):
    record(
        Event.TOKEN_CHANGED,
        user=user,
        token_id=token.pk,
        request=request,
        details={"token_name": token.name, "fields": list(fields)},
    )


def record_token_used_from_new_network(
    sender, user, token, network, ip_address, request=None, **kwargs
):
    record(
        Event.TOKEN_USED_FROM_NEW_NETWORK,
        user=user,
        token_id=token.pk,
        request=request,
        details={"token_name": token.name, "network": network, "address": ip_address},
    )


def record_token_reported_leaked(sender, user, token, url, source, request=None, **kwargs):
    record(
        Event.TOKEN_REPORTED_LEAKED,
        user=user,
        token_id=token.pk,
        request=request,
        details={"token_name": token.name, "url": url, "source": source},
    )
