"""DRF authentication with step-up tokens.

DRF imports this module by dotted path while settings load, so models are
imported inside the methods that use them.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import tokens
from .conf import stepup_settings
from .subnets import address_allowed

KEYWORDS = (b"token", b"bearer")
INVALID_TOKEN = _("Invalid token.")


class StepUpTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <secret>`` (or ``Bearer``); every failure is the same 401."""

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        try:
            secret = tokens.parse_secret(parts[1].decode("ascii"))
        except UnicodeDecodeError:
            secret = None
        if secret is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return self.authenticate_credentials(secret, request)

    def authenticate_credentials(self, secret, request):
        from .models import Token

        try:
            token = Token.objects.get_for_authentication(tokens.digest(secret))
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN) from None
        now = timezone.now()
        if (
            not token.user.is_active
            or token.is_expired(now)
            or not address_allowed(request.META.get("REMOTE_ADDR"), token.allowed_subnets)
        ):
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        self.touch(token, now)
        return token.user, token

    def touch(self, token, now):
        """Record use at most once per ``LAST_USED_INTERVAL``, as one conditional UPDATE."""
        from django.db.models import Q

        from .models import Token

        threshold = now - stepup_settings.LAST_USED_INTERVAL
        if token.last_used is not None and token.last_used > threshold:
            return
        Token.objects.filter(
            Q(last_used__isnull=True) | Q(last_used__lte=threshold), pk=token.pk
        ).update(last_used=now)
        token.last_used = now

    def authenticate_header(self, request):
        return self.keyword
