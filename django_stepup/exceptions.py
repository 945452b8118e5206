"""The exceptions the app raises, for host views that raise or catch them too."""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ErrorDetail

from .authentication import challenge_scheme

__all__ = [
    "INSUFFICIENT_USER_AUTHENTICATION",
    "PHISHING_RESISTANT_ACR",
    "CodedAPIException",
    "Conflict",
    "PhishingResistantMFARequired",
    "StepUpRequired",
]

INSUFFICIENT_USER_AUTHENTICATION = "insufficient_user_authentication"
#: The ``acr_values`` of the challenge that asks for a phishing-resistant factor (RFC 9470).
PHISHING_RESISTANT_ACR = "phr"


class CodedAPIException(APIException):
    """An error whose body is ``{"detail": ..., "code": ...}``, so clients can branch on it."""

    detail: dict[str, Any]

    def __init__(self, detail: str | Promise | None = None, code: str | None = None) -> None:
        code = code or self.default_code
        message = str(detail or self.default_detail)
        self.detail = {"detail": ErrorDetail(message, code), "code": code}


class Conflict(CodedAPIException):
    """409: the request conflicts with stored state (a duplicate, a cap reached)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


class StepUpRequired(APIException):
    """A denial that a second factor would cure: 401 with an RFC 9470 challenge.

    DRF's default exception handler copies ``auth_header`` into
    ``WWW-Authenticate``, so host projects need no custom handler. The challenge's
    scheme is ``scheme`` if a subclass sets it, else the ``keyword`` of the first class
    in ``STEPUP["AUTHENTICATION_CLASSES"]`` (``Token`` by default).
    """

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("This action needs a login token promoted by a second factor.")
    default_code = "mfa_required"
    scheme: str | None = None
    detail: dict[str, Any]

    def __init__(self, detail: str | Promise | None = None, max_age: float | None = None) -> None:
        message = str(detail or self.default_detail)
        self.max_age = max_age
        self.detail = {
            "detail": ErrorDetail(message, self.default_code),
            "code": self.default_code,
        }
        description = message.replace("\\", "\\\\").replace('"', '\\"')
        self.auth_header = (
            f'{self.scheme or challenge_scheme()} error="{INSUFFICIENT_USER_AUTHENTICATION}", '
            f'error_description="{description}"'
        )
        if max_age is not None:
            self.auth_header += f", max_age={int(max_age)}"


class PhishingResistantMFARequired(StepUpRequired):
    """The step-up challenge asking for a phishing-resistant factor: ``acr_values="phr"``."""

    default_detail = _("This action needs a login token promoted by a WebAuthn factor.")
    default_code = "phishing_resistant_mfa_required"

    def __init__(self, detail: str | Promise | None = None, max_age: float | None = None) -> None:
        super().__init__(detail, max_age=max_age)
        self.auth_header += f', acr_values="{PHISHING_RESISTANT_ACR}"'
