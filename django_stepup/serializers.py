from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import serializers

from . import otp
from .conf import stepup_settings
from .models import Token


class PermissionFlagField(serializers.BooleanField):
    """``perm_<flag>``: whether the token holds one permission flag (login tokens hold all)."""

    def __init__(self, flag, **kwargs):
        self.flag = flag
        super().__init__(source="*", **kwargs)

    def to_representation(self, token):
        return token.has_permission(self.flag)

    def to_internal_value(self, data):
        return {f"perm_{self.flag}": super().to_internal_value(data)}


class TokenSerializer(serializers.ModelSerializer):
    """The token object of the HTTP API; ``token`` (the secret) only when just created."""

    owner = serializers.SerializerMethodField()
    is_valid = serializers.BooleanField(read_only=True)

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
            "max_age",
            "max_unused_period",
            "allowed_subnets",
            "auto_policy",
            "is_valid",
        ]
        read_only_fields = ["id", "created", "last_used", "owner", "mfa", "mfa_at", "is_valid"]

    def get_fields(self):
        fields = super().get_fields()
        for flag in stepup_settings.token_permissions:
            fields[f"perm_{flag}"] = PermissionFlagField(flag, required=False)
        return fields

    def get_owner(self, token):
        return getattr(token.user, get_user_model().get_email_field_name(), None)

    def to_representation(self, token):
        data = super().to_representation(token)
        secret = self.context.get("secret")
        if secret is not None:
            data["token"] = secret
        return data


class StrictSerializerMixin:
    """Reject fields the serializer does not declare, naming them, instead of ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A string as given: no coercion of numbers, no trimming."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class LoginSerializer(StrictSerializerMixin, serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=4096)
    code = StrictCharField(max_length=64, required=False)


class TOTPFactorSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A TOTP factor as listed: never its secret. ``last_used`` is null until it is active."""

    created = serializers.DateTimeField(source="created_at", read_only=True)
    last_used = serializers.DateTimeField(source="last_used_at", read_only=True)

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

    def get_secret(self, device):
        return otp.factor_secret(device)

    def get_uri(self, device):
        return otp.provisioning_uri(device)

    def get_qr(self, device):
        return otp.qr_svg(otp.provisioning_uri(device))
