"""The serializers of the auth API.

Internal: may change without notice.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import serializers

from . import lifetimes, otp, token_store
from .conf import stepup_settings
from .models import AuditEvent, Token, WebAuthnDevice
from .permissions import REACH_FIELDS
from .subnets import normalise_subnets

#: Token lifetimes beyond this are refused as absurd.
MAX_TOKEN_DURATION = timedelta(days=3650)
LOGIN_TOKEN_LIFETIME_FIELDS = ("max_age", "max_unused_period")


def validate_max_unused_period(value):
    """Refuse an idle period shorter than ``LAST_USED_INTERVAL`` (400 naming the field).

    ``last_used`` is written at most once per interval, so a shorter idle period would
    expire a token that is in use.
    """
    interval = stepup_settings.LAST_USED_INTERVAL
    if value is not None and value < interval:
        raise serializers.ValidationError(
            _(
                "Give at least %(seconds)d seconds (LAST_USED_INTERVAL): last use is recorded "
                "only that often, so a shorter idle period would expire a token in use."
            )
            % {"seconds": interval.total_seconds()}
        )
    return value


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``, nothing that merely looks like one ("yes", 1, "on")."""

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid", input=data)


if TYPE_CHECKING:
    from django.db.models import Field

    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


class RejectUnknownFieldsMixin(_SerializerBase):
    """400 naming every key that is not a writable field: mass assignment is visible."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for key in data:
                field = self.fields.get(key)
                if field is None:
                    errors[key] = [_("Unknown field.")]
                elif field.read_only:
                    errors[key] = [_("This field is read-only.")]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictDurationField(serializers.DurationField):
    """A duration in ASCII digits: Django's parser reads Arabic-Indic or full-width "10" as 10 s."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not value.isascii():
            self.fail("invalid", format="[DD] [HH:[MM:]]ss[.uuuuuu]")
        return super().to_internal_value(value)


class PermissionFlagField(StrictBooleanField):
    """``perm_<flag>``: whether the token holds one permission flag (login tokens hold all)."""

    def __init__(self, flag, **kwargs):
        self.flag = flag
        super().__init__(source="*", **kwargs)

    def to_representation(self, token):
        return token.has_permission(self.flag)

    def to_internal_value(self, data):
        return {f"perm_{self.flag}": super().to_internal_value(data)}


class TokenSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """The token object of the HTTP API; ``token`` (the secret) only when just created.

    Writing: ``name``, ``max_age``, ``max_unused_period``, ``allowed_subnets``,
    ``auto_policy`` and the ``perm_*`` flags; any other key is a 400. Creating needs
    ``request`` in the context and issues an API token through
    :func:`~django_stepup.token_store.issue_token` (extra ``save()`` keywords go with
    it); its secret lands in the context so that ``.data`` shows it once. Login tokens
    may only be renamed or have their lifetime shortened. ``max_unused_period`` is at
    least ``LAST_USED_INTERVAL``.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DurationField: StrictDurationField,
    }
    owner = serializers.SerializerMethodField()
    # DRF moves declared fields off the class, so this never hides Serializer.is_valid().
    is_valid = serializers.BooleanField(read_only=True)  # type: ignore[assignment]
    auto_policy = StrictBooleanField(required=False)

    class Meta:
        model = Token
        fields = [
            "id",
            "created",
            "last_used",
            "owner",
            "name",
            "mfa",
            "mfa_at",
            "mfa_method",
            "max_age",
            "max_unused_period",
            "allowed_subnets",
            "auto_policy",
            "is_valid",
        ]
        read_only_fields = [
            "id",
            "created",
            "last_used",
            "owner",
            "mfa",
            "mfa_at",
            "mfa_method",
            "is_valid",
        ]
        extra_kwargs = {
            field: {"min_value": timedelta(0), "max_value": MAX_TOKEN_DURATION}
            for field in LOGIN_TOKEN_LIFETIME_FIELDS
        }

    def get_fields(self):
        fields = super().get_fields()
        for flag in stepup_settings.token_permissions:
            fields[f"perm_{flag}"] = PermissionFlagField(flag, required=False)
        return fields

    def get_owner(self, token) -> str | None:
        return getattr(token.user, get_user_model().get_email_field_name(), None)

    def to_representation(self, token):
        data = super().to_representation(token)
        secret = self.context.get("secret")
        if secret is not None:
            data["token"] = secret
        return data

    def validate_max_unused_period(self, value):
        return validate_max_unused_period(value)

    def validate_allowed_subnets(self, value):
        try:
            return normalise_subnets(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate(self, attrs):
        if self.instance is not None and self.instance.is_login_token:
            self._validate_login_token_change(self.instance, attrs)
        else:
            errors = lifetimes.lifetime_errors(attrs)
            if errors:
                raise serializers.ValidationError(errors)
        return attrs

    @staticmethod
    def _validate_login_token_change(token, attrs):
        errors = {}
        for key, value in attrs.items():
            if key == "name":
                continue
            if key in LOGIN_TOKEN_LIFETIME_FIELDS:
                current = getattr(token, key)
                if (value is None and current is not None) or (
                    value is not None and current is not None and value > current
                ):
                    errors[key] = [_("A login token's lifetime can only be shortened.")]
            else:
                errors[key] = [_("This can't be changed on a login token.")]
        if errors:
            raise serializers.ValidationError(errors)

    @staticmethod
    def requested_flags(validated_data):
        """The flags this write would set to true."""
        return [
            flag
            for flag in stepup_settings.token_permissions
            if validated_data.get(f"perm_{flag}") is True
        ]

    @staticmethod
    def reach(validated_data, *, creating=False):
        """The values of :data:`~django_stepup.permissions.REACH_FIELDS` this write sets;
        creating, omitted fields count with their defaults (a lifetime: the site's cap)."""
        reach = {}
        for name in REACH_FIELDS:
            if name in validated_data:
                reach[name] = validated_data[name]
            elif creating:
                field = cast("Field[Any, Any]", Token._meta.get_field(name))  # a concrete field
                # An omitted lifetime gets the site's cap, if any (see lifetimes.apply_caps).
                reach[name] = lifetimes.caps().get(name, field.get_default())
        return reach

    @staticmethod
    def _pop_flags(validated_data):
        return {
            flag: validated_data.pop(f"perm_{flag}")
            for flag in stepup_settings.token_permissions
            if f"perm_{flag}" in validated_data
        }

    def create(self, validated_data):
        flags = self._pop_flags(validated_data)
        perms = [flag for flag, granted in flags.items() if granted]
        request = self.context["request"]
        token, secret = token_store.issue_token(
            request.user, request=request, perms=perms, **validated_data
        )
        self.context["secret"] = secret
        return token

    def update(self, token, validated_data):
        flags = self._pop_flags(validated_data)
        update_fields = list(validated_data)
        for key, value in validated_data.items():
            setattr(token, key, value)
        if flags and not token.is_login_token:
            perms = [flag for flag in token.perms if flags.get(flag, True)]
            perms += [flag for flag, granted in flags.items() if granted and flag not in perms]
            token.perms = perms
            update_fields.append("perms")
        if update_fields:
            token.save(update_fields=update_fields)
        return token


class StrictCharField(serializers.CharField):
    """A string as given: no coercion of numbers, no trimming."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class LoginSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The user model's ``USERNAME_FIELD`` (``username``, ``email``, …), ``password``, ``code``."""

    password = StrictCharField(max_length=4096)
    code = StrictCharField(max_length=64, required=False)

    @staticmethod
    def username_field():
        return get_user_model().USERNAME_FIELD

    def get_fields(self):
        user_model = get_user_model()
        name = self.username_field()
        max_length = getattr(user_model._meta.get_field(name), "max_length", None) or 254
        return {name: StrictCharField(max_length=max_length), **super().get_fields()}


class TOTPFactorSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """A TOTP factor as listed: never its secret. ``last_used`` is null until it is active."""

    created = serializers.DateTimeField(source="created_at", read_only=True)
    last_used = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True)

    class Meta:
        model = TOTPDevice
        fields = ["id", "name", "created", "last_used"]
        read_only_fields = ["id"]


class NewTOTPFactorSerializer(TOTPFactorSerializer):
    """The factor as created: with ``secret``, ``uri`` and ``qr``, shown this once."""

    secret = serializers.SerializerMethodField()
    uri = serializers.SerializerMethodField()
    qr = serializers.SerializerMethodField()

    class Meta(TOTPFactorSerializer.Meta):
        fields = [*TOTPFactorSerializer.Meta.fields, "secret", "uri", "qr"]

    def get_secret(self, device) -> str:
        return otp.factor_secret(device)

    def get_uri(self, device) -> str:
        return otp.provisioning_uri(device)

    def get_qr(self, device) -> str:
        return otp.qr_svg(otp.provisioning_uri(device))


class WebAuthnFactorSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """A WebAuthn factor as listed: never its key. ``last_used`` is null until an assertion."""

    created = serializers.DateTimeField(source="created_at", read_only=True)
    last_used = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True)

    class Meta:
        model = WebAuthnDevice
        fields = ["id", "name", "created", "last_used"]
        read_only_fields = ["id"]


class CredentialSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """``{"credential": {...}}``: a WebAuthn response in its JSON form (py_webauthn judges it)."""

    credential = serializers.DictField()


class PolicyListSerializer(serializers.ListSerializer):
    """Loads what the dimensions need to show many policies in one query per dimension."""

    child: "PolicySerializer"

    def to_representation(self, data):
        policies = list(data.all() if hasattr(data, "all") else data)
        scope = self.child.scope
        self.child.prefetched = {
            dimension.name: dimension.prefetch(
                [policy.values.get(dimension.name) for policy in policies]
            )
            for dimension in scope.dimensions
        }
        return [self.child.to_representation(policy) for policy in policies]


class PolicySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A policy of the scope in ``context["scope"]``: its dimensions as top-level fields.

    Validated data holds ``values`` (stored form, every dimension), ``perm_write`` and,
    if the scope restricts reads, ``perm_read``. A partial update keeps the dimensions
    it does not name.
    """

    class Meta:
        list_serializer_class = PolicyListSerializer

    prefetched: dict[str, Any] | None = None

    @property
    def scope(self):
        return self.context["scope"]

    def get_fields(self):
        fields: dict[str, serializers.Field] = {"id": serializers.UUIDField(read_only=True)}
        for dimension in self.scope.dimensions:
            fields[dimension.name] = dimension.get_field()
        fields["perm_write"] = StrictBooleanField(required=False, default=False)
        if self.scope.restrict_reads:
            fields["perm_read"] = StrictBooleanField(required=False, default=True)
        return fields

    def to_representation(self, policy):
        prefetched = self.prefetched or {}
        data = {"id": str(policy.id)}
        for dimension in self.scope.dimensions:
            data[dimension.name] = dimension.to_representation(
                policy.values.get(dimension.name), prefetched.get(dimension.name)
            )
        data["perm_write"] = policy.perm_write
        if self.scope.restrict_reads:
            data["perm_read"] = policy.perm_read
        return data

    def validate(self, attrs):
        user = self.context["request"].user
        values = dict(self.instance.values) if self.instance is not None else {}
        errors = {}
        for dimension in self.scope.dimensions:
            if dimension.name in attrs:
                try:
                    values[dimension.name] = dimension.to_stored(attrs[dimension.name], user)
                except serializers.ValidationError as error:
                    errors[dimension.name] = error.detail
            values.setdefault(dimension.name, None)
        if errors:
            raise serializers.ValidationError(errors)
        validated = {"values": {name: values[name] for name in self.scope.dimension_names}}
        validated["perm_write"] = attrs.get(
            "perm_write", self.instance.perm_write if self.instance else False
        )
        validated["perm_read"] = attrs.get(
            "perm_read", self.instance.perm_read if self.instance else True
        )
        return validated


class AuditEventSerializer(serializers.ModelSerializer):
    """One security event of ``GET auth/events/``; ``details`` holds no secret by design."""

    class Meta:
        model = AuditEvent
        fields = ["id", "created", "event", "token_id", "ip_address", "details"]
        read_only_fields = fields


class AuditEventFilterSerializer(serializers.Serializer):
    """The query parameters of ``GET auth/events/``: ``event`` and ``token``, both optional."""

    event = serializers.ChoiceField(choices=AuditEvent.Event.choices, required=False)
    token = serializers.UUIDField(required=False)
