"""DRF permission classes for step-up tokens.

``request.auth`` is a :class:`~django_stepup.models.Token` when
:class:`~django_stepup.authentication.StepUpTokenAuthentication` authenticated
the request. Anything else (a session, another authenticator, anonymous) is
denied by every class here: no token is never an API token. ``mfa`` is
tri-state, so every check compares with ``None`` explicitly.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from .conf import stepup_settings
from .exceptions import StepUpRequired

_NO_TOKEN = object()


def _token_mfa(request):
    """The token's ``mfa`` value, or ``_NO_TOKEN`` when the request has no step-up token."""
    token = getattr(request, "auth", None)
    if token is None or not hasattr(token, "mfa") or not hasattr(token, "digest"):
        return _NO_TOKEN
    return token.mfa


def _user_has_mfa(user):
    from .models import mfa_enabled

    return mfa_enabled(user)


class IsLoginToken(BasePermission):
    """The request carries a login token (promoted or not)."""

    message = _("This endpoint needs a login token.")

    def has_permission(self, request, view):
        mfa = _token_mfa(request)
        return mfa is not _NO_TOKEN and mfa is not None


class IsAPIToken(BasePermission):
    """The request carries a non-interactive API token."""

    message = _("This endpoint needs an API token.")

    def has_permission(self, request, view):
        return _token_mfa(request) is None


class MFARequiredIfEnabled(BasePermission):
    """Login tokens of users with MFA must be promoted; API tokens pass (MFA never applies)."""

    def has_permission(self, request, view):
        mfa = _token_mfa(request)
        if mfa is _NO_TOKEN:
            return False
        if mfa is None or mfa is True:
            return True
        if _user_has_mfa(request.user):
            raise StepUpRequired()
        return True


class RecentMFA(BasePermission):
    """Like :class:`MFARequiredIfEnabled`, and the promotion must be no older than ``max_age``.

    ``max_age`` comes from, in order: :meth:`with_max_age`, the view's
    ``recent_mfa_max_age`` attribute (seconds or timedelta), the
    ``RECENT_MFA_MAX_AGE`` setting.
    """

    max_age = None

    @classmethod
    def with_max_age(cls, seconds):
        return type(f"RecentMFA{int(seconds)}", (cls,), {"max_age": timedelta(seconds=seconds)})

    def get_max_age(self, view):
        max_age = self.max_age or getattr(view, "recent_mfa_max_age", None)
        if max_age is None:
            max_age = stepup_settings.RECENT_MFA_MAX_AGE
        if not isinstance(max_age, timedelta):
            max_age = timedelta(seconds=max_age)
        return max_age

    def has_permission(self, request, view):
        mfa = _token_mfa(request)
        if mfa is _NO_TOKEN:
            return False
        if mfa is None or not _user_has_mfa(request.user):
            return True
        max_age = self.get_max_age(view)
        mfa_at = request.auth.mfa_at
        if mfa is True and mfa_at is not None and timezone.now() - mfa_at <= max_age:
            return True
        raise StepUpRequired(
            _("This action needs a second factor verified in the last %(seconds)d seconds.")
            % {"seconds": max_age.total_seconds()},
            max_age=max_age.total_seconds(),
        )
