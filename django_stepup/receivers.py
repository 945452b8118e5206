"""Default receivers, connected in :meth:`StepUpConfig.ready`.

- A password change revokes the user's login tokens (see :mod:`django_stepup.revocation`).
- Factor activated or removed, recovery codes generated, API token created, a
  token used from a new network, a token about to expire and a token reported leaked
  email the user through Django's mail framework, unless ``NOTIFY_BY_EMAIL`` is
  False. The mails name the event, never a secret or a code.

A mail is sent once the transaction that made the change commits (at once
outside a transaction) and never fails the request: if rendering or sending
fails, one error is logged on the ``django_stepup.notifications`` logger (the
event and the user id, no address and no content) and nothing is raised.
Names the user chose (a token's, a factor's) reach the templates through
:func:`one_line`, so they cannot add lines or headers to a mail.

Internal: may change without notice.
"""

import logging
import unicodedata

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from .conf import stepup_settings
from .revocation import revoke_login_tokens

_PASSWORD_CHANGED = "_stepup_password_changed"

logger = logging.getLogger("django_stepup.notifications")


def remember_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    """pre_save: note whether the stored password hash is about to change (one query)."""
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    # Django's hash upgrade on login (check_password's setter) is no password change.
    if getattr(instance, "_password", None) is None and update_fields == frozenset({"password"}):
        return
    stored = sender._base_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        setattr(instance, _PASSWORD_CHANGED, True)


def revoke_on_password_change(sender, instance, raw=False, **kwargs):
    """post_save: revoke the login tokens once the new password is stored."""
    if raw or not instance.__dict__.pop(_PASSWORD_CHANGED, False):
        return
    revoke_login_tokens(instance, reason="password_changed")


#: Unicode categories escaped by :func:`one_line`: controls, formats (bidirectional
#: overrides, zero-width characters), surrogates, private use, unassigned, line separators.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def one_line(value):
    """``value`` as text on one line: every control, format or line-separator character
    (newline, carriage return, tab, escape, bidirectional override...) in escaped form."""
    return "".join(
        character.encode("unicode_escape").decode("ascii")
        if unicodedata.category(character) in UNPRINTABLE_CATEGORIES
        else character
        for character in str(value)
    )


def notify(user, event, **context):
    """Email ``user`` about ``event`` after commit, using the templates
    ``django_stepup/email/<event>_{subject,body}.txt``; a failure is logged, never raised.
    """
    if not stepup_settings.NOTIFY_BY_EMAIL:
        return
    address = getattr(user, get_user_model().get_email_field_name(), None)
    if not address:
        return
    context["user"] = user
    context["username"] = one_line(user.get_username())
    transaction.on_commit(lambda: _send(user.pk, address, event, context))


def _send(user_id, address, event, context):
    try:
        subject = render_to_string(f"django_stepup/email/{event}_subject.txt", context)
        body = render_to_string(f"django_stepup/email/{event}_body.txt", context)
        send_mail(one_line(" ".join(subject.split())), body, None, [address])
    except Exception:
        logger.exception("Could not send the %s notification to user %s.", event, user_id)


def notify_factor_activated(sender, user, factor, **kwargs):
    notify(user, "factor_activated", factor=factor, factor_name=one_line(factor.name))


def notify_factor_removed(sender, user, factor, mfa_enabled, **kwargs):
    notify(
        user,
        "factor_removed",
        factor=factor,
        factor_name=one_line(factor.name),
        mfa_enabled=mfa_enabled,
    )


def notify_recovery_codes_generated(sender, user, count, **kwargs):
    notify(user, "recovery_codes_generated", count=count)


def notify_token_created(sender, user, token, **kwargs):
    if token.mfa is None:
        notify(user, "token_created", token=token, token_name=one_line(token.name))


def notify_token_used_from_new_network(sender, user, token, network, ip_address, **kwargs):
    notify(
        user,
        "token_used_from_new_network",
        token=token,
        token_name=one_line(token.name),
        network=network,
        ip_address=ip_address,
    )


def notify_token_reported_leaked(sender, user, token, url, source, **kwargs):
    notify(
        user,
        "token_reported_leaked",
        token=token,
        token_name=one_line(token.name),
        url=one_line(url),
        source=one_line(source),
    )


def notify_token_expiring(sender, user, token, expires_at, **kwargs):
    notify(
        user, "token_expiring", token=token, token_name=one_line(token.name), expires_at=expires_at
    )
