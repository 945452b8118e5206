"""A DRF filter backend narrowing querysets to what the token's policies allow."""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.filters import BaseFilterBackend

from .policies import READ, get_scope, token_q


class TokenPolicyFilter(BaseFilterBackend):
    """Applies the token's policies for the view's ``policy_scope`` as one SQL condition.

    By default it narrows to what the token may read, which changes nothing unless the
    scope restricts reads. A view with ``policy_filter_action = "write"`` lists only what
    the token may write. DRF filters detail lookups too, so there a hidden object is 404.
    Requests without a step-up token see nothing.
    """

    def filter_queryset(self, request, queryset, view):
        scope_name = getattr(view, "policy_scope", None)
        if scope_name is None:
            raise ImproperlyConfigured(
                f"{type(view).__name__} uses TokenPolicyFilter but declares no policy_scope."
            )
        token = getattr(request, "auth", None)
        if token is None or not hasattr(token, "digest"):
            return queryset.none()
        action = getattr(view, "policy_filter_action", READ)
        return queryset.filter(token_q(token, get_scope(scope_name), action))
