"""drf-spectacular support: the token scheme, the app's operations and their error answers.

Loaded by the app's ``ready()`` when drf-spectacular is installed (the ``openapi`` extra);
importing this module registers its extensions, as drf-spectacular documents for
third-party packages. Nothing here runs at request time.

- :class:`StepUpTokenScheme` describes :class:`~django_stepup.authentication.StepUpTokenAuthentication`
  and its subclasses: the ``Authorization`` header with the class's ``keyword``.
- :class:`AutoSchema` (for ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds to every
  operation the errors its view can answer, read from the view itself: ``401`` (invalid
  token, and the RFC 9470 step-up challenge for :class:`~django_stepup.permissions.MFARequiredIfEnabled`
  and :class:`~django_stepup.permissions.RecentMFA`, with its ``max_age``), ``403`` (the
  denying permissions' messages), ``404`` (a path with parameters), ``400`` and ``415``
  (a request body), ``429`` with ``Retry-After`` (throttled views). A permission of
  another package documents its challenge with an ``openapi_step_up(view)`` method
  returning the challenge's parameters (e.g. ``{"acr_values": "phr"}``), or ``None``.
- The app's own views get their request and response bodies and success codes here,
  through :class:`~drf_spectacular.extensions.OpenApiViewExtension`, whatever the host's
  schema class.

Public: :class:`AutoSchema`, :class:`StepUpSchemaMixin`, :class:`StepUpTokenScheme`,
:class:`ErrorSerializer` and :class:`ValidationErrorSerializer`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiViewExtension,
)
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from ..authentication import StepUpTokenAuthentication
from ..exceptions import INSUFFICIENT_USER_AUTHENTICATION, PHISHING_RESISTANT_ACR
from ..permissions import (
    INSUFFICIENT_TOKEN_PERMISSIONS,
    HasTokenPermission,
    MFARequiredIfEnabled,
    PolicyScopedMixin,
    RecentMFA,
)
from ..policies import PolicyScope, get_scopes
from ..serializers import (
    AuditEventSerializer,
    CredentialSerializer,
    NewTOTPFactorSerializer,
    PolicySerializer,
    StrictCharField,
    TokenSerializer,
    TOTPFactorSerializer,
    WebAuthnFactorSerializer,
)

__all__ = [
    "AutoSchema",
    "ErrorSerializer",
    "StepUpSchemaMixin",
    "StepUpTokenScheme",
    "ValidationErrorSerializer",
]

BODY_METHODS = ("POST", "PUT", "PATCH")


# --- Bodies --------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """An error body: ``{"detail": ...}``, with ``code`` for the app's coded errors."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="A stable code to branch on.")


class ValidationErrorSerializer(serializers.Serializer):
    """A 400 body: each refused field names its messages, or ``detail`` for unparsable JSON."""


class ValidationErrorExtension(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "description": "Field names (``non_field_errors`` for the body as a whole) "
            "mapped to their messages, nested for nested fields; a list of such objects "
            "for a list body; ``{detail}`` for a body that is not valid JSON.",
            "oneOf": [
                {"type": "object", "additionalProperties": {}},
                {"type": "array", "items": {}},
            ],
            "example": {"name": ["This field is required."]},
        }


class RejectUnknownFieldsExtension(OpenApiSerializerExtension):
    """Serializers that refuse unknown keys say so: ``additionalProperties: false``.

    Only on request components, hence only with ``COMPONENT_SPLIT_REQUEST`` (else one
    component serves both directions, and responses may carry more, e.g. a new secret).
    """

    target_class = "django_stepup.serializers.RejectUnknownFieldsMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_basic_serializer(self.target, direction)
        # The classes' docstrings are written for this package's developers, not API users.
        schema.pop("description", None)
        if "allowed_subnets" in schema.get("properties", {}):
            schema["properties"]["allowed_subnets"] = {
                "type": "array",
                "items": {"type": "string"},
                "description": "Networks (CIDR) the token may be used from.",
            }
        if direction == "request" and spectacular_settings.COMPONENT_SPLIT_REQUEST:
            schema["additionalProperties"] = False
        return schema


# --- Authentication ------------------------------------------------------------------


class StepUpTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: <keyword> <secret>``, named after the configured class's keyword."""

    target_class = StepUpTokenAuthentication
    match_subclasses = True

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.name = f"{self.target.keyword[:1].lower()}{self.target.keyword[1:]}Auth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        keyword = self.target.keyword
        definition: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=keyword
        )
        definition["description"] = (
            f'A django-stepup token: "Authorization: {keyword} <secret>". A login token '
            "(from login; promoted by a second factor) or an API token (from tokens/)."
        )
        return definition


# --- Error answers read from the view ------------------------------------------------


def _flatten(permissions: Iterable[Any]) -> Iterator[Any]:
    """The permissions, with the operands of DRF's ``&``, ``|`` and ``~`` compositions."""
    for permission in permissions:
        operands = [getattr(permission, name, None) for name in ("op1", "op2")]
        if any(operand is not None for operand in operands):
            yield from _flatten(operand for operand in operands if operand is not None)
        else:
            yield permission


def step_up_challenges(permission: Any, view: APIView) -> list[dict[str, Any]]:
    """The parameters of the step-up challenges this permission can answer with."""
    hook = getattr(permission, "openapi_step_up", None)
    if callable(hook):
        challenge = hook(view)
        return [] if challenge is None else [dict(challenge)]
    if isinstance(permission, RecentMFA):
        return [{"max_age": int(permission.get_max_age(view).total_seconds())}]
    if isinstance(permission, MFARequiredIfEnabled):
        return [{}]
    return []


def denial_message(permission: Any) -> str:
    if isinstance(permission, HasTokenPermission):
        return str(INSUFFICIENT_TOKEN_PERMISSIONS)
    return str(getattr(permission, "message", None) or PermissionDenied.default_detail)


def challenge_text(scheme: str, parameters: dict[str, Any]) -> str:
    text = f'{scheme} error="{INSUFFICIENT_USER_AUTHENTICATION}", error_description="..."'
    for key, value in parameters.items():
        text += f", {key}={value}" if isinstance(value, int) else f', {key}="{value}"'
    return text


class StepUpSchemaMixin:
    """Adds the errors an operation's view can answer to its documented responses.

    Responses the operation declares itself (``@extend_schema(responses=...)``) win.
    """

    view: APIView
    method: str
    path: str

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)  # type: ignore[misc]
        if direction == "response":
            for code, (description, headers) in self.get_error_responses().items():
                if code in responses:
                    continue
                response = self._get_response_for_code(  # type: ignore[attr-defined]
                    self.error_serializer(code), code, direction=direction
                )
                response["description"] = description
                if headers:
                    response.setdefault("headers", {}).update(headers)
                responses[code] = response
        return dict(sorted(responses.items()))

    @staticmethod
    def error_serializer(code: str) -> type[serializers.Serializer]:
        return ValidationErrorSerializer if code == "400" else ErrorSerializer

    def get_error_responses(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """``{status: (description, headers)}`` of the errors the view can answer."""
        view = self.view
        permissions = list(_flatten(view.get_permissions()))
        authenticators = view.get_authenticators()
        open_to_all = not permissions or any(isinstance(p, AllowAny) for p in permissions)
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        if self.method in BODY_METHODS and self.get_request_serializer() is not None:  # type: ignore[attr-defined]
            errors["400"] = ("Invalid input: the refused fields, each with its messages.", {})
            errors["415"] = ("The body is not JSON (Content-Type).", {})
        if authenticators and not open_to_all:
            errors["401"] = self._unauthorized(authenticators, permissions)
        denying = [
            p for p in permissions if not isinstance(p, (AllowAny, IsAuthenticated, RecentMFA))
        ]
        denying = [p for p in denying if type(p) is not MFARequiredIfEnabled]
        if authenticators and denying:
            messages = sorted({denial_message(p) for p in denying})
            errors["403"] = ("Forbidden: " + " / ".join(messages), {})
        if isinstance(view, PolicyScopedMixin) and "403" not in errors:
            errors["403"] = ("Forbidden: the token's policies do not allow this.", {})
        if "{" in self.path:
            errors["404"] = ("Not found (or not yours: the same answer).", {})
        if view.get_throttles():
            errors["429"] = throttled()
        return errors

    def _unauthorized(
        self, authenticators: list[Any], permissions: list[BasePermission]
    ) -> tuple[str, dict[str, Any]]:
        schemes = [
            getattr(a, "keyword", None) or a.authenticate_header(None) for a in authenticators
        ]
        scheme = next((s for s in schemes if s), "Token")
        lines = [
            "No credentials, or an invalid token (unknown, expired, revoked, or "
            "used from outside its allowed subnets)."
        ]
        challenges = [c for p in permissions for c in step_up_challenges(p, self.view)]
        formats = [scheme]
        for parameters in challenges:
            text = challenge_text(scheme, parameters)
            if text not in formats:
                formats.append(text)
                lines.append(step_up_line(parameters))
        header = {
            "WWW-Authenticate": {
                "schema": {"type": "string"},
                "description": "The challenge: " + " | ".join(f"`{f}`" for f in formats),
            }
        }
        return " ".join(lines), header


def step_up_line(parameters: dict[str, Any]) -> str:
    """The 401's description of one step-up challenge."""
    if parameters.get("acr_values") == PHISHING_RESISTANT_ACR:
        text = (
            "Step-up required (RFC 9470, code phishing_resistant_mfa_required): promote "
            "the login token with a WebAuthn factor (webauthn/challenge/, then mfa/verify/ "
            '{"credential"})'
        )
    else:
        text = (
            "Step-up required (RFC 9470, code mfa_required): promote the login "
            "token with a second factor (mfa/verify/)"
        )
    if "max_age" in parameters:
        text += f", no older than max_age={parameters['max_age']} seconds"
    return text + "."


def throttled() -> tuple[str, dict[str, Any]]:
    return (
        "Too many attempts: retry after the given number of seconds.",
        {
            "Retry-After": {
                "schema": {"type": "integer", "minimum": 0},
                "description": "Seconds to wait.",
            }
        },
    )


class AutoSchema(StepUpSchemaMixin, SpectacularAutoSchema):
    """drf-spectacular's ``AutoSchema`` with the errors read from each view.

    ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "django_stepup.contrib.spectacular.AutoSchema"``;
    a host with its own schema class mixes in :class:`StepUpSchemaMixin` first.
    """


def _schema_class() -> type[SpectacularAutoSchema]:
    """The host's schema class, with the mixin if it lacks it (for the app's own views)."""
    configured: object = api_settings.DEFAULT_SCHEMA_CLASS
    base = SpectacularAutoSchema
    if isinstance(configured, type) and issubclass(configured, SpectacularAutoSchema):
        base = configured
    if issubclass(base, StepUpSchemaMixin):
        return base
    return type(f"StepUp{base.__name__}", (StepUpSchemaMixin, base), {})


# --- The app's views -----------------------------------------------------------------


class NewTokenSerializer(TokenSerializer):
    """The token as just created or logged in: with ``token``, the secret, shown this once."""

    token = serializers.CharField(read_only=True, help_text="The secret, shown this once.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class CodeSerializer(serializers.Serializer):
    code = StrictCharField(help_text="A TOTP code or a recovery code.")


class AccountSerializer(serializers.Serializer):
    email = serializers.CharField(allow_null=True)
    created = serializers.DateTimeField(allow_null=True)
    mfa_enabled = serializers.BooleanField()


class RecoveryCodesSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField())


WEBAUTHN_JSON = "WebAuthn Level 3 JSON (binary fields base64url without padding): "


class PasskeyAssertionSerializer(CredentialSerializer):
    credential = serializers.DictField(
        help_text=WEBAUTHN_JSON + "an AuthenticationResponseJSON (credential.toJSON()) for "
        "the options of passkey/challenge/."
    )


class StepUpAssertionSerializer(CredentialSerializer):
    credential = serializers.DictField(
        help_text=WEBAUTHN_JSON + "an AuthenticationResponseJSON (credential.toJSON()) for "
        "the options of webauthn/challenge/."
    )


class RegistrationSerializer(CredentialSerializer):
    credential = serializers.DictField(
        help_text=WEBAUTHN_JSON + "a RegistrationResponseJSON (credential.toJSON()) for the "
        "factor's creation options."
    )


class NewWebAuthnFactorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    options = serializers.DictField(
        help_text=WEBAUTHN_JSON + "PublicKeyCredentialCreationOptionsJSON, for "
        "PublicKeyCredential.parseCreationOptionsFromJSON(); its challenge works once, for "
        "at most 5 minutes."
    )


class RequestOptionsSerializer(serializers.Serializer):
    options = serializers.DictField(
        help_text=WEBAUTHN_JSON + "PublicKeyCredentialRequestOptionsJSON, for "
        "PublicKeyCredential.parseRequestOptionsFromJSON(); its challenge works once, for "
        "at most 5 minutes."
    )


class LeakReportItemSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The string found in public.")
    type = serializers.CharField(required=False, help_text="The scanner's name for its kind.")
    url = serializers.CharField(required=False, help_text="Where it was found.")
    # The metaclass pops declared fields: Field.source and Field.label stay unshadowed.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, help_text="The kind of place (e.g. content)."
    )


class LeakReportAnswerSerializer(serializers.Serializer):
    token_hash = serializers.CharField(help_text="The SHA-256 (hex) of the reported string.")
    token_type = serializers.CharField()
    label = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["true_positive", "false_positive"],
        help_text="true_positive: a live token, now revoked; false_positive: no live token.",
    )


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait.",
)
WWW_AUTHENTICATE = OpenApiParameter(
    "WWW-Authenticate", str, OpenApiParameter.HEADER, response=[401], description="The scheme."
)
NOT_CONFIGURED = _error("webauthn_not_configured: WebAuthn is not configured on this server.")
THROTTLED = _error("Too many attempts: retry after the given number of seconds.")
LOCKED = _error("verification_locked: too many failed attempts; an administrator must reset them.")


def _replace(target: type[APIView], **methods: Any) -> type[APIView]:
    """A subclass of the view with the app's schema class and these declarations."""
    view = type(target.__name__, (target,), {"schema": _schema_class()()})
    return extend_schema_view(**methods)(view)


class _StepUpViewExtension(OpenApiViewExtension):
    match_subclasses = True
    tags = ["auth"]

    def declarations(self) -> dict[str, Any]:
        raise NotImplementedError

    def view_replacement(self) -> type[APIView]:
        return _replace(self.target, **self.declarations())


class LoginViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.LoginView"

    def declarations(self) -> dict[str, Any]:
        from ..serializers import LoginSerializer

        return {
            "post": extend_schema(
                tags=self.tags,
                summary="Log in: a new login token, promoted at once by a valid code or a passkey",
                description="Either the user's credentials (and a code, which promotes the "
                'token at once), or {"credential"}: a passkey assertion for the options of '
                "passkey/challenge/, which answers a token promoted by WebAuthn.",
                request=PolymorphicProxySerializer(
                    component_name="LoginBody",
                    serializers=[LoginSerializer, PasskeyAssertionSerializer],
                    resource_type_field_name=None,
                ),
                responses={
                    200: NewTokenSerializer,
                    401: _error(
                        "Invalid credentials (or code, or passkey): the same answer for all."
                    ),
                    404: NOT_CONFIGURED,
                    429: THROTTLED,
                },
                parameters=[RETRY_AFTER, WWW_AUTHENTICATE],
                auth=[],
            )
        }


class LogoutViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.LogoutView"

    def declarations(self) -> dict[str, Any]:
        return {
            "post": extend_schema(
                tags=self.tags,
                summary="Log out: delete the token that made the request",
                request=None,
                responses={204: OpenApiResponse(description="Deleted.")},
            )
        }


class AccountViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.AccountView"

    def declarations(self) -> dict[str, Any]:
        return {"get": extend_schema(tags=self.tags, responses={200: AccountSerializer})}


class TOTPFactorListViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.TOTPFactorListView"

    def declarations(self) -> dict[str, Any]:
        return {
            "get": extend_schema(
                tags=self.tags,
                summary="The user's TOTP factors",
                responses={200: TOTPFactorSerializer(many=True)},
            ),
            "post": extend_schema(
                tags=self.tags,
                summary="A new, inactive TOTP factor with its secret (shown this once)",
                request=TOTPFactorSerializer,
                responses={201: NewTOTPFactorSerializer},
            ),
        }


class TOTPFactorDetailViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.TOTPFactorDetailView"

    def declarations(self) -> dict[str, Any]:
        return {
            "delete": extend_schema(
                tags=self.tags,
                summary="Remove a TOTP factor",
                responses={204: OpenApiResponse(description="Removed.")},
            )
        }


class TOTPFactorVerifyViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.TOTPFactorVerifyView"

    def declarations(self) -> dict[str, Any]:
        return {
            "post": extend_schema(
                tags=self.tags,
                summary="Promote the login token with this factor (activating it)",
                request=CodeSerializer,
                responses={200: TokenSerializer, 403: LOCKED, 429: THROTTLED},
                parameters=[RETRY_AFTER],
            )
        }


class MFAVerifyViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.MFAVerifyView"

    def declarations(self) -> dict[str, Any]:
        return {
            "post": extend_schema(
                tags=self.tags,
                summary="Promote the login token with any active factor or a recovery code",
                description='Either {"code"} (a TOTP code of any active factor, or a recovery '
                'code) or {"credential"}: a WebAuthn assertion for the options of '
                "webauthn/challenge/ (which promotes the token as phishing-resistant).",
                request=PolymorphicProxySerializer(
                    component_name="MFAVerifyBody",
                    serializers=[CodeSerializer, StepUpAssertionSerializer],
                    resource_type_field_name=None,
                ),
                responses={
                    200: TokenSerializer,
                    403: LOCKED,
                    404: _error(
                        "No active factor; webauthn_not_configured: WebAuthn is not "
                        "configured on this server."
                    ),
                    429: THROTTLED,
                },
                parameters=[RETRY_AFTER],
            )
        }


class RecoveryCodesViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.RecoveryCodesView"

    def declarations(self) -> dict[str, Any]:
        return {
            "post": extend_schema(
                tags=self.tags,
                summary="Replace the recovery codes; the new ones are shown this once",
                request=None,
                responses={201: RecoveryCodesSerializer},
            )
        }


FACTOR_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The factor id.")


class WebAuthnFactorListViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.WebAuthnFactorListView"

    def declarations(self) -> dict[str, Any]:
        return {
            "get": extend_schema(
                tags=self.tags,
                summary="The user's WebAuthn factors",
                responses={200: WebAuthnFactorSerializer(many=True)},
            ),
            "post": extend_schema(
                tags=self.tags,
                summary="A new, pending WebAuthn factor and its creation options",
                request=WebAuthnFactorSerializer,
                responses={201: NewWebAuthnFactorSerializer, 404: NOT_CONFIGURED},
            ),
        }


class WebAuthnFactorDetailViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.WebAuthnFactorDetailView"

    def declarations(self) -> dict[str, Any]:
        return {
            "delete": extend_schema(
                tags=self.tags,
                summary="Remove a WebAuthn factor",
                parameters=[FACTOR_ID],
                responses={204: OpenApiResponse(description="Removed.")},
            )
        }


class WebAuthnFactorVerifyViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.WebAuthnFactorVerifyView"

    def declarations(self) -> dict[str, Any]:
        return {
            "post": extend_schema(
                tags=self.tags,
                summary="Activate the factor with its registration response; promote the token",
                parameters=[FACTOR_ID, RETRY_AFTER],
                request=RegistrationSerializer,
                responses={
                    200: TokenSerializer,
                    403: LOCKED,
                    404: _error(
                        "No such pending factor of this token (or webauthn_not_configured)."
                    ),
                    429: THROTTLED,
                },
            )
        }


class WebAuthnChallengeViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.WebAuthnChallengeView"

    def declarations(self) -> dict[str, Any]:
        return {
            "post": extend_schema(
                tags=self.tags,
                summary="Request options for a WebAuthn step-up of this login token",
                request=None,
                responses={
                    200: RequestOptionsSerializer,
                    403: _error("webauthn_not_enabled: register a WebAuthn factor first."),
                    404: NOT_CONFIGURED,
                },
            )
        }


class PasskeyChallengeViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.PasskeyChallengeView"

    def declarations(self) -> dict[str, Any]:
        return {
            "post": extend_schema(
                tags=self.tags,
                summary="Request options for a passkey login (login {credential})",
                request=None,
                responses={200: RequestOptionsSerializer, 404: NOT_CONFIGURED, 429: THROTTLED},
                parameters=[RETRY_AFTER],
                auth=[],
            )
        }


EVENT_LINK = OpenApiParameter(
    "Link",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description='first, prev and next pages (RFC 8288: <url>; rel="next"), when there are '
    "more events than a page.",
)


class EventListViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.EventListView"

    def declarations(self) -> dict[str, Any]:
        from ..models import AuditEvent

        return {
            "get": extend_schema(
                tags=self.tags,
                summary="The account's security events, newest first",
                parameters=[
                    OpenApiParameter(
                        "event",
                        str,
                        enum=sorted(AuditEvent.Event.values),
                        description="Only events of this kind.",
                    ),
                    OpenApiParameter(
                        "token", OpenApiTypes.UUID, description="Only events of this token."
                    ),
                    EVENT_LINK,
                ],
                responses={
                    200: AuditEventSerializer(many=True),
                    400: OpenApiResponse(
                        ValidationErrorSerializer,
                        description="A filter that is no event name or no UUID.",
                    ),
                    404: _error("Invalid cursor."),
                },
            )
        }

    def view_replacement(self) -> type[APIView]:
        from ..models import AuditEvent

        class EventListView(self.target):  # type: ignore[name-defined]
            def get_queryset(self) -> Any:
                if getattr(self, "swagger_fake_view", False):
                    return AuditEvent.objects.none()
                return super().get_queryset()

        return _replace(EventListView, **self.declarations())


SIGNATURE_HEADERS = [
    OpenApiParameter(
        "Github-Public-Key-Identifier",
        str,
        OpenApiParameter.HEADER,
        description="A key of LEAK_REPORT_PUBLIC_KEYS (with Github-Public-Key-Signature).",
    ),
    OpenApiParameter(
        "Github-Public-Key-Signature",
        str,
        OpenApiParameter.HEADER,
        description="Base64 ECDSA (SHA-256, DER) signature of the raw body by that key.",
    ),
    OpenApiParameter(
        "X-Signature-256",
        str,
        OpenApiParameter.HEADER,
        description="sha256=<hex>: HMAC-SHA256 of the raw body under a LEAK_REPORT_HMAC_SECRETS "
        "secret (instead of the two headers above).",
    ),
]


class LeakReportViewSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.LeakReportView"

    def declarations(self) -> dict[str, Any]:
        return {
            "post": extend_schema(
                tags=self.tags,
                summary="A secret scanner's signed report of leaked secrets",
                description="The secret scanning partner format. Each live token reported "
                "is revoked and its owner told; the answer names each string by its SHA-256.",
                parameters=[
                    *SIGNATURE_HEADERS,
                    OpenApiParameter(
                        "WWW-Authenticate",
                        str,
                        OpenApiParameter.HEADER,
                        response=[401],
                        description="Signature",
                    ),
                    RETRY_AFTER,
                ],
                request=LeakReportItemSerializer(many=True),
                responses={
                    200: LeakReportAnswerSerializer(many=True),
                    400: OpenApiResponse(
                        ValidationErrorSerializer,
                        description="Not a JSON list of at most 1000 objects with a string token.",
                    ),
                    401: _error("No signature, or a signature that does not verify."),
                    413: _error("Over LEAK_REPORT_MAX_BYTES."),
                    429: THROTTLED,
                },
                auth=[],
            )
        }


class TokenViewSetSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.TokenViewSet"

    def declarations(self) -> dict[str, Any]:
        token_id = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The token id.")
        detail: dict[str, Any] = {"tags": self.tags, "parameters": [token_id]}
        return {
            "list": extend_schema(tags=self.tags, summary="The user's tokens"),
            "create": extend_schema(
                tags=self.tags,
                summary="A new API token; its secret is shown this once",
                responses={201: NewTokenSerializer},
            ),
            "retrieve": extend_schema(**detail),
            "update": extend_schema(**detail),
            "partial_update": extend_schema(**detail),
            "destroy": extend_schema(**detail, summary="Delete (revoke) a token"),
        }

    def view_replacement(self) -> type[APIView]:
        from ..models import Token

        class TokenViewSet(self.target):  # type: ignore[name-defined]
            def get_queryset(self) -> Any:
                if getattr(self, "swagger_fake_view", False):
                    return Token.objects.none()
                return super().get_queryset()

        return _replace(TokenViewSet, **self.declarations())


def _component_name(scope: PolicyScope) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", scope.name)) + "Policy"


def policy_serializer(scope: PolicyScope, **kwargs: Any) -> PolicySerializer:
    """A serializer of this scope's policies, named after it for its schema component."""
    name = f"{_component_name(scope)}Serializer"
    if name not in _policy_serializer_classes:
        # One class per name: drf-spectacular tells components apart by their class.
        _policy_serializer_classes[name] = type(name, (PolicySerializer,), {"__module__": __name__})
    return _policy_serializer_classes[name](context={"scope": scope}, **kwargs)


_policy_serializer_classes: dict[str, type[PolicySerializer]] = {}


def policy_body(many: bool = False, partial: bool = False) -> Any:
    scopes = list(get_scopes().values())
    if len(scopes) == 1:
        return policy_serializer(scopes[0], many=many, partial=partial)
    return PolymorphicProxySerializer(
        component_name="Patched" * partial + "Policy",
        serializers=[policy_serializer(scope, partial=partial) for scope in scopes],
        resource_type_field_name=None,
        many=many,
    )


class TokenPolicyViewSetSchema(_StepUpViewExtension):
    target_class = "django_stepup.views.TokenPolicyViewSet"

    def declarations(self) -> dict[str, Any]:
        scopes = sorted(get_scopes())
        parameters = [
            OpenApiParameter("token_id", str, OpenApiParameter.PATH, description="The token id."),
            OpenApiParameter(
                "scope",
                str,
                OpenApiParameter.PATH,
                enum=scopes or None,
                description="A declared policy scope (STEPUP['POLICY_SCOPES']).",
            ),
        ]
        detail = [
            *parameters,
            OpenApiParameter("id", str, OpenApiParameter.PATH, description="The policy id."),
        ]
        conflict = _error("conflict: a policy for these values exists; limit_exceeded: too many.")
        common: dict[str, Any] = {"tags": self.tags}
        if not scopes:
            # No scope is declared: every URL here is a 404.
            actions = ("list", "create", "retrieve", "update", "partial_update", "destroy")
            return {action: extend_schema(exclude=True) for action in actions}
        return {
            "list": extend_schema(
                **common, parameters=parameters, responses={200: policy_body(many=True)}
            ),
            "create": extend_schema(
                **common,
                parameters=parameters,
                request=policy_body(),
                responses={201: policy_body(), 409: conflict},
            ),
            "retrieve": extend_schema(**common, parameters=detail, responses={200: policy_body()}),
            "update": extend_schema(
                **common,
                parameters=detail,
                request=policy_body(),
                responses={200: policy_body(), 409: conflict},
            ),
            "partial_update": extend_schema(
                **common,
                parameters=detail,
                request=policy_body(partial=True),
                responses={200: policy_body(), 409: conflict},
            ),
            "destroy": extend_schema(
                **common,
                parameters=detail,
                responses={
                    204: OpenApiResponse(description="Deleted."),
                    400: OpenApiResponse(
                        ValidationErrorSerializer,
                        description="The default policy stays while the token has others.",
                    ),
                },
            ),
        }

    def view_replacement(self) -> type[APIView]:
        from ..models import TokenPolicy

        class TokenPolicyViewSet(self.target):  # type: ignore[name-defined]
            def get_queryset(self) -> Any:
                if getattr(self, "swagger_fake_view", False):
                    return TokenPolicy.objects.none()
                return super().get_queryset()

        return _replace(TokenPolicyViewSet, **self.declarations())
