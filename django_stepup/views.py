"""HTTP endpoints of django_stepup."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from . import policy_store, signals
from .conf import stepup_settings
from .models import Token, TokenPolicy
from .permissions import (
    HasTokenPermission,
    MFARequiredIfEnabled,
    TokenPolicyPermission,
    check_token_grant,
)
from .policies import get_scope
from .serializers import PolicySerializer, TokenSerializer

# -- Token management and token policies ------------------------------------------------
#
# Guards, in order: a step-up token; MFA if the user has it (login tokens); the
# manage_tokens flag (login tokens hold it); and, as these views declare no policy
# scope, no restricted token. Only the requesting user's tokens exist here: another
# user's token or policy is the same 404 as a missing one.

TOKEN_MANAGEMENT_PERMISSIONS = [
    IsAuthenticated,
    MFARequiredIfEnabled,
    HasTokenPermission.for_flag("manage_tokens"),
    TokenPolicyPermission,
]
TOO_MANY_TOKENS = _("This account has reached the maximum number of tokens.")


def _get_or_404(queryset, **lookup):
    """One 404 body for a missing, foreign or malformed id: no existence oracle."""
    try:
        return get_object_or_404(queryset, **lookup)
    except Http404:
        raise NotFound() from None


class SameNotFoundMixin:
    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound() from None


class TokenViewSet(SameNotFoundMixin, viewsets.ModelViewSet):
    """``auth/tokens/`` and ``auth/tokens/{id}/``."""

    serializer_class = TokenSerializer
    permission_classes = TOKEN_MANAGEMENT_PERMISSIONS
    pagination_class = None

    def get_queryset(self):
        return Token.objects.filter(user=self.request.user).select_related("user")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_token_grant(request.auth, serializer.requested_flags(serializer.validated_data))
        with transaction.atomic():
            get_user_model().objects.select_for_update().filter(pk=request.user.pk).first()
            if Token.objects.filter(user=request.user).count() >= (
                stepup_settings.MAX_TOKENS_PER_USER
            ):
                raise policy_store.Conflict(TOO_MANY_TOKENS, code="limit_exceeded")
            token = serializer.save()
            if token.auto_policy:
                policy_store.ensure_restrictive_defaults(token)
        signals.token_created.send(sender=Token, user=request.user, token=token, request=request)
        return Response(
            serializer.data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"}
        )

    def perform_update(self, serializer):
        token = serializer.instance
        check_token_grant(
            self.request.auth, serializer.requested_flags(serializer.validated_data), target=token
        )
        with transaction.atomic():
            policy_store.lock_token(token)
            serializer.save()
            if serializer.validated_data.get("auto_policy"):
                policy_store.ensure_restrictive_defaults(token)

    def perform_destroy(self, token):
        check_token_grant(self.request.auth, [], target=token)
        token_id = token.pk
        token.delete()
        signals.tokens_revoked.send(
            sender=Token,
            user=self.request.user,
            tokens=[token_id],
            reason="deleted",
            request=self.request,
        )


class TokenPolicyViewSet(SameNotFoundMixin, viewsets.GenericViewSet):
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
                Token.objects.filter(user=self.request.user), pk=self.kwargs["token_id"]
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
