"""Default receivers, connected in :meth:`StepUpConfig.ready`.

- A password change revokes the user's login tokens (see :mod:`django_stepup.revocation`).
- Factor activated or removed, recovery codes generated and API token created
  email the user through Django's mail framework, unless ``NOTIFY_BY_EMAIL`` is
  False. The mails name the event, never a secret or a code.

Internal: may change without notice.
"""

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .conf import stepup_settings
from .revocation import revoke_login_tokens

_PASSWORD_CHANGED = "_stepup_password_changed"


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


def notify(user, event, **context):
    """Email ``user`` about ``event`` using ``django_stepup/email/<event>_{subject,body}.txt``."""
    if not stepup_settings.NOTIFY_BY_EMAIL:
        return
    address = getattr(user, get_user_model().get_email_field_name(), None)
    if not address:
        return
    context["user"] = user
    subject = render_to_string(f"django_stepup/email/{event}_subject.txt", context)
    body = render_to_string(f"django_stepup/email/{event}_body.txt", context)
    send_mail(" ".join(subject.split()), body, None, [address])


def notify_factor_activated(sender, user, factor, **kwargs):
    notify(user, "factor_activated", factor=factor)


def notify_factor_removed(sender, user, factor, mfa_enabled, **kwargs):
    notify(user, "factor_removed", factor=factor, mfa_enabled=mfa_enabled)


def notify_recovery_codes_generated(sender, user, count, **kwargs):
    notify(user, "recovery_codes_generated", count=count)


def notify_token_created(sender, user, token, **kwargs):
    if token.mfa is None:
        notify(user, "token_created", token=token)
