from django.contrib.auth import get_user_model
from rest_framework import serializers

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
