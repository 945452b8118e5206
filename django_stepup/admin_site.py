"""An admin site whose login is a login like the API's: throttled, second factor, one answer.

Use it in one line of the project's ``urls.py``, before ``admin.site.urls``::

    admin.site.__class__ = StepUpAdminSite

The login form takes the login name, the password and the code of a confirmed TOTP
factor in one step. Every attempt counts against the same per-account and
per-address budget as ``POST auth/login/`` (:func:`django_stepup.throttling.login_wait`,
the same cache keys), before the password is checked. Any wrong part (password, code,
a missing code, an account that is not staff) gets one message, so a guesser never
learns that a password was right. A session opened here is OTP-verified (django-otp's
``request.user.is_verified()``), as with django-otp's ``OTPAdminSite``, whose access
rule this site keeps: only verified staff enter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from django import forms
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from django_otp.admin import OTPAdminSite

from . import otp, signals, throttling
from .conf import stepup_settings

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import _User  # django-stubs: the AUTH_USER_MODEL class
    from django.http import HttpRequest
    from django_otp.plugins.otp_totp.models import TOTPDevice

__all__ = ["StepUpAdminAuthenticationForm", "StepUpAdminSite"]


class OneTimeCodeInput(forms.TextInput):
    """A text input that never echoes what was typed: a failed login shows an empty field."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "one-time-code", "inputmode": "numeric", **(attrs or {})})

    def format_value(self, value: Any) -> None:
        return None


class StepUpAdminAuthenticationForm(AdminAuthenticationForm):
    """Login name, password and code in one step, judged as a whole.

    Order: the throttle (``"throttled"``, counted before anything is checked, so its
    message tells nothing about the password); then the password, staff status and,
    for an account with a confirmed device, the code (all ``"invalid_login"``); only
    then, for staff with the right password and no confirmed device, ``"no_factor"``
    (unless :setting:`ADMIN_REQUIRE_MFA` is off). Each failure except the throttle
    sends :data:`~django_stepup.signals.login_failed`.
    """

    otp_token = forms.CharField(
        label=_("Code"),
        required=False,
        max_length=64,
        widget=OneTimeCodeInput,
        help_text=_("The 6-digit code of your authenticator app."),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct %(username)s, password and code for a staff account. "
            "Note that the fields may be case-sensitive."
        ),
        "throttled": _("Too many login attempts. Try again later."),
        # The throttle's cache is unreachable: login fails closed (THROTTLE_FAIL_OPEN).
        "unavailable": _("Login is temporarily unavailable. Try again later."),
        "no_factor": _(
            "This account has no confirmed second factor, which the admin requires. "
            "Add one and confirm it with a code first, then log in with its code."
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        try:
            wait = throttling.login_wait(self.request, username)
        except throttling.ThrottleUnavailable:
            raise ValidationError(self.error_messages["unavailable"], code="unavailable") from None
        if wait:
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        user = authenticate(self.request, username=username, password=password)
        if user is None or not self._may_enter(user):
            self._fail(username)
        if user_has_device(user, confirmed=True):
            device = self._verified_device(user)
            if device is None:
                self._fail(username)
            # django-otp's user_logged_in receiver reads it and marks the session verified.
            user.otp_device = device  # type: ignore[attr-defined]  # django-otp's attribute, not the model's
        elif stepup_settings.ADMIN_REQUIRE_MFA:
            self._send_failed(username)
            raise ValidationError(self.error_messages["no_factor"], code="no_factor")
        self.user_cache = user
        return self.cleaned_data

    def _may_enter(self, user: _User) -> bool:
        try:
            self.confirm_login_allowed(user)
        except ValidationError:
            return False
        return True

    def _verified_device(self, user: AbstractBaseUser) -> TOTPDevice | None:
        """The TOTP factor that accepts the code, or None (recovery codes do not count here)."""
        code = self.cleaned_data.get("otp_token") or ""
        if not otp.TOTP_CODE.fullmatch(code):
            return None
        result = otp.verify(user, code, request=self.request)
        return result.factor if result.ok else None

    def _send_failed(self, username: str) -> None:
        signals.login_failed.send(
            sender=get_user_model(), identifier=username, email=username, request=self.request
        )

    def _fail(self, username: str) -> NoReturn:
        self._send_failed(username)
        raise self.get_invalid_login_error()


def is_verified(user: object) -> bool:
    """django-otp's verdict on the session (False without ``OTPMiddleware``)."""
    check = getattr(user, "is_verified", None)
    return check is not None and check()


class StepUpAdminSite(OTPAdminSite):
    """django-otp's ``OTPAdminSite`` with :class:`StepUpAdminAuthenticationForm` as its login.

    Only active staff whose session was verified by a device enter. With
    :setting:`ADMIN_REQUIRE_MFA` off, staff who have no confirmed device enter with
    the password alone.
    """

    login_form = StepUpAdminAuthenticationForm
    login_template = "django_stepup/admin/login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def has_permission(self, request: HttpRequest) -> bool:
        if not AdminSite.has_permission(self, request):
            return False
        if is_verified(request.user):
            return True
        return not stepup_settings.ADMIN_REQUIRE_MFA and not user_has_device(
            request.user, confirmed=True
        )
