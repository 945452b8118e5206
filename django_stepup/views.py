"""The auth API: login, logout, account, TOTP factors, step-up verification, recovery codes.

The host project includes :mod:`django_stepup.urls` (conventionally under
``auth/``). Every view authenticates with
:class:`~django_stepup.authentication.StepUpTokenAuthentication` only, except
login, which needs no credentials and ignores any ``Authorization`` header.
"""

from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import APIException, ErrorDetail
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import otp, signals, throttling
from .authentication import StepUpTokenAuthentication
from .conf import stepup_settings
from .models import Token, mfa_enabled
from .permissions import IsAPIToken, IsLoginToken, MFARequiredIfEnabled, RecentMFA
from .revocation import purge_expired_login_tokens
from .serializers import (
    LoginSerializer,
    NewTOTPFactorSerializer,
    TokenSerializer,
    TOTPFactorSerializer,
)

NO_STORE = {"Cache-Control": "no-store"}
INVALID_CREDENTIALS = _("Invalid credentials.")
INVALID_CODE = _("Invalid code.")


class CodedAPIException(APIException):
    """An error whose body is ``{"detail": ..., "code": ...}``."""

    def __init__(self, detail=None):
        message = str(detail or self.default_detail)
        self.detail = {
            "detail": ErrorDetail(message, self.default_code),
            "code": self.default_code,
        }


class VerificationLocked(CodedAPIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _(
        "Too many failed verification attempts. Verification is locked until an "
        "administrator resets it."
    )
    default_code = "verification_locked"


class MFANotEnabled(CodedAPIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("Activate a second factor first.")
    default_code = "mfa_not_enabled"


class StepUpTokenView(APIView):
    authentication_classes = [StepUpTokenAuthentication]


def verification_response(result, request):
    """The HTTP answer for an :class:`~django_stepup.otp.Verification`."""
    if result.outcome is otp.Outcome.NOT_FOUND:
        raise exceptions.NotFound
    if result.outcome is otp.Outcome.LOCKED:
        raise VerificationLocked
    if result.outcome is otp.Outcome.THROTTLED:
        raise exceptions.Throttled(wait=result.retry_after)
    if result.outcome is otp.Outcome.INVALID:
        raise exceptions.ValidationError({"code": [INVALID_CODE]})
    return Response(TokenSerializer(request.auth).data)


def submitted_code(request):
    """The raw ``code`` of the body; :func:`django_stepup.otp.verify` judges its format."""
    return request.data.get("code") if isinstance(request.data, dict) else None


# --- Login, logout, account ---


class LoginView(APIView):
    """``POST {"email", "password"[, "code"]}``: a new login token, promoted if a code is given."""

    authentication_classes = []
    permission_classes = []

    def get_authenticate_header(self, request):
        return StepUpTokenAuthentication.keyword

    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        code = serializer.validated_data.get("code")
        wait = throttling.login_wait(request, email)
        if wait:
            raise exceptions.Throttled(wait=wait)
        user = authenticate(
            request,
            **{
                get_user_model().USERNAME_FIELD: email,
                "password": serializer.validated_data["password"],
            },
        )
        if user is None:
            self.fail(request, email)
        with transaction.atomic():
            purge_expired_login_tokens(user)
            token, secret = Token.objects.create_token(
                user,
                mfa=False,
                max_age=stepup_settings.LOGIN_TOKEN_MAX_AGE,
                max_unused_period=stepup_settings.LOGIN_TOKEN_MAX_UNUSED_PERIOD,
            )
        if code is not None and mfa_enabled(user):
            result = otp.verify(user, code, token=token, request=request)
            if not result.ok:
                token.delete()
                self.fail(request, email)
        data = TokenSerializer(token, context={"secret": secret}).data
        return Response(data, headers=NO_STORE)

    def fail(self, request, email):
        signals.login_failed.send(sender=get_user_model(), email=email, request=request)
        raise exceptions.AuthenticationFailed(INVALID_CREDENTIALS)


class LogoutView(StepUpTokenView):
    """``POST``: delete the token that made the request (login or API token)."""

    permission_classes = [IsLoginToken | IsAPIToken]

    def post(self, request):
        token_id = request.auth.pk
        request.auth.delete()
        signals.tokens_revoked.send(
            sender=Token, user=request.user, tokens=[token_id], reason="logout", request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountView(StepUpTokenView):
    """``GET``: ``{"email", "created", "mfa_enabled"}``, for any login token, even unpromoted."""

    permission_classes = [IsAuthenticated, IsLoginToken]

    def get(self, request):
        user = request.user
        created = getattr(user, "date_joined", None) or getattr(user, "created", None)
        return Response(
            {
                "email": getattr(user, get_user_model().get_email_field_name()),
                "created": serializers.DateTimeField().to_representation(created),
                "mfa_enabled": mfa_enabled(user),
            }
        )


# --- TOTP factors and step-up ---


class TOTPFactorListView(StepUpTokenView):
    """``GET``: the user's factors. ``POST {"name"}``: a new, inactive factor with its secret."""

    def get_permissions(self):
        permissions = [IsAuthenticated(), IsLoginToken()]
        if self.request.method == "POST":
            permissions.append(MFARequiredIfEnabled())
        return permissions

    def get(self, request):
        factors = TOTPDevice.objects.filter(user=request.user).order_by("created_at", "pk")
        return Response(TOTPFactorSerializer(factors, many=True).data)

    def post(self, request):
        serializer = TOTPFactorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            factor = otp.create_totp_factor(request.user, serializer.validated_data["name"])
        except otp.FactorLimitReached:
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        _("You already have %(count)d factors, the maximum.")
                        % {"count": stepup_settings.MAX_FACTORS_PER_USER}
                    ]
                }
            ) from None
        data = NewTOTPFactorSerializer(factor).data
        return Response(data, status=status.HTTP_201_CREATED, headers=NO_STORE)


class TOTPFactorDetailView(StepUpTokenView):
    """``DELETE``: remove a factor; needs a recent promotion when the user has MFA."""

    permission_classes = [IsAuthenticated, IsLoginToken, RecentMFA]

    def delete(self, request, pk):
        factor = None
        if pk <= otp.MAX_FACTOR_ID:
            factor = TOTPDevice.objects.filter(user=request.user, pk=pk).first()
        if factor is None:
            raise exceptions.NotFound
        otp.remove_factor(factor, keep_token=request.auth, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TOTPFactorVerifyView(StepUpTokenView):
    """``POST {"code"}``: promote the login token with this factor; activates it if inactive."""

    permission_classes = [IsAuthenticated, IsLoginToken]

    def post(self, request, pk):
        result = otp.verify(
            request.user, submitted_code(request), token=request.auth, factor_id=pk, request=request
        )
        return verification_response(result, request)


class MFAVerifyView(StepUpTokenView):
    """``POST {"code"}``: promote the login token with any active factor or a recovery code."""

    permission_classes = [IsAuthenticated, IsLoginToken]

    def post(self, request):
        result = otp.verify(
            request.user, submitted_code(request), token=request.auth, request=request
        )
        return verification_response(result, request)


class RecoveryCodesView(StepUpTokenView):
    """``POST``: replace the user's recovery codes; the new ones are shown this once."""

    permission_classes = [IsAuthenticated, IsLoginToken, RecentMFA]

    def post(self, request):
        if not mfa_enabled(request.user):
            raise MFANotEnabled
        codes = otp.generate_recovery_codes(request.user, request=request)
        return Response({"codes": codes}, status=status.HTTP_201_CREATED, headers=NO_STORE)
