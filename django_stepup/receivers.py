"""Default receivers of django_stepup's signals, connected in ``AppConfig.ready``."""

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from .conf import stepup_settings


def _email_of(user):
    return getattr(user, get_user_model().get_email_field_name(), None)


def notify_token_created(sender, *, user, token, request=None, **kwargs):
    """Tell the account's address that a new API token exists (never the secret)."""
    if not stepup_settings.NOTIFY_BY_EMAIL or token.mfa is not None:
        return
    address = _email_of(user)
    if not address:
        return
    send_mail(
        subject=_("A new API token was created"),
        message=_(
            "A new API token named %(name)r was created for your account. "
            "If this was not you, delete the token and change your password."
        )
        % {"name": token.name},
        from_email=None,
        recipient_list=[address],
    )
