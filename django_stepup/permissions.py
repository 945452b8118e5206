"""DRF permission classes for step-up tokens.

``request.auth`` is a :class:`~django_stepup.models.Token` when
:class:`~django_stepup.authentication.StepUpTokenAuthentication` authenticated
the request. Anything else (a session, another authenticator, anonymous) is
denied by every class here: no token is never an API token. ``mfa`` is
tri-state, so every check compares with ``None`` explicitly.

DRF imports this module by dotted path while settings load, so models are imported
inside the functions that use them.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Final, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .conf import stepup_settings
from .exceptions import PHISHING_RESISTANT_ACR, PhishingResistantMFARequired, StepUpRequired

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import QuerySet
    from django.http import HttpRequest
    from rest_framework.generics import GenericAPIView
    from rest_framework.request import Request
    from rest_framework.serializers import BaseSerializer
    from rest_framework.views import APIView

    from .models import Token
    from .policies import Action, PolicyScope, StoredValue

    _GenericAPIViewBase = GenericAPIView[Any]
else:
    _GenericAPIViewBase = object

__all__ = [
    "INSUFFICIENT_TOKEN_PERMISSIONS",
    "REACH_FIELDS",
    "HasTokenPermission",
    "IsAPIToken",
    "IsLoginToken",
    "MFARequiredIfEnabled",
    "PhishingResistantMFA",
    "PhishingResistantMFAIfEnrolled",
    "PolicyScopedMixin",
    "RecentMFA",
    "TokenPolicyPermission",
    "check_policy",
    "check_token_grant",
    "check_token_reach",
    "request_action",
]


class _NoToken(enum.Enum):
    """The marker of a request that carries no step-up token."""

    NO_TOKEN = "no token"


_NO_TOKEN: Final = _NoToken.NO_TOKEN


def _token_mfa(request: Request) -> bool | _NoToken | None:
    """The token's ``mfa`` value, or ``_NO_TOKEN`` when the request has no step-up token."""
    token = getattr(request, "auth", None)
    if token is None or not hasattr(token, "mfa") or not hasattr(token, "digest"):
        return _NO_TOKEN
    return token.mfa


def _auth(request: Request) -> Token:
    """``request.auth`` typed as the step-up token (DRF's stubs type it as DRF's own token)."""
    return cast("Token", request.auth)


def _user_has_mfa(user: AbstractBaseUser | AnonymousUser) -> bool:
    from .models import mfa_enabled

    return mfa_enabled(user)


class IsLoginToken(BasePermission):
    """The request carries a login token (promoted or not)."""

    message = _("This endpoint needs a login token.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        mfa = _token_mfa(request)
        return mfa is not _NO_TOKEN and mfa is not None


class IsAPIToken(BasePermission):
    """The request carries a non-interactive API token."""

    message = _("This endpoint needs an API token.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _token_mfa(request) is None


class MFARequiredIfEnabled(BasePermission):
    """Login tokens of users with MFA must be promoted; API tokens pass (MFA never applies)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
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
    ``RECENT_MFA_MAX_AGE`` setting. ``0`` is honoured, not taken as unset: only a
    promotion at this very instant passes, so every request is challenged.
    """

    max_age: timedelta | None = None

    @classmethod
    def with_max_age(cls, seconds: float) -> type[RecentMFA]:
        if seconds < 0:
            raise ValueError("RecentMFA.with_max_age() needs a max_age of 0 seconds or more.")
        return type(f"RecentMFA{int(seconds)}", (cls,), {"max_age": timedelta(seconds=seconds)})

    def get_max_age(self, view: APIView) -> timedelta:
        max_age = self.max_age
        if max_age is None:
            max_age = getattr(view, "recent_mfa_max_age", None)
        if max_age is None:
            max_age = stepup_settings.RECENT_MFA_MAX_AGE
        if not isinstance(max_age, timedelta):
            max_age = timedelta(seconds=max_age)
        return max_age

    def has_permission(self, request: Request, view: APIView) -> bool:
        mfa = _token_mfa(request)
        if mfa is _NO_TOKEN:
            return False
        if mfa is None or not _user_has_mfa(request.user):
            return True
        max_age = self.get_max_age(view)
        mfa_at = _auth(request).mfa_at
        if mfa is True and mfa_at is not None and timezone.now() - mfa_at <= max_age:
            return True
        raise StepUpRequired(
            _("This action needs a second factor verified in the last %(seconds)d seconds.")
            % {"seconds": max_age.total_seconds()},
            max_age=max_age.total_seconds(),
        )


class PhishingResistantMFA(BasePermission):
    """Only login tokens promoted by a WebAuthn factor (``mfa_method == "webauthn"``) pass.

    Other login tokens get the RFC 9470 challenge with ``acr_values="phr"`` and
    ``"code": "phishing_resistant_mfa_required"``; API tokens, which cannot step up,
    are refused (403). :meth:`with_max_age` also demands a promotion no older than
    ``max_age`` seconds (the challenge then carries ``max_age``).
    """

    message = _("This action needs a login token promoted by a WebAuthn factor.")
    max_age: timedelta | None = None

    @classmethod
    def with_max_age(cls, seconds: float) -> type[PhishingResistantMFA]:
        if seconds < 0:
            raise ValueError(f"{cls.__name__}.with_max_age() needs a max_age of 0 seconds or more.")
        return type(
            f"{cls.__name__}{int(seconds)}", (cls,), {"max_age": timedelta(seconds=seconds)}
        )

    def applies_to_api_tokens(self) -> bool:
        return True

    def applies_to(self, request: Request) -> bool:
        return True

    def openapi_step_up(self, view: APIView) -> dict[str, Any]:
        """The challenge's parameters, for the OpenAPI schema (``contrib.spectacular``)."""
        parameters: dict[str, Any] = {}
        if self.max_age is not None:
            parameters["max_age"] = int(self.max_age.total_seconds())
        parameters["acr_values"] = PHISHING_RESISTANT_ACR
        return parameters

    def has_permission(self, request: Request, view: APIView) -> bool:
        mfa = _token_mfa(request)
        if mfa is _NO_TOKEN:
            return False
        if mfa is None:
            return not self.applies_to_api_tokens()
        token = _auth(request)
        fresh = self.max_age is None or (
            token.mfa_at is not None and timezone.now() - token.mfa_at <= self.max_age
        )
        if mfa is True and token.mfa_method == "webauthn" and fresh:
            return True
        if not self.applies_to(request):
            return True
        raise PhishingResistantMFARequired(
            max_age=None if self.max_age is None else self.max_age.total_seconds()
        )


class PhishingResistantMFAIfEnrolled(PhishingResistantMFA):
    """:class:`PhishingResistantMFA` for users with an active WebAuthn factor only.

    Like :class:`MFARequiredIfEnabled`: API tokens pass, and so do the login tokens of
    users without a WebAuthn factor (TOTP-only users are not locked out; combine with
    :class:`MFARequiredIfEnabled` to still demand their second factor). Deciding that
    costs one query, only for a token not already promoted by WebAuthn.
    """

    def applies_to_api_tokens(self) -> bool:
        return False

    def applies_to(self, request: Request) -> bool:
        from .models import WebAuthnDevice

        return (
            WebAuthnDevice.objects.filter(user=request.user.pk, confirmed=True)
            .exclude(credential_digest=None)
            .exists()
        )


INSUFFICIENT_TOKEN_PERMISSIONS = _("Insufficient token permissions.")


class HasTokenPermission(BasePermission):
    """The token holds one permission flag; use ``HasTokenPermission.for_flag("name")``.

    Login tokens hold every flag; API tokens those they were given.
    """

    flag: str | None = None

    @classmethod
    def for_flag(cls, flag: str) -> type[HasTokenPermission]:
        return type(f"HasTokenPermission_{flag}", (cls,), {"flag": flag})

    def has_permission(self, request: Request, view: APIView) -> bool:
        if self.flag is None:
            raise TypeError("Use HasTokenPermission.for_flag(<flag>) in permission_classes.")
        if _token_mfa(request) is _NO_TOKEN:
            return False
        if _auth(request).has_permission(self.flag):
            return True
        self.message = _("This token lacks the %(flag)s permission.") % {"flag": self.flag}
        return False


def _view_scope(view: object) -> PolicyScope | None:
    from .policies import get_scope

    name = getattr(view, "policy_scope", None)
    if name is None:
        return None
    try:
        return get_scope(name)
    except LookupError as error:
        raise ImproperlyConfigured(f"{type(view).__name__}: {error}") from None


class TokenPolicyPermission(BasePermission):
    """Applies the token's policies for the view's ``policy_scope``.

    Object level: reads pass unless the scope restricts reads; other methods need the
    deciding policy's ``perm_write``. A view without ``policy_scope`` is account-level:
    restricted tokens (tokens with any policy) are refused there.
    """

    message = INSUFFICIENT_TOKEN_PERMISSIONS

    def has_permission(self, request: Request, view: APIView) -> bool:
        from .policies import is_restricted

        if _token_mfa(request) is _NO_TOKEN:
            return False
        return _view_scope(view) is not None or not is_restricted(_auth(request))

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        from .policies import token_allows

        scope = _view_scope(view)
        if scope is None:
            return True
        return token_allows(_auth(request), scope, scope.values_of(obj), request_action(request))


def request_action(request: HttpRequest) -> Action:
    """``READ`` for the safe methods (GET, HEAD, OPTIONS), else ``WRITE``."""
    from .policies import READ, WRITE

    return READ if request.method in SAFE_METHODS else WRITE


def check_policy(
    request: Request,
    scope_name: str,
    obj_or_values: object,
    action: Action | None = None,
) -> None:
    """Raise 403 unless the token's policies allow ``action`` (default: from the method).

    For writes outside a :class:`PolicyScopedMixin` viewset's serializers: pass an object
    (an unsaved instance for what does not exist yet) or a dict of dimension values in
    stored form (e.g. ``{"domain": domain.pk, "subname": "www", "type": "A"}``). Check the
    old and the new values of an update.
    """
    from .policies import get_scope, token_allows

    scope = get_scope(scope_name)
    values = obj_or_values if isinstance(obj_or_values, dict) else scope.values_of(obj_or_values)
    if not token_allows(_auth(request), scope, values, action or request_action(request)):
        raise PermissionDenied(INSUFFICIENT_TOKEN_PERMISSIONS)


class PolicyScopedMixin(_GenericAPIViewBase):
    """Enforces the token's policies in ``policy_scope`` on every action of a viewset.

    Put it first in the bases and name the scope; nothing else is needed::

        class RecordViewSet(PolicyScopedMixin, viewsets.ModelViewSet):
            policy_scope = "rrsets"

    - list (and every lookup): the queryset is narrowed in SQL as
      :class:`~django_stepup.filters.TokenPolicyFilter` does (``restrict_reads``,
      ``policy_filter_action``), unless ``filter_backends`` already lists it;
    - every object :meth:`get_object` returns (retrieve, the old values of an update,
      destroy): :class:`TokenPolicyPermission`'s object check;
    - every ``save()`` of a serializer from :meth:`get_serializer`, before anything is
      written: the instance's old values and the new values, read from the object the
      save would store (the instance, or a new model instance, with the validated data
      and the keyword arguments of ``save()`` applied). So an update can't move an
      object out of scope, and a host's ``perform_create``/``perform_update`` is checked
      whatever it does, as long as it saves through the serializer.

    A denial is ``403 {"detail": "Insufficient token permissions."}``. The checks run
    from :meth:`check_permissions`, :meth:`check_object_permissions`,
    :meth:`filter_queryset` and :meth:`get_serializer`: a host overriding one of those
    must call ``super()``. Writes that bypass the serializer (bulk ORM writes) call
    :meth:`check_policy_object` for each object, e.g. an unsaved instance.

    Dimensions are read as the scope declares them (``Dimension(attribute=...)``), which
    the SQL filter uses too; override :meth:`get_policy_values` for a value an object
    does not carry.
    """

    policy_scope: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        from rest_framework.views import APIView

        mro = cls.__mro__
        if APIView in mro and mro.index(APIView) < mro.index(PolicyScopedMixin):
            raise TypeError(
                f"{cls.__name__}: list PolicyScopedMixin before the view class in its bases, "
                "or the view's methods hide its checks."
            )

    def get_policy_scope(self) -> PolicyScope:
        """The declared scope named by ``policy_scope``; ``ImproperlyConfigured`` if none."""
        scope = _view_scope(self)
        if scope is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__} uses PolicyScopedMixin but declares no policy_scope."
            )
        return scope

    def get_policy_values(
        self, obj: Any, data: Mapping[str, Any] | None = None
    ) -> Mapping[str, StoredValue]:
        """The dimension values of ``obj`` in stored form, for the object checks.

        ``obj`` is a stored object, or on a write the unsaved object the write would
        store; ``data`` is then the validated data merged with ``save()``'s keyword
        arguments (None otherwise). The default reads the scope's dimensions from ``obj``.
        """
        return self.get_policy_scope().values_of(obj)

    def check_policy_object(
        self, obj: Any, action: Action | None = None, data: Mapping[str, Any] | None = None
    ) -> None:
        """Raise 403 unless the token may do ``action`` on ``obj``.

        ``action``: ``READ`` or ``WRITE`` from :mod:`django_stepup.policies`; by default
        the request's (safe methods read). ``data`` is passed on to
        :meth:`get_policy_values`.
        """
        from .policies import token_allows

        scope = self.get_policy_scope()
        token = _auth(self.request)
        allowed = _token_mfa(self.request) is not _NO_TOKEN and token_allows(
            token, scope, self.get_policy_values(obj, data), action or request_action(self.request)
        )
        if not allowed:
            raise PermissionDenied(INSUFFICIENT_TOKEN_PERMISSIONS)

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        self.get_policy_scope()
        permission = TokenPolicyPermission()
        if not permission.has_permission(request, self):
            # DRF takes a lazy message (PermissionDenied does), its stub says str only.
            self.permission_denied(request, message=permission.message)  # type: ignore[arg-type]

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        super().check_object_permissions(request, obj)
        self.check_policy_object(obj, request_action(request))

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        from .filters import TokenPolicyFilter

        queryset = super().filter_queryset(queryset)
        if not any(
            isinstance(backend, type) and issubclass(backend, TokenPolicyFilter)
            for backend in self.filter_backends
        ):
            queryset = TokenPolicyFilter().filter_queryset(self.request, queryset, self)
        return queryset

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer[Any]:
        serializer = super().get_serializer(*args, **kwargs)
        save = serializer.save

        def checked_save(**save_kwargs: Any) -> Any:
            self._check_policy_save(serializer, save_kwargs)
            return save(**save_kwargs)

        serializer.save = checked_save  # type: ignore[method-assign]  # this instance's save only
        return serializer

    def _check_policy_save(
        self, serializer: BaseSerializer[Any], save_kwargs: dict[str, Any]
    ) -> None:
        from rest_framework.serializers import ListSerializer

        from .policies import WRITE

        if isinstance(serializer, ListSerializer):
            if serializer.instance is not None:
                raise ImproperlyConfigured(
                    f"{type(self).__name__}: PolicyScopedMixin can't pair the objects of a "
                    "list update with their new values; call check_policy_object() for each."
                )
            for item in serializer.validated_data:
                data = {**item, **save_kwargs}
                self.check_policy_object(_would_store(serializer.child, None, data), WRITE, data)
            return
        data = {**serializer.validated_data, **save_kwargs}
        if serializer.instance is not None:
            self.check_policy_object(serializer.instance, WRITE)
        self.check_policy_object(_would_store(serializer, serializer.instance, data), WRITE, data)


def _would_store(serializer: object, instance: object, data: dict[str, Any]) -> object:
    """What saving ``data`` would store, unsaved: a copy of ``instance`` (left untouched)
    or a new instance of the serializer's model, with ``data``'s model fields applied."""
    if instance is not None:
        obj = copy.copy(instance)
    else:
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        obj = model() if model is not None else SimpleNamespace()
    if isinstance(obj, models.Model):
        fields = obj._meta.concrete_fields
        names = {field.name for field in fields} | {field.attname for field in fields}
        data = {name: value for name, value in data.items() if name in names}
    for name, value in data.items():
        setattr(obj, name, value)
    return obj


def check_token_grant(
    acting_token: Token, requested_flags: Iterable[str], target: Token | None = None
) -> None:
    """No token grants what it lacks: raise 403 if the acting token lacks a requested flag,
    or if ``target`` (a token to change or delete) holds a flag the acting token lacks.
    """
    from .conf import stepup_settings

    lacking = [flag for flag in requested_flags if not acting_token.has_permission(flag)]
    if lacking:
        raise PermissionDenied(
            {
                f"perm_{flag}": [_("This token can't grant a permission it lacks.")]
                for flag in lacking
            }
        )
    if target is not None and any(
        target.has_permission(flag) and not acting_token.has_permission(flag)
        for flag in stepup_settings.token_permissions
    ):
        raise PermissionDenied(_("This token can't change a token holding permissions it lacks."))


#: The token fields whose reach :func:`check_token_reach` compares.
REACH_FIELDS: tuple[str, ...] = ("allowed_subnets", "max_age", "max_unused_period")


def check_token_reach(acting_token: Token, values: Mapping[str, Any], *, created: datetime) -> None:
    """No token reaches further than the API token that writes it: raise 403 naming each field
    of ``values`` that would give the token written (created at ``created``) wider
    ``allowed_subnets``, a later absolute expiry or a longer ``max_unused_period`` than
    ``acting_token``'s own.

    ``values`` maps fields of :data:`REACH_FIELDS` to the values being written (on create,
    every field, with the model's defaults for omitted ones); None for a duration means
    unbounded. Login tokens act with the account's full authority and are not compared:
    they exist to create long-lived API tokens, and their own lifetime is kept short.
    """
    from .subnets import subnets_outside

    if acting_token.mfa is not None:
        return
    errors = {}
    if "allowed_subnets" in values:
        outside = subnets_outside(values["allowed_subnets"], acting_token.allowed_subnets)
        if outside:
            errors["allowed_subnets"] = [
                _("This token can't allow networks outside its own: %(subnets)s.")
                % {"subnets": ", ".join(outside)}
            ]
    if "max_age" in values and acting_token.max_age is not None:
        max_age = values["max_age"]
        limit = acting_token.created + acting_token.max_age
        if max_age is None or created + max_age > limit:
            errors["max_age"] = [
                _("This token can't give a later expiry than its own (%(limit)s).")
                % {"limit": limit.isoformat()}
            ]
    if "max_unused_period" in values and acting_token.max_unused_period is not None:
        period = values["max_unused_period"]
        if period is None or period > acting_token.max_unused_period:
            errors["max_unused_period"] = [
                _("This token can't give a longer idle period than its own (%(seconds)d s).")
                % {"seconds": acting_token.max_unused_period.total_seconds()}
            ]
    if errors:
        raise PermissionDenied(errors)
