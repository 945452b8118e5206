"""A DRF filter backend narrowing querysets to what the token's policies allow."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework.filters import BaseFilterBackend

from .policies import READ, get_scope, token_q

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

__all__ = ["TokenPolicyFilter"]

_M = TypeVar("_M", bound=Model)
_Row = TypeVar("_Row")


class TokenPolicyFilter(BaseFilterBackend):
    """Applies the token's policies for the view's ``policy_scope`` as one SQL condition.

    By default it narrows to what the token may read, which changes nothing unless the
    scope restricts reads. A view with ``policy_filter_action = "write"`` lists only what
    the token may write. DRF filters detail lookups too, so there a hidden object is 404.
    Requests without a step-up token see nothing.
    """

    def filter_queryset(
        self, request: Request, queryset: QuerySet[_M, _Row], view: APIView
    ) -> QuerySet[_M, _Row]:
        scope_name = getattr(view, "policy_scope", None)
        if scope_name is None:
            raise ImproperlyConfigured(
                f"{type(view).__name__} uses TokenPolicyFilter but declares no policy_scope."
            )
        token = getattr(request, "auth", None)
        if token is None or not hasattr(token, "digest"):
            return queryset.none()
        action: str = getattr(view, "policy_filter_action", READ)
        return queryset.filter(token_q(token, get_scope(scope_name), action))
