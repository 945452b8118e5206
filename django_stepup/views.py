"""The auth API: login (password or passkey), logout, account, TOTP and WebAuthn factors,
step-up verification, recovery codes.

The host project includes :mod:`django_stepup.urls` (conventionally under
``auth/``). Every view authenticates with the classes of
``STEPUP["AUTHENTICATION_CLASSES"]`` (by default
:class:`~django_stepup.authentication.StepUpTokenAuthentication`) only, except
login, which needs no credentials and ignores any ``Authorization`` header.

Internal: may change without notice.
"""

from typing import TYPE_CHECKING, NoReturn, cast

from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import leaks, otp, policy_store, signals, throttling, webauthn_factors
from .authentication import ConfiguredAuthenticationClasses, configured_authentication_classes
from .conf import stepup_settings
from .exceptions import CodedAPIException, StepUpRequired
from .models import AuditEvent, MFAMethod, Token, TokenPolicy, WebAuthnDevice, mfa_enabled
from .pagination import LinkHeaderCursorPagination
from .parsers import JSONParser
from .permissions import (
    HasTokenPermission,
    IsAPIToken,
    IsLoginToken,
    MFARequiredIfEnabled,
    RecentMFA,
    TokenPolicyPermission,
    check_token_grant,
    check_token_reach,
)
from .policies import get_scope
from .revocation import purge_expired_login_tokens, revoke_tokens
from .serializers import (
    AuditEventFilterSerializer,
    AuditEventSerializer,
    CredentialSerializer,
    LoginSerializer,
    NewTOTPFactorSerializer,
    PolicySerializer,
    TokenSerializer,
    TOTPFactorSerializer,
    WebAuthnFactorSerializer,
)

NO_STORE = {"Cache-Control": "no-store"}
INVALID_CREDENTIALS = _("Invalid credentials.")
INVALID_CODE = _("Invalid code.")
INVALID_CREDENTIAL = _("The WebAuthn response was not accepted.")


class WebAuthnNotConfigured(CodedAPIException):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = _("WebAuthn is not configured on this server.")
    default_code = "webauthn_not_configured"


class WebAuthnNotEnabled(CodedAPIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("Register a WebAuthn factor first.")
    default_code = "webauthn_not_enabled"


class VerificationLocked(CodedAPIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _(
        "Too many failed verification attempts. Verification is locked until an "
        "administrator resets it."
    )
    default_code = "verification_locked"


class PayloadTooLarge(CodedAPIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


class MFANotEnabled(CodedAPIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("Activate a second factor first.")
    default_code = "mfa_not_enabled"


if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    _APIViewBase = APIView
    _GenericAPIViewBase = GenericAPIView
else:
    _APIViewBase = _GenericAPIViewBase = object


class StepUpAPIMixin(_APIViewBase):
    """What every view of the app shares: step-up tokens only, JSON bodies only (else 415).

    The authentication classes are ``STEPUP["AUTHENTICATION_CLASSES"]``, read per request.

    The views manage their own transactions and opt out of ``ATOMIC_REQUESTS``: there,
    DRF would roll back an error response's writes, and with them the failure counters
    that the verification lockout and the audit log rely on.
    """

    authentication_classes = ConfiguredAuthenticationClasses()
    parser_classes = [JSONParser]

    def handle_exception(self, exc):
        if isinstance(exc, RequestDataTooBig):
            exc = PayloadTooLarge()  # a JSON 413, not Django's HTML 400
        return super().handle_exception(exc)

    @classmethod
    def as_view(cls, *args, **initkwargs):
        return transaction.non_atomic_requests(super().as_view(*args, **initkwargs))


class StepUpTokenView(StepUpAPIMixin, APIView):
    """An endpoint of the app for requests that carry a step-up token."""


def verification_response(result, request, field="code"):
    """The HTTP answer for an :class:`~django_stepup.otp.Verification`."""
    if result.outcome is otp.Outcome.NOT_FOUND:
        raise exceptions.NotFound
    if result.outcome is otp.Outcome.STEP_UP_REQUIRED:
        raise StepUpRequired(
            _("Activating another factor needs a login token promoted by an active factor.")
        )
    if result.outcome is otp.Outcome.LOCKED:
        raise VerificationLocked
    if result.outcome is otp.Outcome.THROTTLED:
        raise exceptions.Throttled(wait=result.retry_after)
    if result.outcome is otp.Outcome.INVALID:
        message = INVALID_CODE if field == "code" else INVALID_CREDENTIAL
        raise exceptions.ValidationError({field: [message]})
    return Response(TokenSerializer(request.auth).data)


def submitted_credential(request):
    """The ``credential`` object of a body that holds only it (400 naming the field)."""
    serializer = CredentialSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["credential"]


def submitted_code(request):
    """The raw ``code`` of the body; :func:`django_stepup.otp.verify` judges its format."""
    return request.data.get("code") if isinstance(request.data, dict) else None


# --- Login, logout, account ---


class LoginView(StepUpAPIMixin, APIView):
    """``POST {<USERNAME_FIELD>, "password"[, "code"]}``: a new login token, promoted by a code.

    The first field is the user model's ``USERNAME_FIELD``: ``username`` for Django's
    ``User``, ``email`` for a user model that logs in by email.
    """

    authentication_classes = []
    permission_classes = []

    def get_authenticate_header(self, request):
        return configured_authentication_classes()[0]().authenticate_header(request)

    def post(self, request):
        if isinstance(request.data, dict) and "credential" in request.data:
            return self.passkey_login(request)
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username_field = serializer.username_field()
        identifier = serializer.validated_data[username_field]
        code = serializer.validated_data.get("code")
        wait = throttling.login_wait(request, identifier)
        if wait:
            raise exceptions.Throttled(wait=wait)
        user = authenticate(
            request,
            **{username_field: identifier, "password": serializer.validated_data["password"]},
        )
        if user is None:
            self.fail(request, identifier)
        with transaction.atomic():
            purge_expired_login_tokens(user)
            token, secret = Token.objects.create_token(
                user,
                mfa=False,
                max_age=stepup_settings.LOGIN_TOKEN_MAX_AGE,
                max_unused_period=stepup_settings.LOGIN_TOKEN_MAX_UNUSED_PERIOD,
            )
            verified = (
                code is None
                or not mfa_enabled(user)
                or otp.verify(user, code, token=token, request=request).ok
            )
            if verified:
                signals.login_succeeded.send(sender=Token, user=user, token=token, request=request)
            else:
                # Committed with the failure counter and its audit row; then the 401.
                token.delete()
        if not verified:
            self.fail(request, identifier)
        data = TokenSerializer(token, context={"secret": secret}).data
        return Response(data, headers=NO_STORE)

    def passkey_login(self, request):
        """``POST {"credential"}``: a passkey assertion; a login token promoted by WebAuthn."""
        credential = submitted_credential(request)
        try:
            identifier = webauthn_factors.passkey_account(credential)
        except webauthn_factors.NotConfigured:
            raise WebAuthnNotConfigured from None
        if identifier is None:
            # No such passkey: the address counts, under an account no one has.
            identifier = webauthn_factors.UNKNOWN_PASSKEY_ACCOUNT
        wait = throttling.login_wait(request, identifier)
        if wait:
            raise exceptions.Throttled(wait=wait)
        with transaction.atomic():
            result = webauthn_factors.verify_passkey_login(credential, request=request)
            if result.user is not None:
                user = result.user
                purge_expired_login_tokens(user)
                token, secret = Token.objects.create_token(
                    user,
                    mfa=True,
                    mfa_at=timezone.now(),
                    mfa_method=MFAMethod.WEBAUTHN,
                    max_age=stepup_settings.LOGIN_TOKEN_MAX_AGE,
                    max_unused_period=stepup_settings.LOGIN_TOKEN_MAX_UNUSED_PERIOD,
                )
                signals.login_succeeded.send(sender=Token, user=user, token=token, request=request)
        if result.user is None:
            self.fail(request, identifier)
        data = TokenSerializer(token, context={"secret": secret}).data
        return Response(data, headers=NO_STORE)

    def fail(self, request, identifier) -> NoReturn:
        # ``email`` is the same value under its old name, for receivers written before.
        signals.login_failed.send(
            sender=get_user_model(), identifier=identifier, email=identifier, request=request
        )
        raise exceptions.AuthenticationFailed(INVALID_CREDENTIALS)


class LogoutView(StepUpTokenView):
    """``POST``: delete the token that made the request (login or API token)."""

    permission_classes = [IsLoginToken | IsAPIToken]

    def post(self, request):
        revoke_tokens(
            Token.objects.filter(pk=request.auth.pk),
            reason="logout",
            request=request,
            user=request.user,
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
                "created": created and serializers.DateTimeField().to_representation(created),
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


class FactorDetailView(StepUpTokenView):
    """``DELETE``: remove one of the user's factors of ``device_model`` (a credential change);
    needs a recent promotion when the user has MFA."""

    permission_classes = [IsAuthenticated, IsLoginToken, RecentMFA]
    device_model: type[Device]

    def delete(self, request, pk):
        factor = None
        if pk <= otp.MAX_FACTOR_ID:
            factor = self.device_model.objects.filter(user=request.user, pk=pk).first()
        if factor is None:
            raise exceptions.NotFound
        otp.remove_factor(factor, keep_token=request.auth, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TOTPFactorDetailView(FactorDetailView):
    """``DELETE``: remove a TOTP factor."""

    device_model = TOTPDevice


class TOTPFactorVerifyView(StepUpTokenView):
    """``POST {"code"}``: promote the login token with this factor; activates it if inactive."""

    permission_classes = [IsAuthenticated, IsLoginToken]

    def post(self, request, pk):
        result = otp.verify(
            request.user, submitted_code(request), token=request.auth, factor_id=pk, request=request
        )
        return verification_response(result, request)


class MFAVerifyView(StepUpTokenView):
    """``POST {"code"}`` (any active TOTP factor or a recovery code) or ``POST {"credential"}``
    (a WebAuthn assertion for a challenge of ``auth/webauthn/challenge/``): promote the token."""

    permission_classes = [IsAuthenticated, IsLoginToken]

    def post(self, request):
        if isinstance(request.data, dict) and "credential" in request.data:
            credential = submitted_credential(request)
            try:
                result = webauthn_factors.verify_step_up(
                    request.user, credential, token=request.auth, request=request
                )
            except webauthn_factors.NotConfigured:
                raise WebAuthnNotConfigured from None
            return verification_response(result, request, field="credential")
        result = otp.verify(
            request.user, submitted_code(request), token=request.auth, request=request
        )
        return verification_response(result, request)


# --- WebAuthn factors, step-up challenges and passkey login ---


class WebAuthnFactorListView(StepUpTokenView):
    """``GET``: the user's WebAuthn factors. ``POST {"name"}``: a pending one, its options."""

    def get_permissions(self):
        permissions = [IsAuthenticated(), IsLoginToken()]
        if self.request.method == "POST":
            permissions.append(MFARequiredIfEnabled())
        return permissions

    def get(self, request):
        factors = WebAuthnDevice.objects.filter(user=request.user).order_by("created_at", "pk")
        return Response(WebAuthnFactorSerializer(factors, many=True).data)

    def post(self, request):
        serializer = WebAuthnFactorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            factor, options = webauthn_factors.begin_registration(
                request.user, serializer.validated_data["name"], token=request.auth
            )
        except webauthn_factors.NotConfigured:
            raise WebAuthnNotConfigured from None
        except otp.FactorLimitReached:
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        _("You already have %(count)d factors, the maximum.")
                        % {"count": stepup_settings.MAX_FACTORS_PER_USER}
                    ]
                }
            ) from None
        return Response(
            {"id": factor.pk, "name": factor.name, "options": options},
            status=status.HTTP_201_CREATED,
            headers=NO_STORE,
        )


class WebAuthnFactorDetailView(FactorDetailView):
    """``DELETE``: remove a WebAuthn factor."""

    device_model = WebAuthnDevice


class WebAuthnFactorVerifyView(StepUpTokenView):
    """``POST {"credential"}``: the registration response; activates the factor, promotes."""

    permission_classes = [IsAuthenticated, IsLoginToken]

    def post(self, request, pk):
        credential = submitted_credential(request)
        try:
            result = webauthn_factors.finish_registration(
                request.user, pk, credential, token=request.auth, request=request
            )
        except webauthn_factors.NotConfigured:
            raise WebAuthnNotConfigured from None
        return verification_response(result, request, field="credential")


class WebAuthnChallengeView(StepUpTokenView):
    """``POST``: request options for a WebAuthn step-up of this login token."""

    permission_classes = [IsAuthenticated, IsLoginToken]

    def post(self, request):
        try:
            options = webauthn_factors.begin_step_up(request.user, request.auth)
        except webauthn_factors.NotConfigured:
            raise WebAuthnNotConfigured from None
        except webauthn_factors.NoWebAuthnFactor:
            raise WebAuthnNotEnabled from None
        return Response({"options": options}, headers=NO_STORE)


class PasskeyChallengeView(StepUpAPIMixin, APIView):
    """``POST``: request options for a passkey login (anyone; throttled like login)."""

    authentication_classes = []
    permission_classes = []

    def post(self, request):
        wait = throttling.login_wait(request, webauthn_factors.challenge_account(request))
        if wait:
            raise exceptions.Throttled(wait=wait)
        try:
            options = webauthn_factors.begin_passkey_login()
        except webauthn_factors.NotConfigured:
            raise WebAuthnNotConfigured from None
        return Response({"options": options}, headers=NO_STORE)


class RecoveryCodesView(StepUpTokenView):
    """``POST``: replace the user's recovery codes; the new ones are shown this once."""

    permission_classes = [IsAuthenticated, IsLoginToken, RecentMFA]

    def post(self, request):
        if not mfa_enabled(request.user):
            raise MFANotEnabled
        codes = otp.generate_recovery_codes(request.user, request=request)
        return Response({"codes": codes}, status=status.HTTP_201_CREATED, headers=NO_STORE)


# -- Token management and token policies ------------------------------------------------
#
# Guards, in order: a step-up token; MFA if the user has it (login tokens); the
# manage_tokens flag (login tokens hold it); and, as these views declare no policy
# scope, no restricted token. Only the requesting user's tokens exist here: another
# user's token or policy is the same 404 as a missing one.

TOKEN_MANAGEMENT_PERMISSIONS: list[type[BasePermission]] = [
    IsAuthenticated,
    MFARequiredIfEnabled,
    HasTokenPermission.for_flag("manage_tokens"),
    TokenPolicyPermission,
]


#: The token fields whose change sends ``token_changed`` (the flags are ``perms``).
CHANGE_AUDITED_FIELDS = (
    "name",
    "max_age",
    "max_unused_period",
    "allowed_subnets",
    "perms",
    "auto_policy",
)


def _get_or_404(queryset, **lookup):
    """One 404 body for a missing, foreign or malformed id: no existence oracle."""
    try:
        return get_object_or_404(queryset, **lookup)
    except Http404:
        raise NotFound() from None


class SameNotFoundMixin(_GenericAPIViewBase):
    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound() from None


class EventListView(StepUpAPIMixin, GenericAPIView):
    """``GET auth/events/``: the account's own security events, newest first.

    Pages of at most 100 events (cursor pagination, ``Link`` headers); ``?event=`` and
    ``?token=`` narrow the list (a value that is no event name or no UUID is ``400``).
    Guarded like token management: MFA when the user has it, ``perm_manage_tokens``,
    and no restricted token.
    """

    serializer_class = AuditEventSerializer
    permission_classes = TOKEN_MANAGEMENT_PERMISSIONS
    pagination_class = LinkHeaderCursorPagination

    def get_queryset(self):
        filters = AuditEventFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = AuditEvent.objects.filter(user=self.request.user.pk)
        if "event" in filters.validated_data:
            queryset = queryset.filter(event=filters.validated_data["event"])
        if "token" in filters.validated_data:
            queryset = queryset.filter(token_id=filters.validated_data["token"])
        return queryset

    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class TokenViewSet(StepUpAPIMixin, SameNotFoundMixin, viewsets.ModelViewSet):
    """``auth/tokens/`` and ``auth/tokens/{id}/``."""

    serializer_class = TokenSerializer
    permission_classes = TOKEN_MANAGEMENT_PERMISSIONS
    pagination_class = None

    def get_queryset(self):
        return Token.objects.filter(user=self.request.user.pk).select_related("user")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Typed as TokenSerializer only here: to mypy its is_valid field hides the method.
        token_serializer = cast(TokenSerializer, serializer)
        check_token_grant(request.auth, token_serializer.requested_flags(serializer.validated_data))
        now = timezone.now()
        check_token_reach(
            request.auth,
            token_serializer.reach(serializer.validated_data, creating=True),
            created=now,
        )
        serializer.save(created=now)
        return Response(
            serializer.data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"}
        )

    def perform_update(self, serializer):
        token = serializer.instance
        acting_token = cast(Token, self.request.auth)
        check_token_grant(
            acting_token, serializer.requested_flags(serializer.validated_data), target=token
        )
        check_token_reach(
            acting_token, serializer.reach(serializer.validated_data), created=token.created
        )
        with transaction.atomic():
            policy_store.lock_token(token)
            before = {name: getattr(token, name) for name in CHANGE_AUDITED_FIELDS}
            serializer.save()
            if serializer.validated_data.get("auto_policy"):
                policy_store.ensure_restrictive_defaults(token)
            changed = sorted(
                name for name, value in before.items() if getattr(token, name) != value
            )
            if changed:
                signals.token_changed.send(
                    sender=Token,
                    user=token.user,
                    token=token,
                    fields=changed,
                    request=self.request,
                )

    def perform_destroy(self, token):
        check_token_grant(cast(Token, self.request.auth), [], target=token)
        revoke_tokens(
            Token.objects.filter(pk=token.pk),
            reason="deleted",
            request=self.request,
            user=cast("AbstractBaseUser", self.request.user),  # IsAuthenticated: not anonymous
        )


class TokenPolicyViewSet(StepUpAPIMixin, SameNotFoundMixin, viewsets.GenericViewSet):
    """``auth/tokens/{id}/policies/<scope>/`` and ``…/{pid}/`` for every declared scope."""

    serializer_class = PolicySerializer
    permission_classes = TOKEN_MANAGEMENT_PERMISSIONS
    pagination_class = None

    def get_policy_scope(self):
        try:
            return get_scope(self.kwargs["scope"])
        except LookupError:
            raise NotFound() from None

    def get_token(self):
        if not hasattr(self, "_token"):
            self._token = _get_or_404(
                Token.objects.filter(user=self.request.user.pk), pk=self.kwargs["token_id"]
            )
        return self._token

    def get_queryset(self):
        return TokenPolicy.objects.filter(
            token=self.get_token(), scope=self.get_policy_scope().name
        ).select_related("token")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "scope": self.get_policy_scope()}

    def list(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_queryset(), many=True)
        return Response(serializer.data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request, *args, **kwargs):
        scope = self.get_policy_scope()
        token = self.get_token()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_token_grant(request.auth, [], target=token)
        policy = policy_store.create_policy(token, scope, **serializer.validated_data)
        return Response(self.get_serializer(policy).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        policy = self.get_object()
        serializer = self.get_serializer(policy, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        check_token_grant(request.auth, [], target=policy.token)
        policy_store.update_policy(policy, self.get_policy_scope(), **serializer.validated_data)
        return Response(self.get_serializer(policy).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        policy = self.get_object()
        check_token_grant(request.auth, [], target=policy.token)
        policy_store.delete_policy(policy)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- Leaked-secret reports from secret scanners -------------------------------------------

#: The most strings one report may carry.
MAX_LEAK_REPORT_ITEMS = 1000


class LeakReportView(StepUpAPIMixin, APIView):
    """``POST``: a secret scanner's signed report of leaked secrets (see :mod:`~django_stepup.leaks`).

    Throttled per client address (``LEAK_REPORT_RATE``) before anything else; a body over
    ``LEAK_REPORT_MAX_BYTES`` is ``413``; an unsigned or badly signed one ``401`` (nothing
    is parsed or revealed); a body that is no list of ``{"token": "…", …}`` is ``400``.
    """

    authentication_classes = []
    permission_classes = []

    def post(self, request):
        address = request.META.get("REMOTE_ADDR") or ""
        wait = throttling.hit("leak-report", address, stepup_settings.LEAK_REPORT_RATE)
        if wait:
            raise exceptions.Throttled(wait=wait)
        limit = stepup_settings.LEAK_REPORT_MAX_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return self.too_large(limit)
        body = request.body
        if len(body) > limit:
            return self.too_large(limit)
        if not leaks.signature_valid(body, request.META):
            return Response(
                {"detail": _("Invalid signature.")},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Signature"},
            )
        items = self.parse(body)
        return Response(leaks.process_report(items, request=request))

    @staticmethod
    def too_large(limit):
        return Response(
            {"detail": _("A report may hold at most %(limit)d bytes.") % {"limit": limit}},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )

    @staticmethod
    def parse(body):
        import json

        try:
            items = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            items = None
        if (
            not isinstance(items, list)
            or len(items) > MAX_LEAK_REPORT_ITEMS
            or not all(
                isinstance(item, dict) and isinstance(item.get("token"), str) for item in items
            )
        ):
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        _(
                            "Expected a JSON list of at most %(count)d objects, each with a "
                            'string "token".'
                        )
                        % {"count": MAX_LEAK_REPORT_ITEMS}
                    ]
                }
            )
        return items
