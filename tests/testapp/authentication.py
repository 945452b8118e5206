"""A host's subclass of the app's authentication, configured through STEPUP in tests."""

from django_stepup.authentication import StepUpTokenAuthentication


class BearerAuthentication(StepUpTokenAuthentication):
    """Accepts ``Authorization: Bearer <secret>`` only, and challenges with ``Bearer``."""

    keyword = "Bearer"


class ApiKeyAuthentication(StepUpTokenAuthentication):
    """Accepts two schemes of its own and challenges with the first."""

    keyword = "ApiKey"
    keywords = ("ApiKey", "X-Token")


class NotStepUp:
    """Not an authentication class of the app (for the system check)."""


class BadKeywordAuthentication(StepUpTokenAuthentication):
    keyword = "Token"
    keywords = ("Bearer",)
